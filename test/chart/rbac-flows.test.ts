// RBAC matches the calls the operator makes, no wider (issue 9, item 5). The chart is rendered,
// installed into the API-server double with RBAC enforced, and the real operator process
// (operator/main.ts runOperator, configured from the Deployment's own environment) runs as the
// chart's ServiceAccount through its flows: leader election, webhook certificates and caBundle,
// PolicyBundle verification, distribution, source reads, redistribution, withdrawal, deletion,
// GuardianSidecar status. Every (verb, group, resource, namespace) it issues is recorded and
// compared with the rendered roles both ways.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setHeaderOptions } from '@kubernetes/client-node';
import { LABEL_GOVERNED, distributedConfigMapName } from '../../operator/api/v1alpha1.js';
import { nodeSigner } from '../../kernel/crypto/node.js';
import { signingKeyFromSeed } from '../../kernel/crypto/signing-key.js';
import { parseConfig } from '../../operator/config.js';
import { runOperator, type RunningOperator } from '../../operator/main.js';
import { ApiServerDouble, serviceAccountUser, type Attributes, type Obj } from '../k8s/api-server-double.js';
import { GROUP, bundleSigner, bundleStatus, bundleText, guardianSidecar, policyBundle, signedSpec, waitFor } from '../operator/support.js';
import { byKind, NAMESPACE, one, RELEASE, render, type Manifest } from './render.js';
import { describeWithHelm } from './tools.js';

const SA = `${RELEASE}-helm-operator`;
const USER = serviceAccountUser(NAMESPACE, SA);
const TOKEN = 'operator-sa-token';
const APP = 'agents';

/**
 * Granted to the operator for calls made by code on other branches of this change (issue 9), or
 * flows the double cannot drive; each with the reason. Everything else granted must be used.
 */
const GRANTED_FOR = new Map<string, string>([
  ['create authentication.k8s.io/tokenreviews', 'certify endpoint (/v1/certify): TokenReview of the sidecar\'s projected ServiceAccount token'],
  ['get /pods', 'certify endpoint: reads the pod the token was issued for (uid, injected by us)'],
  ['list /nodes', 'native or classic sidecar chosen from the kubelet version of the nodes'],
  ['create /persistentvolumeclaims', 'evidence volume from an RWX storage class: the claim the sidecars share (server-side apply)'],
  ['patch /persistentvolumeclaims', 'evidence volume from an RWX storage class: server-side apply of that claim'],
  ['list helm.mindburn.org/clusterguardiansidecars', 'cache of ClusterGuardianSidecars (cluster-scoped kind for cross-namespace selection)'],
  ['watch helm.mindburn.org/clusterguardiansidecars', 'cache of ClusterGuardianSidecars'],
  ['patch helm.mindburn.org/clusterguardiansidecars/status', 'ClusterGuardianSidecar status (server-side apply)'],
]);

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
const keyOf = (a: Pick<Attributes, 'verb' | 'group' | 'resource' | 'subresource'>) => `${a.verb} ${a.group}/${a.resource}${a.subresource ? `/${a.subresource}` : ''}`;

/** (verb, group/resource) pairs the rendered roles bound to the operator's ServiceAccount grant. */
function granted(ms: Manifest[]): Set<string> {
  const bound = new Set(
    [...byKind(ms, 'ClusterRoleBinding'), ...byKind(ms, 'RoleBinding')]
      .filter((b) => (b.subjects as { kind: string; name: string; namespace: string }[]).some((s) => s.kind === 'ServiceAccount' && s.name === SA && s.namespace === NAMESPACE))
      .map((b) => `${(b.roleRef as { kind: string }).kind}/${(b.roleRef as { name: string }).name}`),
  );
  const out = new Set<string>();
  for (const r of [...byKind(ms, 'ClusterRole'), ...byKind(ms, 'Role')]) {
    if (!bound.has(`${r.kind}/${r.metadata.name}`)) continue;
    for (const rule of r.rules as Rule[]) for (const g of rule.apiGroups) for (const res of rule.resources) for (const v of rule.verbs) out.add(`${v} ${g}/${res}`);
  }
  return out;
}

/** What `helm install` adds to every object it creates (release ownership). */
function asInstalled(ms: Manifest[]): Obj[] {
  return ms.map((m) => ({
    ...m,
    metadata: { ...m.metadata, annotations: { ...(m.metadata.annotations ?? {}), 'meta.helm.sh/release-name': RELEASE, 'meta.helm.sh/release-namespace': NAMESPACE } },
  }));
}

