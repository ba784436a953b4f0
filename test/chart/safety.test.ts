// The chart starts and is safe to run (issue 9, item 5): the schema refuses a chart without a
// trust root and says how to make one, image names match the Dockerfiles, a namespaceSelector
// override renders, the PDB never blocks a drain, opt-in works by annotation or label, the
// certified-identity settings reach the operator, and a NetworkPolicy closes the operator's ports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compileCel, toCel } from '../../kernel/guardian/cel.js';
import type { JsonValue } from '../../kernel/guardian/bundle-types.js';
import { repoRoot } from '../support/shared.js';
import { byKind, chartDir, helm, NAMESPACE, one, RELEASE, render, validateManifest, WITH_ROOT, type Manifest } from './render.js';
import { describeWithHelm } from './tools.js';

type Container = { name: string; image: string; env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] };
type PodSpec = { containers: Container[]; volumes: { name: string; secret?: { secretName: string; optional?: boolean; items?: { key: string; path: string }[] } }[] };
const podSpecOf = (d: Manifest) => (d.spec as { template: { spec: PodSpec } }).template.spec;
const envOf = (c: Container) => Object.fromEntries(c.env.map((e) => [e.name, e.value]));
type Webhook = { name: string; objectSelector?: unknown; namespaceSelector?: { matchExpressions?: unknown[]; matchLabels?: Record<string, string> }; matchConditions?: { name: string; expression: string }[] };

describeWithHelm('trust roots are required', () => {
  it.each([
    ['empty', ['--set-json', 'trustRoots=[]']],
    ['missing', ['--set', 'trustRoots=null']],
  ])('helm lint and helm template refuse %s trustRoots and say how to make a key', (_name, values) => {
    for (const cmd of [['lint', chartDir], ['template', RELEASE, chartDir, '--namespace', NAMESPACE]]) {
      const r = helm([...cmd, ...values]);
      expect(r.status).not.toBe(0);
      expect(r.out).toMatch(/trustRoots/);
      expect(r.out).toContain('helmctl keygen --type root');
      expect(r.out).toContain('helmctl bundle sign');
    }
  });

  it('the default values alone do not install (there is no usable default root)', () => {
    const r = helm(['template', RELEASE, chartDir, '--namespace', NAMESPACE]);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('helmctl keygen --type root');
  });

  it('with a root the chart renders and lints', () => {
    expect(helm(['lint', chartDir, ...WITH_ROOT]).status).toBe(0);
    expect(render().length).toBeGreaterThan(10);
  });
});

