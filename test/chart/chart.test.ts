// charts/helm-operator: helm lint and helm template with the default values, failClosed=false and
// cert-manager mode; every rendered manifest checked against its Kubernetes schema, and the
// properties the webhooks and the operator rely on.
import { parseConfig, parseTrustRoots } from '../../operator/config.js';
import { ALG_ED25519, makeVerifierKey } from '../../kernel/crypto/keys.js';
import { byKind, chartDir, helm, NAMESPACE, one, RELEASE, render, validateManifest, WITH_ROOT, type Manifest } from './render.js';
import { describeWithHelm } from './tools.js';

const ROOT = 'example-bundle-signer+7383a887+AYFGZA8CSTr0+8VP4zOI513CyTeuC3cnzCsq+xt1GZo+';
const VARIANTS: Record<string, string[]> = {
  default: [],
  'failClosed=false': ['--set', 'failClosed=false'],
  'cert-manager': ['--set', 'certManager.enabled=true'],
  'everything on': ['--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.prometheusRule.enabled=true', '--set-json', `trustRoots=["${ROOT}"]`, '--set', 'certManager.enabled=true', '--set-json', 'certManager.issuerRef={"name":"corp-ca","kind":"ClusterIssuer"}'],
};

type Webhook = {
  name: string;
  failurePolicy: string;
  sideEffects: string;
  timeoutSeconds: number;
  admissionReviewVersions: string[];
  reinvocationPolicy?: string;
  clientConfig: { service: { name: string; namespace: string; path: string; port: number }; caBundle?: string };
  namespaceSelector?: { matchExpressions?: { key: string; operator: string; values: string[] }[] };
  objectSelector?: { matchExpressions?: { key: string; operator: string; values: string[] }[] };
  rules: { apiGroups: string[]; resources: string[]; operations: string[] }[];
};
const webhooksOf = (m: Manifest) => m.webhooks as Webhook[];
type Container = { name: string; env: { name: string; value?: string; valueFrom?: unknown }[]; ports: { name: string; containerPort: number }[]; securityContext: Record<string, unknown>; [k: string]: unknown };
const podSpecOf = (d: Manifest) => (d.spec as { template: { spec: { containers: Container[]; securityContext: Record<string, unknown>; volumes: { name: string; secret?: { secretName: string } }[] } } }).template.spec;

