// The injector's pure core: the guard, the recipe, idempotency, credential isolation and the
// minimality of the patch (raw JSON in, RFC 6902 operations out).
import { needsInjection } from '../../../operator/webhook/needs-injection.js';
import { injectionPatch, reinvocationPatch, patchFor } from '../../../operator/webhook/patch/index.js';
import { guardianView } from '../../../operator/webhook/guardian.js';
import { sidecarModeFor } from '../../../operator/webhook/config.js';
import { escapePointer, type JsonObject } from '../../../operator/webhook/json.js';
import type { InjectionContext } from '../../../operator/webhook/patch/context.js';
import { agentPod, APP_NS, applyPatch, CERTIFY, config, guardianSidecar, OPERATOR_NS } from './support.js';

const ctx = (overrides: Partial<InjectionContext> = {}, gs = guardianSidecar()): InjectionContext => ({
  namespace: APP_NS,
  config: config({ bundleTrustRoots: ['example-bundle-signer+7383a887+AYFGZA8CSTr0+8VP4zOI513CyTeuC3cnzCsq+xt1GZo+'] }),
  guardian: guardianView(gs),
  bundleId: 'support-desk',
  certify: CERTIFY,
  ...overrides,
});

type C = { name: string; env?: { name: string; value?: string }[]; volumeMounts?: { name: string }[]; [k: string]: unknown };
const spec = (pod: JsonObject) => pod.spec as unknown as { containers: C[]; initContainers?: C[]; volumes: { name: string; [k: string]: unknown }[] };
const envOf = (c: C) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? e]));

describe('needsInjection', () => {
  it('accepts a pod opted in by annotation or label, and nothing else', () => {
    expect(needsInjection(agentPod(), APP_NS, config())).toEqual({ inject: true, reason: 'opted-in' });
    const onlyLabel = agentPod();
    delete (onlyLabel.metadata as JsonObject).annotations;
    expect(needsInjection(onlyLabel, APP_NS, config()).inject).toBe(true);
    const none = agentPod({ labels: { 'helm.mindburn.org/inject': 'no' }, annotations: { 'helm.mindburn.org/inject': 'maybe' } });
    expect(needsInjection(none, APP_NS, config())).toEqual({ inject: false, reason: 'not-opted-in' });
    expect(needsInjection({ metadata: {} }, APP_NS, config()).reason).toBe('not-opted-in');
  });

  it('lets an explicit "false" win over "true"', () => {
    expect(needsInjection(agentPod({ labels: { 'helm.mindburn.org/inject': 'false' } }), APP_NS, config()).reason).toBe('opted-out');
  });

  it("never injects the operator's namespace or its own pods", () => {
    expect(needsInjection(agentPod(), OPERATOR_NS, config()).reason).toBe('operator-namespace');
    expect(needsInjection(agentPod({ labels: { 'app.kubernetes.io/name': 'helm-operator' } }), APP_NS, config()).reason).toBe('operator-pod');
  });

  it('reports an already injected pod', () => {
    const injected = applyPatch(agentPod(), injectionPatch(agentPod(), ctx()));
    expect(needsInjection(injected, APP_NS, config())).toEqual({ inject: false, reason: 'already-injected' });
  });

  it('refuses pods that declare the sidecar ports or use its volume names', () => {
    const clash = agentPod();
    spec(clash).containers[0]!.ports = [{ containerPort: 8080 }];
    expect(needsInjection(clash, APP_NS, config())).toMatchObject({ inject: false, reason: 'port-conflict' });
    expect(needsInjection(clash, APP_NS, config({ governedPort: 18080 })).inject).toBe(true);
    const reserved = agentPod({ extra: { volumes: [{ name: 'helm-guardian-signing-keys', emptyDir: {} }] } });
    expect(needsInjection(reserved, APP_NS, config()).reason).toBe('reserved-name');
  });
});