describe('image names match the Dockerfiles', () => {
  // The name each Dockerfile documents in its build command (`docker build -f F -t NAME:tag .`).
  const builtName = (file: string): string => {
    const m = /docker build -f \S+ -t ([a-z0-9-]+):/.exec(readFileSync(join(repoRoot, file), 'utf8'));
    if (!m) throw new Error(`${file} names no image in its build comment`);
    return m[1]!;
  };
  const base = (image: string): string => image.replace(/[:@].*$/, '').split('/').pop()!;
  const appVersion = (parseYaml(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string }).appVersion;

  it('the chart deploys the operator image and the sample GuardianSidecar the sidecar image, same registry, at the chart appVersion', () => {
    const values = parseYaml(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as { image: { repository: string } };
    expect(base(values.image.repository)).toBe(builtName('Dockerfile.operator'));
    const sample = parseYaml(readFileSync(join(repoRoot, 'crds', 'samples', 'guardiansidecar.yaml'), 'utf8')) as { spec: { image: string } };
    expect(base(sample.spec.image)).toBe(builtName('Dockerfile.sidecar'));
    const registry = (image: string) => image.split('/').slice(0, -1).join('/');
    expect(registry(sample.spec.image)).toBe(registry(values.image.repository));
    expect(sample.spec.image.split(':').pop()).toBe(appVersion);
  });

  it('the install guide and the e2e script build and use the same names', () => {
    const guide = readFileSync(join(repoRoot, 'docs', 'install.md'), 'utf8');
    const e2e = readFileSync(join(repoRoot, 'scripts', 'kind-e2e.sh'), 'utf8');
    for (const f of ['Dockerfile.operator', 'Dockerfile.sidecar']) {
      expect(guide).toContain(`-f ${f}`);
      expect(guide).toMatch(new RegExp(`-f ${f.replace('.', '\\.')}\\s+-t REGISTRY/${builtName(f)}:`));
      expect(e2e).toMatch(new RegExp(`-f ${f.replace('.', '\\.')} -t "${builtName(f)}:`));
    }
  });
});

describeWithHelm('webhook selectors and opt-in', () => {
  it('an overridden namespaceSelector renders with its expressions and labels beside the built-in exclusions', async () => {
    const ms = render(['--set-json', 'webhook.namespaceSelector={"matchExpressions":[{"key":"team","operator":"In","values":["a","b"]}],"matchLabels":{"env":"prod"}}']);
    for (const cfg of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      const m = one(ms, cfg);
      await expect(validateManifest(m)).resolves.toBeUndefined();
      for (const w of (m.webhooks as Webhook[]).filter((x) => x.namespaceSelector)) {
        expect(w.namespaceSelector!.matchExpressions).toEqual([
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [NAMESPACE, 'kube-system', 'kube-public', 'kube-node-lease'] },
          { key: 'team', operator: 'In', values: ['a', 'b'] },
        ]);
        expect(w.namespaceSelector!.matchLabels).toEqual({ env: 'prod' });
      }
    }
  });

  it('a selector with a typo (matchLabel) or a bad operator is refused by the schema', () => {
    for (const bad of ['webhook.namespaceSelector={"matchLabel":{"a":"b"}}', 'webhook.namespaceSelector={"matchExpressions":[{"key":"a","operator":"Equals"}]}']) {
      expect(helm(['lint', chartDir, ...WITH_ROOT, '--set-json', bad]).status).not.toBe(0);
    }
  });

  const conditionsOf = (ms: Manifest[], kind: string, name: string): Webhook => (one(ms, kind).webhooks as Webhook[]).find((w) => w.name === name)!;
  const admits = (w: Webhook, metadata: Record<string, unknown>): boolean =>
    (w.matchConditions ?? []).every((c) => {
      const p = compileCel(c.expression, { variables: ['object', 'oldObject', 'request', 'authorizer', 'params'] });
      if (!p.ok) throw new Error(`${c.name}: ${p.message}`);
      const out = p.program.evaluate({ object: toCel({ apiVersion: 'v1', kind: 'Pod', metadata } as JsonValue) });
      if (!out.ok) throw new Error(`${c.name}: ${out.message}`);
      return out.value === true;
    });

  it('opt-in by the annotation or the label: matchConditions (CEL), no label objectSelector', () => {
    const ms = render();
    for (const [kind, name] of [['MutatingWebhookConfiguration', 'inject.helm.mindburn.org'], ['ValidatingWebhookConfiguration', 'workloads.helm.mindburn.org']] as const) {
      const w = conditionsOf(ms, kind, name);
      expect(w.objectSelector ?? {}).toEqual({});
      expect(w.matchConditions!.length).toBeGreaterThan(0);
      expect(admits(w, { name: 'a', annotations: { 'helm.mindburn.org/inject': 'true' } })).toBe(true);
      expect(admits(w, { name: 'b', labels: { 'helm.mindburn.org/inject': 'true' } })).toBe(true);
      expect(admits(w, { name: 'c' })).toBe(false);
      expect(admits(w, { name: 'd', annotations: { 'helm.mindburn.org/inject': 'false' }, labels: { app: 'x' } })).toBe(false);
      expect(admits(w, { name: 'e', annotations: { other: 'true' } })).toBe(false);
    }
  });

  it('a workload (Deployment) opts in through its pod template too', () => {
    const w = conditionsOf(render(), 'ValidatingWebhookConfiguration', 'workloads.helm.mindburn.org');
    const c = w.matchConditions!.map((x) => compileCel(x.expression, { variables: ['object', 'oldObject', 'request', 'authorizer', 'params'] }));
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'agent' }, spec: { template: { metadata: { annotations: { 'helm.mindburn.org/inject': 'true' } } } } };
    expect(c.every((p) => p.ok && (p.program.evaluate({ object: toCel(deployment as JsonValue) }) as { value: unknown }).value === true)).toBe(true);
  });
});

describeWithHelm('drains', () => {
  it('replicaCount 1: no PDB that forbids evicting the only replica', () => {
    const pdbs = byKind(render(['--set', 'replicaCount=1']), 'PodDisruptionBudget');
    for (const p of pdbs) {
      const spec = p.spec as { minAvailable?: number | string; maxUnavailable?: number | string };
      expect(spec.minAvailable === undefined || spec.minAvailable === 0).toBe(true);
      expect(spec.maxUnavailable ?? 1).not.toBe(0);
    }
  });

  it('replicaCount 2 keeps one replica answering during a drain', () => {
    const pdb = one(render(), 'PodDisruptionBudget');
    expect((pdb.spec as { minAvailable?: number }).minAvailable).toBe(1);
  });
});

