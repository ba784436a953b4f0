// The trust boundary inside a governed pod (issue 9): app containers never reach the model key,
// MCP credentials, signing material or the certify token; a container named like the sidecar is
// the injector's or refused; a GuardianSidecar governs its own namespace only; opt-in by
// annotation; native sidecars only where every kubelet runs them.
import { parseAdmissionReview, type AdmissionRequestView } from '../../../operator/webhook/admission.js';
import { sidecarModeForNodes } from '../../../operator/webhook/config.js';
import { chooseGuardian } from '../../../operator/webhook/guardian.js';
import { mutate } from '../../../operator/webhook/handlers.js';
import type { JsonObject, PatchOp } from '../../../operator/webhook/json.js';
import { mapLookup, type LookupState } from '../../../operator/webhook/lookup.js';
import { MUTATING_MATCH_CONDITIONS } from '../../../operator/webhook/match-conditions.js';
import { needsInjection } from '../../../operator/webhook/needs-injection.js';
import { sidecarDigest } from '../../../operator/webhook/sidecar-digest.js';
import { validateRequest } from '../../../operator/webhook/validate.js';
import { agentPod, APP_NS, applyPatch, certify, clusterGuardianSidecar, config, guardianSidecar, lookupState, OPERATOR_NS, policyBundle, review } from './support.js';

const asRequest = (body: JsonObject): AdmissionRequestView => {
  const parsed = parseAdmissionReview(JSON.stringify(body));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.request;
};

type C = { name: string; image?: string; env?: JsonObject[]; envFrom?: JsonObject[]; volumeMounts?: JsonObject[]; [k: string]: unknown };
const spec = (pod: JsonObject) => pod.spec as unknown as { containers: C[]; initContainers?: C[]; ephemeralContainers?: C[]; volumes: JsonObject[]; [k: string]: unknown };
const deps = (state: LookupState = lookupState(), overrides = {}) => ({ config: config(overrides), lookup: mapLookup(state), certify });

async function injected(pod = agentPod(), state = lookupState()): Promise<JsonObject> {
  const m = await mutate(asRequest(review(pod)), deps(state));
  if (!m.result.allowed) throw new Error(m.result.message);
  return applyPatch(pod, m.result.patch ?? []);
}

async function validatePod(pod: JsonObject, state = lookupState(), opts: { operation?: string; oldObject?: JsonObject } = {}) {
  return validateRequest(asRequest(review(pod, opts)), deps(state));
}

const message = (r: { allowed: boolean; message?: string }) => (r.allowed ? 'allowed' : r.message);