describeWithHelm('helm lint', () => {
  it.each(Object.entries(VARIANTS))('passes with %s values', (_name, values) => {
    const r = helm(['lint', chartDir, ...WITH_ROOT, ...values]);
    expect([r.status, r.out]).toEqual([0, expect.stringContaining('0 chart(s) failed')]);
  });

  it('rejects values the schema forbids (a webhook timeout above 10 s, an unknown sidecar mode, a malformed trust root)', () => {
    for (const bad of [['--set', 'webhook.timeoutSeconds=30'], ['--set', 'sidecar.mode=sometimes'], ['--set-json', 'trustRoots=["not a key"]']]) {
      const r = helm(['lint', chartDir, ...WITH_ROOT, ...bad]);
      expect(r.status).not.toBe(0);
      expect(r.out).toMatch(/values don't meet the specifications of the schema/);
    }
  });
});

describeWithHelm('helm template', () => {
  // Rendered on first use: describe bodies run even when the suite is skipped for lack of helm.
  const cache = new Map<string, Manifest[]>();
  const r = (variant: string): Manifest[] => {
    if (!cache.has(variant)) cache.set(variant, render(VARIANTS[variant]!));
    return cache.get(variant)!;
  };

  it.each(Object.keys(VARIANTS))('every manifest (%s) is valid against its Kubernetes schema', async (variant) => {
    const ms = r(variant);
    expect(ms.length).toBeGreaterThan(10);
    for (const m of ms) {
      await expect(validateManifest(m)).resolves.toBeUndefined();
    }
  });

  it('the schema check is real: a broken manifest fails it', async () => {
    const d = structuredClone(one(r('default'), 'Deployment'));
    (d.spec as { replicas: unknown }).replicas = 'two';
    await expect(validateManifest(d)).rejects.toThrow(/replicas/);
  });

  it('failClosed (the default) gives failurePolicy Fail on every webhook; failClosed=false gives Ignore', () => {
    for (const [variant, policy] of [['default', 'Fail'], ['failClosed=false', 'Ignore'], ['cert-manager', 'Fail']] as const) {
      const hooks = [...webhooksOf(one(r(variant), 'MutatingWebhookConfiguration')), ...webhooksOf(one(r(variant), 'ValidatingWebhookConfiguration'))];
      expect(hooks).toHaveLength(3);
      for (const w of hooks) expect([w.name, w.failurePolicy]).toEqual([w.name, policy]);
    }
  });

  it('webhooks: v1 reviews, no side effects, timeout <= 10 s, reinvocation IfNeeded, calling our Service', () => {
    const ms = r('default');
    const service = one(ms, 'Service');
    const mutating = webhooksOf(one(ms, 'MutatingWebhookConfiguration'));
    const validating = webhooksOf(one(ms, 'ValidatingWebhookConfiguration'));
    for (const w of [...mutating, ...validating]) {
      expect(w.admissionReviewVersions).toEqual(['v1']);
      expect(w.sideEffects).toBe('None');
      expect(w.timeoutSeconds).toBeLessThanOrEqual(10);
      expect(w.clientConfig.service).toMatchObject({ name: service.metadata.name, namespace: NAMESPACE, port: 443 });
      expect(w.clientConfig.caBundle).toBeUndefined(); // filled in by the operator
    }
    expect(mutating[0]!.reinvocationPolicy).toBe('IfNeeded');
    expect(mutating[0]!.clientConfig.service.path).toBe('/mutate');
    expect(mutating[0]!.rules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }]);
    for (const w of validating) expect(w.clientConfig.service.path).toBe('/validate');
    expect(validating.find((w) => w.name === 'guardiansidecars.helm.mindburn.org')!.rules[0]!.resources).toEqual(['guardiansidecars']);
    const ports = (service.spec as { ports: { port: number; targetPort: string }[] }).ports;
    const containerPorts = podSpecOf(one(ms, 'Deployment')).containers[0]!.ports.map((p) => p.name);
    for (const p of ports) expect(containerPorts).toContain(p.targetPort);
  });

  it("never sends the operator's namespace (or the control plane's) to the webhooks; opt-in is a matchCondition, not a label selector", () => {
    const ms = r('default');
    const mutating = webhooksOf(one(ms, 'MutatingWebhookConfiguration'))[0]!;
    const workloads = webhooksOf(one(ms, 'ValidatingWebhookConfiguration')).find((w) => w.name === 'workloads.helm.mindburn.org')!;
    for (const w of [mutating, workloads]) {
      expect(w.namespaceSelector!.matchExpressions).toContainEqual({ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [NAMESPACE, 'kube-system', 'kube-public', 'kube-node-lease'] });
    }
    // With failClosed, an unavailable operator must not block every pod in the cluster: only opted-in
    // objects are sent (test/chart/safety.test.ts evaluates the conditions).
    for (const w of [mutating, workloads]) expect((w as { matchConditions?: unknown[] }).matchConditions).toHaveLength(1);
  });

  it('operator Deployment: 2 replicas with leader election, probes, non-root, read-only root, a PDB that selects it', () => {
    const ms = r('default');
    const d = one(ms, 'Deployment');
    expect((d.spec as { replicas: number }).replicas).toBe(2);
    const pod = podSpecOf(d);
    const c = pod.containers[0]!;
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    expect(env.HELM_LEADER_ELECT).toBe('true');
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(c[probe]).toMatchObject({ httpGet: { port: 'webhook', scheme: 'HTTPS' } });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    const pdb = one(ms, 'PodDisruptionBudget');
    const podLabels = (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    const sel = (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    for (const [k, v] of Object.entries(sel)) expect(podLabels[k]).toBe(v);
    expect(podLabels['app.kubernetes.io/name']).toBe('helm-operator'); // never injected
  });

  it("the Deployment's environment and trust roots are what the operator's config parser accepts", () => {
    for (const [variant, mode] of [['default', 'self-managed'], ['cert-manager', 'files']] as const) {
      const ms = r(variant);
      const c = podSpecOf(one(ms, 'Deployment')).containers[0]!;
      const env: Record<string, string> = Object.fromEntries(c.env.map((e) => [e.name, e.value ?? `from-${e.name}`]));
      const cfg = parseConfig([], env);
      expect(cfg.webhook).toMatchObject({ enabled: true, certMode: mode, port: 9443, failClosed: true, sidecarMode: 'auto' });
      expect(cfg.webhook.signingKeySecret).toBeUndefined(); // certified identity: no signing-key Secret
      expect(cfg.leaderElection).toBe(true);
      expect(cfg.webhook.serviceName).toBe(one(ms, 'Service').metadata.name);
      expect([cfg.webhook.mutatingConfig, cfg.webhook.validatingConfig]).toEqual([one(ms, 'MutatingWebhookConfiguration').metadata.name, one(ms, 'ValidatingWebhookConfiguration').metadata.name]);
      const mounts = c.volumeMounts as { name: string; mountPath: string }[];
      expect(mounts.find((m) => cfg.trustRootsFile.startsWith(`${m.mountPath}/`))).toBeDefined();
      if (mode === 'self-managed') expect(byKind(ms, 'Secret').map((x) => x.metadata.name)).toEqual([cfg.webhook.secretName]);
      else expect(mounts.find((m) => m.mountPath === cfg.webhook.certDir)).toBeDefined();
    }
    const second = makeVerifierKey('second', new Uint8Array(32).fill(7), ALG_ED25519);
    const rooted = render(['--set-json', `trustRoots=["${ROOT}","${second.vkey}"]`, '--set-json', 'revokedSigners=["old+0badc0de"]']);
    const roots = byKind(rooted, 'ConfigMap').find((m) => m.metadata.name.endsWith('-trust-roots'))!;
    const trust = parseTrustRoots((roots.data as Record<string, string>)['roots.vkeys']!);
    expect(trust.roots.map((k) => k.handle)).toEqual(['example-bundle-signer+7383a887', second.handle]);
    expect(trust.revoked).toEqual(['old+0badc0de']);
    // Without trust roots the chart does not render (test/chart/safety.test.ts).
  });

  it('cert-manager mode: the Certificate feeds the mounted Secret and cainjector fills both caBundles', () => {
    const ms = r('cert-manager');
    const cert = one(ms, 'Certificate');
    const secretName = (cert.spec as { secretName: string }).secretName;
    expect(podSpecOf(one(ms, 'Deployment')).volumes.find((v) => v.name === 'webhook-tls')!.secret!.secretName).toBe(secretName);
    expect((cert.spec as { dnsNames: string[] }).dnsNames).toContain(`${one(ms, 'Service').metadata.name}.${NAMESPACE}.svc`);
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      expect(one(ms, kind).metadata.annotations!['cert-manager.io/inject-ca-from']).toBe(`${NAMESPACE}/${cert.metadata.name}`);
    }
    expect(byKind(ms, 'Secret')).toEqual([]);
    expect(byKind(ms, 'Issuer')).toHaveLength(1);
    expect(byKind(r('everything on'), 'Issuer')).toHaveLength(0);
    expect((one(r('everything on'), 'Certificate').spec as { issuerRef: unknown }).issuerRef).toEqual({ name: 'corp-ca', kind: 'ClusterIssuer' });
  });

  it('RBAC is least privilege: no wildcards, no cluster-wide Secrets, webhook configurations by name only', () => {
    for (const ms of Object.keys(VARIANTS).map(r)) {
      const rules = [...byKind(ms, 'ClusterRole'), ...byKind(ms, 'Role')].flatMap((r) => r.rules as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[]);
      for (const r of rules) {
        expect([...r.apiGroups, ...r.resources, ...r.verbs]).not.toContain('*');
      }
      const clusterRules = byKind(ms, 'ClusterRole').flatMap((r) => r.rules as { resources: string[]; resourceNames?: string[]; verbs: string[] }[]);
      expect(clusterRules.flatMap((r) => r.resources)).not.toContain('secrets');
      const hooks = clusterRules.find((r) => r.resources.includes('mutatingwebhookconfigurations'))!;
      expect(hooks.resourceNames).toEqual([one(ms, 'MutatingWebhookConfiguration').metadata.name]);
      expect(hooks.verbs).not.toContain('create');
      expect(hooks.verbs).not.toContain('delete');
      const secretRules = (one(ms, 'Role').rules as { resources: string[]; resourceNames?: string[] }[]).filter((r) => r.resources.includes('secrets'));
      for (const r of secretRules) expect(r.resourceNames).toEqual([`${RELEASE}-helm-operator-webhook-tls`]);
    }
  });

  it('ServiceMonitor, PodMonitor and PrometheusRule only when asked for; the dashboard ConfigMap by default', () => {
    expect(byKind(r('default'), 'ServiceMonitor')).toHaveLength(0);
    expect(byKind(r('default'), 'PrometheusRule')).toHaveLength(0);
    expect(byKind(r('everything on'), 'ServiceMonitor')).toHaveLength(1);
    expect(byKind(r('everything on'), 'PodMonitor')).toHaveLength(1);
    const rule = one(r('everything on'), 'PrometheusRule');
    expect(JSON.stringify(rule.spec)).toContain('{{ $labels.namespace }}');
    const dash = byKind(r('default'), 'ConfigMap').find((m) => m.metadata.name.endsWith('-dashboard'))!;
    expect(dash.metadata.labels!.grafana_dashboard).toBe('1');
    expect(JSON.parse((dash.data as Record<string, string>)['helm-operator.json']!).uid).toBe('helm-operator');
  });
});
