// Everything the sidecar needs to allow a call comes from the GuardianSidecar (issue 9, part 3):
// principal id and roles (a field, or a pod label/annotation), tool routes, upstreams, and an
// explicit ProofGraph volume choice (emptyDir only with acknowledgeEvidenceLoss).
import { parseAdmissionReview, type AdmissionRequestView } from '../../../operator/webhook/admission.js';
import { guardianView } from '../../../operator/webhook/guardian.js';
import { mutate } from '../../../operator/webhook/handlers.js';
import type { JsonObject } from '../../../operator/webhook/json.js';
import { mapLookup } from '../../../operator/webhook/lookup.js';
import { validateRequest } from '../../../operator/webhook/validate.js';
import { KEYS } from '../../../sidecar/config/keys.js';
import { fromEnv } from '../../../sidecar/config/values.js';
import { agentPod, applyPatch, certify, config, guardianSidecar, lookupState, review } from './support.js';

const asRequest = (body: JsonObject): AdmissionRequestView => {
  const parsed = parseAdmissionReview(JSON.stringify(body));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.request;
};

type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };
type Pod = { spec: { initContainers: { name: string; env: EnvVar[] }[]; volumes: JsonObject[] } };

async function inject(gsSpec: JsonObject, pod = agentPod()) {
  const state = lookupState();
  state.guardianSidecars = [guardianSidecar({ spec: gsSpec })];
  const m = await mutate(asRequest(review(pod)), { config: config(), lookup: mapLookup(state), certify });
  return m;
}

async function sidecarEnv(gsSpec: JsonObject): Promise<Record<string, EnvVar>> {
  const m = await inject(gsSpec);
  if (!m.result.allowed) throw new Error(m.result.message);
  const out = applyPatch(agentPod(), m.result.patch ?? []) as unknown as Pod;
  return Object.fromEntries(out.spec.initContainers[0]!.env.map((e) => [e.name, e]));
}

const spec = (k: string) => KEYS.find((x) => x.key === k)!;