/** The operator container's environment from the Deployment, with paths and ports mapped for a test. */
function deploymentEnv(ms: Manifest[], files: Record<string, string>): Record<string, string> {
  const c = (one(ms, 'Deployment').spec as { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[] }[] } } }).template.spec.containers[0]!;
  const env: Record<string, string> = {};
  for (const e of c.env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = NAMESPACE;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = `${SA}-0`;
  }
  return { ...env, ...files, HELM_METRICS_PORT: '0', HELM_WEBHOOK_PORT: '0' };
}

describeWithHelm('RBAC matches the calls the operator makes', () => {
  const ms = render(['--set-json', `rbac.governedNamespaces=["${APP}"]`]);
  let d: ApiServerDouble;
  let dir: string;
  let running: RunningOperator | undefined;

  beforeAll(async () => {
    d = await ApiServerDouble.start({ rbac: true, tokens: { [TOKEN]: USER }, bookmarkIntervalMs: 200 });
    d.seed('', 'namespaces', { metadata: { name: NAMESPACE } });
    d.seed('', 'namespaces', { metadata: { name: APP, labels: { [LABEL_GOVERNED]: 'true' } } });
    const skipped = d.install(asInstalled(ms)).map((m) => m.kind).sort();
    // Kinds the operator never calls: the double does not serve them (it serves Deployments and
    // Services since the operator applies the fleet collector's).
    expect([...new Set(skipped)]).toEqual(['CustomResourceDefinition', 'NetworkPolicy', 'PodDisruptionBudget']);
    dir = mkdtempSync(join(tmpdir(), 'helm-rbac-'));
    writeFileSync(join(dir, 'roots'), `${bundleSigner.verifier.vkey}\n`);
    // The certification root the chart mounts from its Secret (helmctl keygen --type root).
    writeFileSync(join(dir, 'root.key'), signingKeyFromSeed('helm-rbac/certify-root', new Uint8Array(32).fill(7), nodeSigner).privateText);
    writeFileSync(join(dir, 'kubeconfig'), d.kubeconfigText('operator', TOKEN));
    const env = deploymentEnv(ms, { HELM_TRUST_ROOTS_FILE: join(dir, 'roots'), HELM_CERTIFY_ROOT_KEY_FILE: join(dir, 'root.key') });
    const cfg = parseConfig(['--kubeconfig', join(dir, 'kubeconfig'), '--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '1s'], env);
    expect(cfg.leaderElection).toBe(true);
    cfg.retryPeriodMs = 100;
    running = await runOperator(cfg, () => undefined);
  }, 30_000);

  afterAll(async () => {
    await running?.stop();
    await d?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const admin = () => d.kubeConfig('admin');

  it('runs every flow as the ServiceAccount: leader, webhook TLS, verify, distribute, source, redistribute, withdraw, delete', async () => {
    // Leader election and the webhook's certificates happened during start.
    const tls = d.get('', 'secrets', NAMESPACE, `${RELEASE}-helm-operator-webhook-tls`)!;
    expect(Object.keys(tls.data ?? {}).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    await waitFor('caBundle', () => (d.get('admissionregistration.k8s.io', 'mutatingwebhookconfigurations', undefined, `${RELEASE}-helm-operator`)?.webhooks as { clientConfig: { caBundle?: string } }[])[0]!.clientConfig.caBundle);
    const metrics = await (await fetch(`http://127.0.0.1:${running!.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^helm_operator_webhook_ready 1$/m);
    expect(metrics).toMatch(/helm_operator_leader\{[^}]*\} 1/);

    // An inline bundle: verified, Active, distributed as a ConfigMap; the GuardianSidecar's status.
    d.seed(GROUP, 'guardiansidecars', guardianSidecar('guardian', 'desk', {}, APP));
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText()), APP));
    await waitFor('Active', () => bundleStatus(d, 'desk', APP)?.phase === 'Active', 20_000);
    await waitFor('copy', () => d.get('', 'configmaps', APP, distributedConfigMapName('support-desk')));
    await waitFor('GuardianSidecar status', () => d.get(GROUP, 'guardiansidecars', APP, 'guardian')?.status);

    // A configMapRef bundle: the source ConfigMap is read.
    // (signedSpec writes the spec's bundleId into the content, which the controller checks.)
    const src = signedSpec(bundleText('src'), { bundleId: 'support-desk-src' });
    d.seed('', 'configmaps', { metadata: { name: 'src', namespace: APP }, data: { 'bundle.yaml': src.inline! } });
    d.seed(GROUP, 'guardiansidecars', guardianSidecar('guardian-src', 'from-src', {}, APP));
    d.seed(GROUP, 'policybundles', policyBundle('from-src', { ...src, inline: undefined, configMapRef: { name: 'src' } } as never, APP));
    await waitFor('source bundle Active', () => bundleStatus(d, 'from-src', APP)?.phase === 'Active', 20_000);

    // Updated content is redistributed (server-side apply onto the existing copy).
    const { CustomObjectsApi } = await import('@kubernetes/client-node');
    const custom = admin().makeApiClient(CustomObjectsApi);
    const next = signedSpec(bundleText('next'), { bundleId: 'support-desk' });
    await custom.patchNamespacedCustomObject({ group: GROUP, version: 'v1alpha1', namespace: APP, plural: 'policybundles', name: 'desk', body: { spec: next } }, setHeaderOptions('Content-Type', 'application/merge-patch+json'));
    await waitFor('redistributed', () => d.get('', 'configmaps', APP, distributedConfigMapName('support-desk'))?.metadata.annotations?.['helm.mindburn.org/content-hash'] === next.contentHash, 20_000);

    // Deleting a bundle: the finalizer withdraws its copy, then lets it go.
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: 'v1alpha1', namespace: APP, plural: 'policybundles', name: 'desk' });
    await waitFor('bundle gone', () => d.get(GROUP, 'policybundles', APP, 'desk') === undefined, 20_000);
    expect(d.get('', 'configmaps', APP, distributedConfigMapName('support-desk'))).toBeUndefined();
  }, 60_000);

  it('every call it issued was allowed, and every granted verb is used by a flow or listed with its reason', () => {
    const calls = d.requests.filter((r) => r.user === USER.username && r.attributes);
    expect(calls.length).toBeGreaterThan(20);
    const refused = calls
      .filter((r) => r.code === 401 || r.code === 403)
      .map((r) => `${keyOf(r.attributes!)}${r.createAttributes ? ` (apply creating: ${keyOf(r.createAttributes)})` : ''} ${r.attributes!.namespace ?? '(cluster)'} ${r.code}`);
    expect([...new Set(refused)]).toEqual([]);
    const used = new Set(calls.flatMap((r) => [r.attributes!, ...(r.createAttributes ? [r.createAttributes] : [])]).map(keyOf));
    const grants = granted(ms);
    expect([...used].filter((k) => !grants.has(k)).sort()).toEqual([]);
    const unused = [...grants].filter((k) => !used.has(k)).sort();
    expect(unused.filter((k) => !GRANTED_FOR.has(k))).toEqual([]);
    for (const k of GRANTED_FOR.keys()) expect([k, grants.has(k)]).toEqual([k, true]);
  });

  it('writes land only in the operator namespace and the governed namespaces listed in rbac.governedNamespaces', () => {
    const calls = d.requests.filter((r) => r.user === USER.username && r.attributes && ['create', 'update', 'patch', 'delete'].includes(r.attributes.verb));
    const namespaces = new Set(calls.map((r) => r.attributes!.namespace ?? '(cluster)'));
    for (const ns of namespaces) expect([NAMESPACE, APP, '(cluster)']).toContain(ns);
    // Cluster-scoped writes are only the status/finalizer patches of our own kinds, events and
    // the webhook configurations' caBundle.
    const clusterWrites = new Set(calls.filter((r) => r.attributes!.namespace === undefined).map((r) => keyOf(r.attributes!)));
    for (const k of clusterWrites) expect(['update admissionregistration.k8s.io/mutatingwebhookconfigurations', 'update admissionregistration.k8s.io/validatingwebhookconfigurations']).toContain(k);
  });

  it('the ServiceAccount cannot write ConfigMaps in kube-system or any namespace not listed', async () => {
    d.seed('', 'namespaces', { metadata: { name: 'other' } });
    for (const ns of ['kube-system', 'other']) {
      const r = await fetch(`${d.url}/api/v1/namespaces/${ns}/configmaps`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ metadata: { name: 'x' } }) });
      expect(r.status).toBe(403);
    }
    const rendered = render(['--set-json', 'rbac.governedNamespaces=["a","b"]']);
    expect(byKind(rendered, 'RoleBinding').map((b) => b.metadata.namespace).sort()).toEqual(['a', 'b', NAMESPACE]);
    expect(byKind(rendered, 'ClusterRoleBinding')).toHaveLength(1);
    expect(byKind(render(['--set', 'rbac.allNamespaces=true']), 'ClusterRoleBinding')).toHaveLength(2);
  });

  it("the operator's TLS Secret writes keep Helm's labels and annotations (helm upgrade still owns it)", () => {
    const chartSecret = one(ms, 'Secret');
    const tls = d.get('', 'secrets', NAMESPACE, chartSecret.metadata.name)!;
    expect(Object.keys(tls.data ?? {})).toContain('tls.crt');
    expect(tls.metadata.labels).toMatchObject(chartSecret.metadata.labels!);
    expect(tls.metadata.annotations).toMatchObject({ 'meta.helm.sh/release-name': RELEASE, 'meta.helm.sh/release-namespace': NAMESPACE });
  });
});