describe('injectionPatch', () => {
  const pod = agentPod();
  const patch = injectionPatch(pod, ctx());
  const out = applyPatch(pod, patch);

  it('adds a native sidecar first among the init containers, with a startup probe and a locked-down security context', () => {
    const sidecar = spec(out).initContainers![0]!;
    expect(sidecar.name).toBe('helm-guardian');
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.image).toBe('ghcr.io/mindburn/helm-sidecar:0.1.0');
    expect(sidecar.startupProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'helm-admin' } });
    expect(sidecar.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec(out).containers.map((c) => c.name)).toEqual(['agent', 'worker']);
  });

  it('falls back to a regular container for clusters older than 1.29', () => {
    expect(sidecarModeFor('v1.28.9')).toBe('container');
    expect(sidecarModeFor({ major: '1', minor: '29+' })).toBe('native');
    expect(sidecarModeFor('v1.33.0-eks-1')).toBe('native');
    const legacy = applyPatch(pod, injectionPatch(pod, ctx({ config: config({ sidecarMode: 'container' }) })));
    expect(spec(legacy).initContainers).toBeUndefined();
    const last = spec(legacy).containers[2]!;
    expect(last.name).toBe('helm-guardian');
    expect(last.restartPolicy).toBeUndefined();
    // The env ops addressed the app containers by their original indices.
    expect(envOf(spec(legacy).containers[0]!).OPENAI_BASE_URL).toBe('http://127.0.0.1:8080/v1');
  });

  it('points every app container at the sidecar, replacing a direct provider URL', () => {
    for (const c of spec(out).containers) {
      const env = envOf(c);
      expect(env.OPENAI_BASE_URL).toBe('http://127.0.0.1:8080/v1');
      expect(env.OPENAI_API_BASE).toBe('http://127.0.0.1:8080/v1');
      expect(env.HELM_MCP_URL).toBe('http://127.0.0.1:8080/mcp');
      expect(env.OPENAI_API_KEY).toBe('helm-sidecar-managed');
    }
    expect(envOf(spec(out).containers[0]!).LOG_LEVEL).toBe('debug');
    expect(patch).toContainEqual({ op: 'replace', path: '/spec/containers/0/env/0', value: { name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:8080/v1' } });
  });

  it('keeps credentials in the sidecar: secret volumes are mounted there and nowhere else', () => {
    const volumes = Object.fromEntries(spec(out).volumes.map((v) => [v.name, v]));
    expect(volumes['helm-guardian-upstream-credentials']).toEqual({
      name: 'helm-guardian-upstream-credentials',
      secret: { secretName: 'openai', items: [{ key: 'api-key', path: 'api-key' }], defaultMode: 0o444, optional: false },
    });
    expect(volumes['helm-guardian-signing-keys']).toBeUndefined();
    expect(volumes['helm-guardian-mcp-credentials']).toMatchObject({ projected: { sources: [{ secret: { name: 'crm-token', items: [{ key: 'token', path: 'crm' }] } }] } });
    expect(volumes['helm-guardian-policy']).toEqual({ name: 'helm-guardian-policy', configMap: { name: 'helm-policy-support-desk', optional: false } });
    expect(volumes['helm-guardian-proofgraph']).toEqual({ name: 'helm-guardian-proofgraph', emptyDir: {} });
    for (const c of spec(out).containers) {
      expect((c.volumeMounts ?? []).map((m) => m.name)).toEqual([]);
      expect(Object.keys(envOf(c)).filter((k) => k.includes('KEY_FILE') || k === 'HELM_UPSTREAM_URL')).toEqual([]);
    }
    const sidecar = spec(out).initContainers![0]!;
    expect(sidecar.volumeMounts!.map((m) => m.name).sort()).toEqual(
      ['helm-guardian-mcp-credentials', 'helm-guardian-policy', 'helm-guardian-proofgraph', 'helm-guardian-token', 'helm-guardian-tmp', 'helm-guardian-upstream-credentials'].sort(),
    );
  });

  it('injects certified identity: env, a projected certify token for the sidecar only, and no signing-key Secret', () => {
    const sidecar = spec(out).initContainers![0]!;
    const env = Object.fromEntries((sidecar.env as unknown as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [e.name, e]));
    expect(env.HELM_IDENTITY!.value).toBe('certified');
    expect(env.HELM_POD_UID!.valueFrom).toEqual({ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.uid' } });
    expect(env.HELM_CLUSTER_ORIGIN!.value).toBe(CERTIFY.clusterOrigin);
    expect(env.HELM_CERTIFY_URL!.value).toBe('https://helm-operator-webhook.helm-system.svc:443/v1/certify');
    expect(env.HELM_CERTIFY_CA!.value).toBe(CERTIFY.caBundle);
    expect(env.HELM_CERTIFY_ROOT!.value).toBe(CERTIFY.rootVkey);
    expect(env.HELM_CERTIFY_TOKEN_FILE!.value).toBe('/var/run/secrets/helm.mindburn.org/token/token');
    for (const gone of ['HELM_NODE_KEY', 'HELM_LOG_KEY', 'HELM_TRUST_EVENTS']) expect(env[gone]).toBeUndefined();
    const token = spec(out).volumes.find((v) => v.name === 'helm-guardian-token');
    expect(token).toEqual({
      name: 'helm-guardian-token',
      projected: { defaultMode: 0o444, sources: [{ serviceAccountToken: { audience: 'helm.mindburn.org/certify', expirationSeconds: 600, path: 'token' } }] },
    });
    expect(sidecar.volumeMounts).toContainEqual({ name: 'helm-guardian-token', mountPath: '/var/run/secrets/helm.mindburn.org/token', readOnly: true });
    expect(spec(out).volumes.some((v) => JSON.stringify(v).includes('secretName":"helm-guardian-signing-keys'))).toBe(false);
  });

  it("passes the pod's identity to the sidecar through the downward API", () => {
    const env = spec(out).initContainers![0]!.env as unknown as { name: string; valueFrom?: { fieldRef: { fieldPath: string } }; value?: string }[];
    const byName = Object.fromEntries(env.map((e) => [e.name, e]));
    expect(byName.HELM_POD_NAMESPACE!.valueFrom!.fieldRef.fieldPath).toBe('metadata.namespace');
    expect(byName.HELM_POD_SERVICE_ACCOUNT!.valueFrom!.fieldRef.fieldPath).toBe('spec.serviceAccountName');
    expect(byName.HELM_POD_NAME!.valueFrom!.fieldRef.fieldPath).toBe('metadata.name');
    expect(byName.HELM_LISTEN!.value).toBe('127.0.0.1:8080');
    expect(byName.HELM_ADMIN_LISTEN!.value).toBe('0.0.0.0:9090');
    expect(byName.HELM_BUNDLE!.value).toBe('/etc/helm/bundle/bundle.json');
    expect(byName.HELM_BUNDLE_SIGNATURE!.value).toBe('/etc/helm/bundle/signature.json');
    expect(byName.HELM_BUNDLE_TRUST_ROOTS!.value).toBe('example-bundle-signer+7383a887+AYFGZA8CSTr0+8VP4zOI513CyTeuC3cnzCsq+xt1GZo+');
    expect(byName.HELM_UPSTREAM_URL!.value).toBe('https://api.openai.com/v1');
    expect(byName.HELM_UPSTREAM_API_KEY_FILE!.value).toBe('/etc/helm/upstream/api-key');
    expect(JSON.parse(byName.HELM_MCP_UPSTREAMS!.value!)).toEqual([{ name: 'crm', transport: 'http', url: 'http://crm-mcp.tools:8000/mcp', authFile: '/etc/helm/mcp/crm' }]);
  });

  it("mounts the namespace's shared ProofGraph claim when the GuardianSidecar names one", () => {
    const gs = guardianSidecar({ spec: { proofGraph: { persistentVolumeClaim: { claimName: 'proofgraph' } } } });
    const pvc = applyPatch(pod, injectionPatch(pod, ctx({}, gs)));
    expect(spec(pvc).volumes.find((v) => v.name === 'helm-guardian-proofgraph')).toEqual({ name: 'helm-guardian-proofgraph', persistentVolumeClaim: { claimName: 'proofgraph' } });
    // The sidecar writes <dir>/<pod name>: one log per pod on the shared claim.
    expect(envOf(spec(pvc).initContainers![0]!).HELM_PROOFGRAPH_DIR).toBe('/var/lib/helm/proofgraph');
  });

  it('is minimal: leaves unknown fields and unrelated parts alone, escapes JSON pointers', () => {
    expect((spec(out).containers[0] as JsonObject).futureField).toEqual({ keep: true });
    expect(spec(out).volumes[0]).toEqual({ name: 'scratch', emptyDir: {} });
    expect(patch).toContainEqual({ op: 'add', path: '/metadata/annotations/helm.mindburn.org~1guardian-sidecar', value: 'agents/support' });
    expect(patch).toContainEqual({ op: 'add', path: '/metadata/labels/helm.mindburn.org~1injected', value: 'true' });
    expect(escapePointer('a~b/c')).toBe('a~0b~1c');
    for (const op of patch) expect(op.path).not.toMatch(/^\/(metadata\/(name|namespace|generateName)|status|apiVersion|kind)/);
    // Creating lists that did not exist is one op, not one per element.
    const bare = agentPod({ extra: { volumes: undefined as unknown as JsonObject } });
    delete (bare.spec as JsonObject).volumes;
    const ops = injectionPatch(bare, ctx());
    expect(ops.filter((o) => o.path.startsWith('/spec/volumes'))).toHaveLength(1);
  });

  it('is idempotent: the patched pod, seen again, yields no patch', () => {
    const decision = needsInjection(out, APP_NS, config());
    expect(patchFor(out, decision, ctx())).toEqual([]);
    expect(reinvocationPatch(out, { config: config() })).toEqual([]);
  });

  it('on reinvocation, points a container added by a later webhook at the sidecar and nothing more', () => {
    const later = structuredClone(out);
    spec(later).containers.push({ name: 'added-by-mesh', image: 'proxy:1' });
    const ops = reinvocationPatch(later, { config: config() });
    expect(ops).toHaveLength(1);
    expect(ops[0]!.path).toBe('/spec/containers/2/env');
    const again = applyPatch(later, ops);
    expect(reinvocationPatch(again, { config: config() })).toEqual([]);
  });
});

describe('the sidecar contract', () => {
  it('every variable the injector sets is one `helmctl serve` reads (sidecar/config/keys.ts)', async () => {
    const { KEYS } = await import('../../../sidecar/config/keys.js');
    const known = new Set(KEYS.flatMap((k) => [...k.env]));
    const { SIDECAR_ENV } = await import('../../../operator/webhook/sidecar-contract.js');
    for (const name of Object.values(SIDECAR_ENV)) expect([name, known.has(name)]).toEqual([name, true]);
    const out = applyPatch(agentPod(), injectionPatch(agentPod(), ctx()));
    const set = (spec(out).initContainers![0]!.env ?? []).map((e) => e.name);
    for (const name of set) expect([name, known.has(name)]).toEqual([name, true]);
  });

  it('the MCP upstream list it writes is one the sidecar accepts, credentials as an authFile', async () => {
    const { parseUpstreamList } = await import('../../../sidecar/mcp/upstream-config.js');
    const out = applyPatch(agentPod(), injectionPatch(agentPod(), ctx()));
    const value = (spec(out).initContainers![0]!.env ?? []).find((e) => e.name === 'HELM_MCP_UPSTREAMS')?.value;
    expect(value).toBeDefined();
    const upstreams = parseUpstreamList(JSON.parse(value!), 'HELM_MCP_UPSTREAMS');
    expect(upstreams).toEqual([{ name: 'crm', transport: 'http', url: 'http://crm-mcp.tools:8000/mcp', authFile: expect.stringMatching(/\/crm$/) }]);
  });

  it('names the ConfigMap the PolicyBundle controller distributes', () => {
    const out = applyPatch(agentPod(), injectionPatch(agentPod(), { ...ctx(), bundleId: 'Support Desk/v2' }));
    const cm = spec(out).volumes.find((v) => v.name === 'helm-guardian-policy')!.configMap as { name: string };
    expect(cm.name).toMatch(/^helm-policy-support-desk-v2-[0-9a-f]{10}$/);
  });
});