describe('validating webhook: app containers cannot reach credentials or signing material', () => {
  it('admits the injected pod itself', async () => {
    expect(await validatePod(await injected())).toEqual({ allowed: true });
  });

  it('refuses env valueFrom.secretKeyRef and envFrom.secretRef naming the model key or an MCP credential', async () => {
    const pod = await injected();
    spec(pod).containers[1]!.env = [{ name: 'STOLEN', valueFrom: { secretKeyRef: { name: 'openai', key: 'api-key' } } }];
    expect(message(await validatePod(pod))).toMatch(/container worker \(spec\.containers\[1\]\) env\[0\] STOLEN reads Secret openai \(valueFrom\.secretKeyRef\), the model API key of agents\/support.*remove the reference.*\[CREDENTIAL_ISOLATION\]/);
    const viaEnvFrom = await injected();
    spec(viaEnvFrom).containers[0]!.envFrom = [{ secretRef: { name: 'crm-token' } }];
    expect(message(await validatePod(viaEnvFrom))).toMatch(/container agent .*envFrom\[0\] reads Secret crm-token \(secretRef\), the credential of MCP upstream crm/);
  });

  it('refuses secret, projected-secret and certify-token volumes, and the reserved sidecar volumes, in every kind of container', async () => {
    const cases: [JsonObject, RegExp][] = [
      [{ name: 'k', secret: { secretName: 'openai' } }, /volume k holds Secret openai/],
      [{ name: 'k', projected: { sources: [{ configMap: { name: 'x' } }, { secret: { name: 'crm-token' } }] } }, /volume k projects Secret crm-token \(projected\.sources\[1\]\.secret\)/],
      [{ name: 'k', projected: { sources: [{ serviceAccountToken: { audience: 'helm.mindburn.org/certify', path: 't' } }] } }, /ServiceAccount token for audience helm\.mindburn\.org\/certify/],
    ];
    for (const [volume, why] of cases) {
      for (const field of ['containers', 'initContainers'] as const) {
        const pod = await injected();
        spec(pod).volumes.push(volume);
        const c: C = { name: 'thief', image: 'x' };
        c.volumeMounts = [{ name: 'k', mountPath: '/k' }];
        if (field === 'containers') spec(pod).containers.push(c);
        else spec(pod).initContainers!.push(c);
        expect(message(await validatePod(pod))).toMatch(why);
        expect(message(await validatePod(pod))).toMatch(new RegExp(`container thief \\(spec\\.${field}\\[\\d\\]\\) volumeMounts\\[0\\]`));
      }
    }
    const reserved = await injected();
    spec(reserved).containers[0]!.volumeMounts = [{ name: 'helm-guardian-proofgraph', mountPath: '/pg' }];
    expect(message(await validatePod(reserved))).toMatch(/volume helm-guardian-proofgraph is reserved for the Guardian sidecar/);
  });

  it('refuses an ephemeral container (kubectl debug) that mounts the key', async () => {
    const pod = await injected();
    const debugged = structuredClone(pod);
    spec(debugged).volumes.push({ name: 'k', secret: { secretName: 'openai' } });
    spec(debugged).ephemeralContainers = [{ name: 'debugger', image: 'busybox', volumeMounts: [{ name: 'helm-guardian-upstream-credentials', mountPath: '/k' }] }];
    const body = review(debugged, { operation: 'UPDATE', oldObject: pod });
    ((body.request as JsonObject).subResource as unknown) = 'ephemeralcontainers';
    const r = await validateRequest(asRequest(body), deps());
    expect(message(r)).toMatch(/container debugger \(spec\.ephemeralContainers\[0\]\) volumeMounts\[0\] mounts volume helm-guardian-upstream-credentials is reserved/);
  });

  it('refuses a Deployment whose template would leak the key, and shared process namespaces', async () => {
    const pod = agentPod();
    spec(pod).containers[0]!.env!.push({ name: 'OPENAI_API_KEY', valueFrom: { secretKeyRef: { name: 'openai', key: 'api-key' } } });
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a', namespace: APP_NS }, spec: { selector: {}, template: { metadata: pod.metadata!, spec: pod.spec! } } } as JsonObject;
    const r = await validateRequest(asRequest(review(d, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: 'deployments' })), deps());
    expect(message(r)).toMatch(/OPENAI_API_KEY reads Secret openai/);
    const shared = await injected();
    spec(shared).shareProcessNamespace = true;
    expect(message(await validatePod(shared))).toMatch(/spec\.shareProcessNamespace is true.*remove it/);
  });

  it("injection replaces an app's OPENAI_API_KEY secretKeyRef with the placeholder when the sidecar holds the key", async () => {
    const pod = agentPod();
    spec(pod).containers[0]!.env!.push({ name: 'OPENAI_API_KEY', valueFrom: { secretKeyRef: { name: 'openai', key: 'api-key' } } });
    const out = await injected(pod);
    const key = spec(out).containers[0]!.env!.filter((e) => e.name === 'OPENAI_API_KEY');
    expect(key).toEqual([{ name: 'OPENAI_API_KEY', value: 'helm-sidecar-managed' }]);
    expect(await validatePod(out)).toEqual({ allowed: true });
  });
});

