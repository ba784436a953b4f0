// The API-server double evaluates CRD x-kubernetes-validations rules (CEL) like
// apiextensions-apiserver: `self` at the rule's node, transition rules with `oldSelf` only on
// update, message / messageExpression / fieldPath / reason, 422 Invalid with the real cause
// shape; a rule that does not compile fails the CRD at load.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ApiServerDouble } from './api-server-double.js';
import { crdResources } from './double/resources.js';

const crd = (specRules: unknown[], bundleIdRules: unknown[] = [{ rule: 'self == oldSelf', message: 'bundleId is immutable' }]) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                'x-kubernetes-validations': specRules,
                properties: {
                  bundleId: { type: 'string', 'x-kubernetes-validations': bundleIdRules },
                  minReplicas: { type: 'integer' },
                  maxReplicas: { type: 'integer' },
                  mode: { type: 'string', 'x-kubernetes-validations': [{ rule: "self != 'root'", message: 'mode root is not allowed', reason: 'FieldValueForbidden' }] },
                  routes: {
                    type: 'array',
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-list-map-keys': ['name'],
                    items: {
                      type: 'object',
                      required: ['name'],
                      properties: { name: { type: 'string' }, weight: { type: 'integer' } },
                      'x-kubernetes-validations': [
                        { rule: '!has(self.weight) || self.weight >= 0', message: 'weight must not be negative', fieldPath: '.weight' },
                        { rule: '!has(oldSelf.weight) || !has(self.weight) || self.weight >= oldSelf.weight', message: 'weight may only grow' },
                      ],
                    },
                  },
                },
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
});

const SPEC_RULES = [{ rule: '!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas', messageExpression: "'minReplicas ' + string(self.minReplicas) + ' exceeds maxReplicas ' + string(self.maxReplicas)" }];

describe('API-server double: CRD validation rules (CEL)', () => {
  let dir: string;
  let d: ApiServerDouble;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'helm-cel-'));
    writeFileSync(join(dir, 'widgets.yaml'), stringify(crd(SPEC_RULES)));
    d = await ApiServerDouble.start({ crdDir: dir });
  });
  afterAll(async () => {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = `/apis/example.com/v1/namespaces/default/widgets`;
  const call = async (method: string, path: string, body: unknown, contentType = 'application/json') => {
    const r = await fetch(`${d.url}${path}`, { method, headers: { authorization: 'Bearer double-token', 'content-type': contentType }, body: JSON.stringify(body) });
    return { code: r.status, body: (await r.json()) as Record<string, unknown> & { details?: { causes?: unknown[] }; metadata?: { resourceVersion?: string } } };
  };
  const widget = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name }, spec });

  it('a valid object is created; a failing rule is 422 Invalid with the messageExpression and the field', async () => {
    expect((await call('POST', base, widget('ok', { bundleId: 'a', minReplicas: 1, maxReplicas: 2 }))).code).toBe(201);
    const bad = await call('POST', base, widget('bad', { bundleId: 'a', minReplicas: 5, maxReplicas: 2 }));
    expect(bad.code).toBe(422);
    expect(bad.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Invalid',
      code: 422,
      message: 'Widget.example.com "bad" is invalid: spec: Invalid value: "object": minReplicas 5 exceeds maxReplicas 2',
      details: { name: 'bad', group: 'example.com', kind: 'Widget', causes: [{ reason: 'FieldValueInvalid', field: 'spec', message: 'Invalid value: "object": minReplicas 5 exceeds maxReplicas 2' }] },
    });
  });

  it('transition rules (oldSelf) are skipped on create and enforced on update, by PUT and by patch', async () => {
    const created = await call('POST', base, widget('imm', { bundleId: 'payments', minReplicas: 1 }));
    expect(created.code).toBe(201);
    const put = await call('PUT', `${base}/imm`, { ...created.body, spec: { bundleId: 'support-desk', minReplicas: 1 } });
    expect(put.code).toBe(422);
    expect(put.body.message).toBe('Widget.example.com "imm" is invalid: spec.bundleId: Invalid value: "string": bundleId is immutable');
    const patch = await call('PATCH', `${base}/imm`, { spec: { bundleId: 'other' } }, 'application/merge-patch+json');
    expect(patch.code).toBe(422);
    const apply = await call('PATCH', `${base}/imm?fieldManager=t&force=true`, widget('imm', { bundleId: 'x' }), 'application/apply-patch+yaml');
    expect(apply.code).toBe(422);
    // Other changes, with the same bundleId, pass.
    expect((await call('PATCH', `${base}/imm`, { spec: { minReplicas: 2 } }, 'application/merge-patch+json')).code).toBe(200);
  });

  it('list items: fieldPath, and oldSelf correlated by the map-list key', async () => {
    const neg = await call('POST', base, widget('neg', { bundleId: 'a', routes: [{ name: 'x', weight: -1 }] }));
    expect(neg.code).toBe(422);
    expect(neg.body.details!.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.routes[0].weight', message: 'Invalid value: "object": weight must not be negative' }]);
    const created = await call('POST', base, widget('routes', { bundleId: 'a', routes: [{ name: 'x', weight: 5 }] }));
    expect(created.code).toBe(201);
    // A new element has no old value: the transition rule does not apply to it.
    expect((await call('PATCH', `${base}/routes`, { spec: { routes: [{ name: 'y', weight: 1 }, { name: 'x', weight: 6 }] } }, 'application/merge-patch+json')).code).toBe(200);
    const shrink = await call('PATCH', `${base}/routes`, { spec: { routes: [{ name: 'y', weight: 1 }, { name: 'x', weight: 2 }] } }, 'application/merge-patch+json');
    expect(shrink.code).toBe(422);
    expect(shrink.body.details!.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.routes[1]', message: 'Invalid value: "object": weight may only grow' }]);
  });

  it('reason FieldValueForbidden is reported as Forbidden', async () => {
    const r = await call('POST', base, widget('root', { bundleId: 'a', mode: 'root' }));
    expect(r.code).toBe(422);
    expect(r.body.details!.causes).toEqual([{ reason: 'FieldValueForbidden', field: 'spec.mode', message: 'Forbidden: mode root is not allowed' }]);
  });

  it('a structurally invalid object reports the schema error, not the rules', async () => {
    const r = await call('POST', base, widget('typed', { bundleId: 'a', minReplicas: 'many', maxReplicas: 1 }));
    expect(r.code).toBe(422);
    expect(JSON.stringify(r.body.details!.causes)).toContain('spec.minReplicas');
    expect(JSON.stringify(r.body.details!.causes)).not.toContain('exceeds');
  });

  it('a CRD whose rule does not compile is refused at load, naming the rule', () => {
    const bad = mkdtempSync(join(tmpdir(), 'helm-cel-bad-'));
    try {
      writeFileSync(join(bad, 'widgets.yaml'), stringify(crd(SPEC_RULES, [{ rule: 'self == nosuch', message: 'x' }])));
      expect(() => crdResources(bad)).toThrow(/spec\.bundleId: rule "self == nosuch" does not compile/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
