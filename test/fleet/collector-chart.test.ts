// charts/helm-operator collector.* values: off by default; when enabled the operator's environment
// is what collectorSettingsFromEnv accepts (and names the objects the chart's RBAC covers), the
// collector's ServiceAccount may hold only its own Lease, and required values are enforced.
import { collectorDeployment } from '../../operator/fleet/collector-objects.js';
import { collectorSettingsFromEnv } from '../../operator/fleet/collector-settings.js';
import { byKind, chartDir, helm, NAMESPACE, one, render, validateManifest, WITH_ROOT, type Manifest } from '../chart/render.js';
import { describeWithHelm } from '../chart/tools.js';
import { mirrorKey } from './fleet-support.js';

const ON = [
  '--set', 'collector.enabled=true',
  '--set', 'collector.bucket=fleet',
  '--set', 'collector.endpoint=http://rgw.storage:7480',
  '--set', 'collector.credentialsSecret=collector-s3',
  '--set', 'collector.keysSecret=collector-keys',
  '--set', 'collector.writerCredentialsSecret=fleet-writer-s3',
  '--set', `collector.verifierKey=${mirrorKey.verifier.vkey}`,
];
const ROOT = 'example-bundle-signer+7383a887+AYFGZA8CSTr0+8VP4zOI513CyTeuC3cnzCsq+xt1GZo+';
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
type Env = { name: string; value?: string }[];

const named = (ms: Manifest[], kind: string, suffix: string): Manifest[] => byKind(ms, kind).filter((m) => m.metadata.name.endsWith(suffix));

describeWithHelm('chart: fleet collector', () => {
  it('off by default: no collector objects, no collector environment', () => {
    const ms = render();
    expect(named(ms, 'ServiceAccount', '-collector')).toEqual([]);
    const env = (one(ms, 'Deployment').spec as { template: { spec: { containers: { env: Env }[] } } }).template.spec.containers[0]!.env;
    expect(env.map((e) => e.name)).not.toContain('HELM_COLLECTOR_ENABLED');
  });

  it('enabled: lint passes, the operator env parses, RBAC covers exactly the collector objects', async () => {
    const lint = helm(['lint', chartDir, ...WITH_ROOT, ...ON]);
    expect([lint.status, lint.out]).toEqual([0, expect.stringContaining('0 chart(s) failed')]);
    const ms = render(ON);
    for (const m of ms) await validateManifest(m);
    const op = one(ms, 'Deployment');
    const env = (op.spec as { template: { spec: { containers: { env: Env; image: string }[] } } }).template.spec.containers[0]!;
    const settings = collectorSettingsFromEnv(Object.fromEntries(env.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value])), NAMESPACE, ROOT)!;
    expect(settings).toMatchObject({ verifierKey: mirrorKey.verifier.vkey, name: 'helm-helm-operator-collector', image: env.image, bucket: 'fleet', stagingBucket: 'fleet-staging', replicas: 2, serviceAccount: 'helm-helm-operator-collector' });
    // What the operator would apply validates against the Kubernetes schema too.
    await validateManifest(collectorDeployment(settings) as Manifest);

    const sa = one(named(ms, 'ServiceAccount', '-collector'), 'ServiceAccount');
    expect(sa.metadata.name).toBe(settings.serviceAccount);
    const collectorRole = byKind(ms, 'Role').find((r) => r.metadata.name === settings.name)!;
    const rules = collectorRole.rules as Rule[];
    expect(rules.flatMap((r) => r.resources)).toEqual(['leases', 'leases']);
    expect(rules.find((r) => r.verbs.includes('update'))!.resourceNames).toEqual([settings.name]);
    const binding = byKind(ms, 'RoleBinding').find((b) => b.metadata.name === settings.name)!;
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: settings.serviceAccount, namespace: NAMESPACE }]);

    const operatorRole = byKind(ms, 'Role').find((r) => r.metadata.name !== settings.name)!;
    const patchRules = (operatorRole.rules as Rule[]).filter((r) => r.verbs.includes('patch'));
    expect(patchRules.map((r) => [r.resources[0], r.resourceNames])).toEqual([
      ['deployments', [settings.name]],
      ['services', [settings.name]],
    ]);
  });

  it('enabled without a bucket does not render, and names the value', () => {
    const r = helm(['template', 'helm', chartDir, ...WITH_ROOT, '--set', 'collector.enabled=true']);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/collector\.bucket is required/);
    // Without the collector's verifier key sidecars could not check a cosignature: not rendered.
    const nokey = helm(['template', 'helm', chartDir, ...WITH_ROOT, ...ON.slice(0, -2)]);
    expect(nokey.status).not.toBe(0);
    expect(nokey.out).toMatch(/collector\.verifierKey is required/);
  });
});