describe('a container named like the sidecar must be the injected one', () => {
  const lookAlike = (): JsonObject => {
    const pod = agentPod();
    spec(pod).containers.push({ name: 'helm-guardian', image: 'evil/forger:1' });
    return pod;
  };

  it('is not taken as already injected, and the mutating webhook refuses it', async () => {
    expect(needsInjection(lookAlike(), APP_NS, config())).toMatchObject({ inject: false, reason: 'sidecar-look-alike' });
    const m = await mutate(asRequest(review(lookAlike())), deps());
    expect(m.outcome).toBe('denied');
    expect(message(m.result)).toMatch(/spec\.containers\[2\] is named helm-guardian but was not produced by the injector .*rename the container/);
  });

  it('the validator refuses a look-alike even with a self-computed digest', async () => {
    const pod = lookAlike();
    (pod.metadata as JsonObject).annotations = { ...(pod.metadata as JsonObject).annotations as JsonObject, 'helm.mindburn.org/sidecar-digest': sidecarDigest(spec(pod).containers[2]), 'helm.mindburn.org/guardian-sidecar': 'agents/support' };
    expect(needsInjection(pod, APP_NS, config()).reason).toBe('already-injected');
    expect(message(await validatePod(pod))).toMatch(/is not the one the injector makes for agents\/support.*\[SIDECAR_NOT_INJECTED\]/);
    // Also in a pod that does not opt in, and in a workload template.
    const quiet = lookAlike();
    delete (quiet.metadata as JsonObject).annotations;
    delete (quiet.metadata as JsonObject).labels;
    expect(message(await validatePod(quiet))).toMatch(/not produced by the injector/);
  });

  it('refuses changing the injected sidecar of a running pod', async () => {
    const pod = await injected();
    const changed = structuredClone(pod);
    spec(changed).initContainers![0]!.image = 'evil/forger:1';
    expect(message(await validatePod(changed, lookupState(), { operation: 'UPDATE', oldObject: pod }))).toMatch(/SIDECAR_NOT_INJECTED/);
    const relabelled = structuredClone(pod);
    ((relabelled.metadata as JsonObject).labels as JsonObject).extra = 'x';
    expect(await validatePod(relabelled, lookupState(), { operation: 'UPDATE', oldObject: pod })).toEqual({ allowed: true });
  });

  it('survives API-server defaulting of the fields it does not bind', async () => {
    const pod = await injected();
    const sidecar = spec(pod).initContainers![0]!;
    sidecar.terminationMessagePath = '/dev/termination-log';
    (sidecar.readinessProbe as JsonObject).successThreshold = 1;
    expect(await validatePod(pod)).toEqual({ allowed: true });
  });
});