describe('principal and tool routes', () => {
  it('sets HELM_PRINCIPAL_ID, HELM_PRINCIPAL_ROLES and HELM_TOOL_ROUTES from the spec, in formats the sidecar parses', async () => {
    const routes = { crm_lookup: { connector: 'crm-api' }, send_email: { connector: 'mailer', sandbox: 'egress-only' } };
    const env = await sidecarEnv({ principal: { id: 'agent:sup-1', roles: ['support', 'triage'] }, toolRoutes: routes });
    expect(env.HELM_PRINCIPAL_ID!.value).toBe('agent:sup-1');
    expect(env.HELM_PRINCIPAL_ROLES!.value).toBe('support,triage');
    expect(fromEnv(spec('principalRoles'), env.HELM_PRINCIPAL_ROLES!.value!, 'env')).toEqual(['support', 'triage']);
    expect(fromEnv(spec('toolRoutes'), env.HELM_TOOL_ROUTES!.value!, 'env')).toEqual(routes);
  });

  it('reads id and roles from a pod label or annotation through the downward API', async () => {
    const env = await sidecarEnv({ principal: { idFrom: { label: 'app' }, rolesFrom: { annotation: 'helm.mindburn.org/roles' } } });
    expect(env.HELM_PRINCIPAL_ID!.valueFrom).toEqual({ fieldRef: { apiVersion: 'v1', fieldPath: "metadata.labels['app']" } });
    expect(env.HELM_PRINCIPAL_ROLES!.valueFrom).toEqual({ fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['helm.mindburn.org/roles']" } });
  });

  it('refuses malformed principal and route settings, naming the field', () => {
    const bad = (s: JsonObject) => () => guardianView(guardianSidecar({ spec: s }));
    expect(bad({ principal: { id: 'a', idFrom: { label: 'x' } } })).toThrow(/spec\.principal: set id or idFrom, not both/);
    expect(bad({ principal: { rolesFrom: { label: 'x', annotation: 'y' } } })).toThrow(/spec\.principal\.rolesFrom needs exactly one of label or annotation/);
    expect(bad({ principal: { roles: ['a,b'] } })).toThrow(/spec\.principal\.roles/);
    expect(bad({ toolRoutes: { t: { connector: 'a b' } } })).toThrow(/spec\.toolRoutes\.t\.connector/);
    expect(bad({ toolRoutes: { t: { gateway: 'x' } } })).toThrow(/unknown field gateway/);
  });
});

describe('ProofGraph volume choice', () => {
  const volumeOf = async (pg: JsonObject) => {
    const m = await inject({ proofGraph: pg });
    if (!m.result.allowed) return m.result.message;
    const out = applyPatch(agentPod(), m.result.patch ?? []) as unknown as Pod;
    return out.spec.volumes.find((v) => v.name === 'helm-guardian-proofgraph');
  };

  it('mounts an existing claim, or the per-namespace claim the controller makes for a storage class', async () => {
    expect(await volumeOf({ existingClaim: { claimName: 'evidence' } })).toEqual({ name: 'helm-guardian-proofgraph', persistentVolumeClaim: { claimName: 'evidence' } });
    expect(await volumeOf({ storageClass: { name: 'nfs-rwx', size: '20Gi' } })).toEqual({ name: 'helm-guardian-proofgraph', persistentVolumeClaim: { claimName: 'helm-proofgraph-support' } });
    expect(await volumeOf({ emptyDir: { acknowledgeEvidenceLoss: true, sizeLimit: '1Gi' } })).toEqual({ name: 'helm-guardian-proofgraph', emptyDir: { sizeLimit: '1Gi' } });
  });

  it('refuses emptyDir without the acknowledgement, and no choice at all, naming the field', async () => {
    expect(await volumeOf({ emptyDir: {} })).toMatch(/set spec\.proofGraph\.emptyDir\.acknowledgeEvidenceLoss: true/);
    const m = await inject({ proofGraph: undefined as unknown as JsonObject });
    expect(m.result.allowed === false && m.result.message).toMatch(/spec\.proofGraph is not set: choose existingClaim/);
    expect(await volumeOf({ emptyDir: {}, existingClaim: { claimName: 'x' } })).toMatch(/needs exactly one of existingClaim, storageClass or emptyDir/);
    const gs = guardianSidecar({ spec: { proofGraph: { emptyDir: { sizeLimit: '1Gi' } } } });
    const r = await validateRequest(
      asRequest(review(gs, { kind: { group: 'helm.mindburn.org', version: 'v1alpha1', kind: 'GuardianSidecar' }, resource: 'guardiansidecars' })),
      { config: config(), lookup: mapLookup(lookupState()), certify },
    );
    expect(r.allowed === false && r.message).toMatch(/acknowledgeEvidenceLoss.*\[GUARDIAN_SPEC_INVALID\]/);
  });
});

describe('CRD rules (x-kubernetes-validations; the API server evaluates them, the double may too)', () => {
  const crd = async (file: string) => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { repoRoot } = await import('../../support/shared.js');
    const doc = parse(readFileSync(`${repoRoot}/crds/${file}`, 'utf8')) as { spec: { scope: string; versions: { schema: { openAPIV3Schema: JsonObject } }[] } };
    return { scope: doc.spec.scope, spec: (doc.spec.versions[0]!.schema.openAPIV3Schema.properties as JsonObject).spec as JsonObject };
  };
  const rules = (schema: unknown) => ((schema as JsonObject)['x-kubernetes-validations'] as { rule: string; message: string }[] | undefined) ?? [];

  it('PolicyBundle spec.bundleId is immutable', async () => {
    const { spec } = await crd('policybundles.helm.mindburn.org.yaml');
    expect(rules((spec.properties as JsonObject).bundleId)).toEqual([{ rule: 'self == oldSelf', message: expect.stringMatching(/spec\.bundleId is immutable/) }]);
  });

  it('both GuardianSidecar kinds require the emptyDir acknowledgement; the cluster kind is cluster-scoped and names the bundle namespace', async () => {
    for (const file of ['guardiansidecars.helm.mindburn.org.yaml', 'clusterguardiansidecars.helm.mindburn.org.yaml']) {
      const { spec } = await crd(file);
      const pg = (spec.properties as JsonObject).proofGraph;
      expect(rules(pg).map((r) => r.message)).toEqual([expect.stringMatching(/spec\.proofGraph\.emptyDir\.acknowledgeEvidenceLoss must be true/)]);
      expect(Object.keys((pg as JsonObject).properties as JsonObject).sort()).toEqual(['emptyDir', 'existingClaim', 'persistentVolumeClaim', 'storageClass']);
    }
    const cluster = await crd('clusterguardiansidecars.helm.mindburn.org.yaml');
    expect(cluster.scope).toBe('Cluster');
    expect(cluster.spec.required).toContain('policyBundleNamespace');
    expect((await crd('guardiansidecars.helm.mindburn.org.yaml')).scope).toBe('Namespaced');
  });
});

describe('samples', () => {
  it('the GuardianSidecar and ClusterGuardianSidecar samples are accepted by the validating webhook', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { repoRoot } = await import('../../support/shared.js');
    const { policyBundle } = await import('./support.js');
    const state = lookupState();
    state.policyBundles = [policyBundle({ name: 'sample-read-only', namespace: 'helm-system' })];
    for (const [file, kind, resource] of [
      ['guardiansidecar.yaml', 'GuardianSidecar', 'guardiansidecars'],
      ['clusterguardiansidecar.yaml', 'ClusterGuardianSidecar', 'clusterguardiansidecars'],
    ] as const) {
      const obj = parse(readFileSync(`${repoRoot}/crds/samples/${file}`, 'utf8')) as JsonObject;
      const body = review(obj, { kind: { group: 'helm.mindburn.org', version: 'v1alpha1', kind }, resource, namespace: 'helm-system' });
      expect([file, await validateRequest(asRequest(body), { config: config(), lookup: mapLookup(state), certify })]).toEqual([file, { allowed: true }]);
    }
  });
});