describeWithHelm('certified identity settings', () => {
  it('clusterOrigin reaches the operator as HELM_CLUSTER_ORIGIN (default helm/cluster)', () => {
    expect(envOf(podSpecOf(one(render(), 'Deployment')).containers[0]!).HELM_CLUSTER_ORIGIN).toBe('helm/cluster');
    expect(envOf(podSpecOf(one(render(['--set', 'clusterOrigin=acme/prod-eu']), 'Deployment')).containers[0]!).HELM_CLUSTER_ORIGIN).toBe('acme/prod-eu');
  });

  it('the certification root key Secret is mounted into the operator only, at HELM_CERTIFY_ROOT_KEY_FILE', () => {
    for (const [values, secretName] of [[[], `${RELEASE}-helm-operator-certify-root`], [['--set', 'certification.rootKeySecret=corp-root'], 'corp-root']] as const) {
      const pod = podSpecOf(one(render([...values]), 'Deployment'));
      const vol = pod.volumes.find((v) => v.secret?.secretName === secretName);
      expect(vol).toBeDefined();
      expect(vol!.secret!.optional ?? false).toBe(false);
      // Group-readable (0440) for the non-root user through fsGroup; not world-readable.
      expect((vol!.secret as { defaultMode?: number }).defaultMode).toBe(0o440);
      expect((one(render([...values]), 'Deployment').spec as { template: { spec: { securityContext: { fsGroup?: number } } } }).template.spec.securityContext.fsGroup).toBe(65532);
      const mounts = pod.containers.flatMap((c) => c.volumeMounts.filter((m) => m.name === vol!.name).map((m) => ({ c: c.name, ...m })));
      expect(mounts).toHaveLength(1);
      expect(mounts[0]).toMatchObject({ c: 'operator', readOnly: true });
      const file = envOf(pod.containers[0]!).HELM_CERTIFY_ROOT_KEY_FILE!;
      const key = vol!.secret!.items!.find((i) => `${mounts[0]!.mountPath}/${i.path}` === file);
      expect(key?.key).toBe('root.key');
    }
  });

  it('the chart creates no signing-key Secret and passes no per-namespace signing-key setting', () => {
    const ms = render();
    const env = envOf(podSpecOf(one(ms, 'Deployment')).containers[0]!);
    expect(env.HELM_SIGNING_KEY_SECRET).toBeUndefined();
    expect(byKind(ms, 'Secret').map((s) => s.metadata.name)).toEqual([`${RELEASE}-helm-operator-webhook-tls`]);
  });

  it('clusterOrigin must be a key-name-safe path (no white space, no "+")', () => {
    for (const bad of ['has space', 'a+b', '']) expect(helm(['lint', chartDir, ...WITH_ROOT, '--set', `clusterOrigin=${bad}`]).status).not.toBe(0);
  });
});

describeWithHelm('NetworkPolicy', () => {
  type Rule = { ports?: { port: number | string; protocol?: string }[]; from?: unknown[] };
  it('on by default: selects the operator pods and admits ingress only to the webhook and metrics ports', async () => {
    const ms = render();
    const np = one(ms, 'NetworkPolicy');
    await expect(validateManifest(np)).resolves.toBeUndefined();
    const spec = np.spec as { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: Rule[] };
    const podLabels = (one(ms, 'Deployment').spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    for (const [k, v] of Object.entries(spec.podSelector.matchLabels)) expect(podLabels[k]).toBe(v);
    expect(spec.policyTypes).toEqual(['Ingress']);
    const ports = spec.ingress.flatMap((r) => (r.ports ?? []).map((p) => p.port)).sort();
    expect(ports).toEqual([8080, 9443]);
    for (const r of spec.ingress) expect(r.ports?.length).toBeGreaterThan(0); // no rule opens every port
  });

  it('metrics ingress can be narrowed to the monitoring namespace; the policy can be turned off', () => {
    const np = one(render(['--set-json', 'networkPolicy.metricsFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}]']), 'NetworkPolicy');
    const metrics = (np.spec as { ingress: Rule[] }).ingress.find((r) => r.ports!.some((p) => p.port === 8080))!;
    expect(metrics.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
    expect(byKind(render(['--set', 'networkPolicy.enabled=false']), 'NetworkPolicy')).toEqual([]);
  });
});