describe('GuardianSidecar scope', () => {
  const victimState = (): LookupState => {
    const s = lookupState();
    s.guardianSidecars = [guardianSidecar({ namespace: 'attacker', name: 'grab', spec: { namespaceSelector: {}, image: 'evil/sidecar:1' } })];
    s.policyBundles.push(policyBundle({ namespace: 'attacker' }));
    return s;
  };

  it("a GuardianSidecar in another namespace never governs a victim's pods, even with namespaceSelector {}", async () => {
    const m = await mutate(asRequest(review(agentPod())), deps(victimState()));
    expect(m.result.allowed).toBe(false);
    expect(message(m.result)).toMatch(/no GuardianSidecar of namespace agents and no ClusterGuardianSidecar selects/);
    const named = agentPod({ annotations: { 'helm.mindburn.org/guardian-sidecar': 'attacker/grab' } });
    expect(message((await mutate(asRequest(review(named)), deps(victimState()))).result)).toMatch(/is in another namespace; a GuardianSidecar governs pods of its own namespace only/);
  });

  it('the validating webhook refuses spec.namespaceSelector on a GuardianSidecar, naming the fix', async () => {
    const gs = guardianSidecar({ spec: { namespaceSelector: {} } });
    const r = await validateRequest(asRequest(review(gs, { kind: { group: 'helm.mindburn.org', version: 'v1alpha1', kind: 'GuardianSidecar' }, resource: 'guardiansidecars' })), deps());
    expect(message(r)).toMatch(/spec\.namespaceSelector is not allowed.*ClusterGuardianSidecar/);
  });

  it('a ClusterGuardianSidecar selects across namespaces; a GuardianSidecar of the namespace wins over it', async () => {
    const state = lookupState();
    state.guardianSidecars = [];
    state.clusterGuardianSidecars = [clusterGuardianSidecar({ spec: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': APP_NS } } } })];
    state.policyBundles.push(policyBundle({ namespace: OPERATOR_NS }));
    const wide = await injected(agentPod(), state);
    expect((wide.metadata as JsonObject).annotations).toMatchObject({ 'helm.mindburn.org/guardian-sidecar': 'ClusterGuardianSidecar/fleet' });
    expect(spec(wide).initContainers![0]!.image).toBe('ghcr.io/mindburn/helm-sidecar:fleet');
    expect(await validatePod(wide, state)).toEqual({ allowed: true });
    state.guardianSidecars = [guardianSidecar()];
    const local = await injected(agentPod(), state);
    expect((local.metadata as JsonObject).annotations).toMatchObject({ 'helm.mindburn.org/guardian-sidecar': 'agents/support' });
  });

  it('ambiguity: two local or two cluster-wide matches refuse the pod unless it names one', () => {
    const nsLabels = { 'helm.mindburn.org/governed': 'true' };
    const pod = { namespace: APP_NS, labels: {} };
    const twoLocal = chooseGuardian([guardianSidecar({ name: 'a' }), guardianSidecar({ name: 'b' })], pod, nsLabels);
    expect(twoLocal).toMatchObject({ ok: false, reason: 'ambiguous-guardian-sidecar' });
    const cgs = [clusterGuardianSidecar({ name: 'x' }), clusterGuardianSidecar({ name: 'y' })];
    expect(chooseGuardian([], pod, nsLabels, cgs)).toMatchObject({ ok: false, reason: 'ambiguous-guardian-sidecar' });
    expect(chooseGuardian([], { ...pod, explicit: 'ClusterGuardianSidecar/y' }, nsLabels, cgs)).toMatchObject({ ok: true, guardian: { name: 'y', kind: 'ClusterGuardianSidecar' } });
    // A cluster one must select the namespace (default: label helm.mindburn.org/governed=true).
    expect(chooseGuardian([], { ...pod, explicit: 'ClusterGuardianSidecar/y' }, {}, cgs)).toMatchObject({ ok: false, reason: 'no-guardian-sidecar' });
    // One local match wins over any number of cluster-wide ones.
    expect(chooseGuardian([guardianSidecar({ name: 'a' })], pod, nsLabels, cgs)).toMatchObject({ ok: true, guardian: { name: 'a' } });
  });
});

describe('opt-in and sidecar mode', () => {
  it('injects a pod opted in by the annotation alone, as README documents', async () => {
    const pod = agentPod({ labels: {} });
    delete ((pod.metadata as JsonObject).labels as JsonObject)['helm.mindburn.org/inject'];
    const m = await mutate(asRequest(review(pod)), deps());
    expect(m.outcome).toBe('injected');
    expect(MUTATING_MATCH_CONDITIONS[0]!.expression).toContain("object.metadata.annotations['helm.mindburn.org/inject']");
    expect(MUTATING_MATCH_CONDITIONS[0]!.expression).toContain("object.metadata.labels['helm.mindburn.org/inject']");
  });

  it('native only when every kubelet is >= 1.29; else, or when nodes are unknown, the classic container', async () => {
    expect(sidecarModeForNodes(['v1.29.0', 'v1.31.2-eks-1'])).toBe('native');
    expect(sidecarModeForNodes(['v1.30.1', 'v1.28.9'])).toBe('container');
    expect(sidecarModeForNodes([])).toBe('container');
    expect(sidecarModeForNodes(undefined)).toBe('container');
    const state = lookupState();
    state.kubeletVersions = ['v1.30.1', 'v1.28.9'];
    const ops = async (pod = agentPod()) => ((await mutate(asRequest(review(pod)), deps(state, { sidecarMode: 'auto' }))).result as { patch: PatchOp[] }).patch;
    const old = applyPatch(agentPod(), await ops());
    expect(spec(old).initContainers).toBeUndefined();
    expect(spec(old).containers.map((c) => c.name)).toContain('helm-guardian');
    state.kubeletVersions = ['v1.30.1', 'v1.29.0'];
    expect(spec(applyPatch(agentPod(), await ops())).initContainers![0]!.name).toBe('helm-guardian');
    // A per-pod choice wins.
    state.kubeletVersions = ['v1.28.0'];
    const chosen = agentPod({ annotations: { 'helm.mindburn.org/sidecar-mode': 'native' } });
    expect(spec(applyPatch(chosen, await ops(chosen))).initContainers![0]!.restartPolicy).toBe('Always');
    const bad = agentPod({ annotations: { 'helm.mindburn.org/sidecar-mode': 'sometimes' } });
    expect(message((await mutate(asRequest(review(bad)), deps(state, { sidecarMode: 'auto' }))).result)).toMatch(/sidecar-mode is "sometimes"; set it to native or container/);
  });
});

describe('certified identity', () => {
  it('refuses to inject when the operator has no certification root (no sidecar could certify)', async () => {
    const m = await mutate(asRequest(review(agentPod())), { config: config(), lookup: mapLookup(lookupState()) });
    expect(m.outcome).toBe('denied');
    expect(message(m.result)).toMatch(/no certification root \(HELM_CERTIFY_ROOT_KEY_FILE/);
  });

  it('derives the root vkey from the root private key file, and checks HELM_CERTIFY_ROOT', async () => {
    const { certifyRootFrom } = await import('../../../operator/webhook/certify-context.js');
    const { signingKeyFromSeed } = await import('../../../kernel/crypto/signing-key.js');
    const { nodeSigner } = await import('../../../kernel/crypto/node.js');
    const root = signingKeyFromSeed('helm-certify-root', new Uint8Array(32).fill(7), nodeSigner);
    expect(certifyRootFrom({ HELM_CERTIFY_ROOT_KEY_FILE: '/k' }, () => `${root.privateText}\n`)).toBe(root.verifier.vkey);
    expect(certifyRootFrom({ HELM_CERTIFY_ROOT: root.verifier.vkey })).toBe(root.verifier.vkey);
    expect(certifyRootFrom({})).toBeUndefined();
    expect(() => certifyRootFrom({ HELM_CERTIFY_ROOT: 'nope' })).toThrow(/HELM_CERTIFY_ROOT is not a verifier key/);
  });
});

describe('injectedByWebhook (for the certify endpoint)', () => {
  it('accepts the injected pod and refuses a look-alike, a lost label and a token shared with the app', async () => {
    const { injectedByWebhook } = await import('../../../operator/webhook/injected.js');
    const pod = await injected();
    expect(injectedByWebhook(pod)).toBe(true);
    const unlabelled = structuredClone(pod);
    delete ((unlabelled.metadata as JsonObject).labels as JsonObject)['helm.mindburn.org/injected'];
    expect(injectedByWebhook(unlabelled)).toBe(false);
    const changed = structuredClone(pod);
    spec(changed).initContainers![0]!.image = 'evil/forger:1';
    expect(injectedByWebhook(changed)).toBe(false);
    const shared = structuredClone(pod);
    spec(shared).containers[0]!.volumeMounts = [{ name: 'helm-guardian-token', mountPath: '/t' }];
    expect(injectedByWebhook(shared)).toBe(false);
  });
});
