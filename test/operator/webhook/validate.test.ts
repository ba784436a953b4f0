// The validating webhook's decisions and the GuardianSidecar choice they rest on.
import { parseAdmissionReview, type AdmissionRequestView } from '../../../operator/webhook/admission.js';
import { chooseGuardian } from '../../../operator/webhook/guardian.js';
import { requiredLevel, validateRequest } from '../../../operator/webhook/validate.js';
import type { JsonObject } from '../../../operator/webhook/json.js';
import { mapLookup } from '../../../operator/webhook/lookup.js';
import { agentPod, APP_NS, certify, clusterGuardianSidecar, config, guardianSidecar, lookupState, policyBundle, review } from './support.js';

const asRequest = (body: JsonObject): AdmissionRequestView => {
  const parsed = parseAdmissionReview(JSON.stringify(body));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.request;
};

const DEPLOYMENT = { group: 'apps', version: 'v1', kind: 'Deployment' };
const GS_KIND = { group: 'helm.mindburn.org', version: 'v1alpha1', kind: 'GuardianSidecar' };

function deployment(level: string | undefined, templateAnnotations: Record<string, string> = { 'helm.mindburn.org/inject': 'true' }): JsonObject {
  const pod = agentPod({ annotations: { ...templateAnnotations, ...(level ? { 'helm.mindburn.org/conformance-level': level } : {}) } });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'support-agent', namespace: APP_NS },
    spec: { replicas: 2, selector: { matchLabels: { app: 'support-agent' } }, template: { metadata: pod.metadata!, spec: pod.spec! } },
  };
}

async function decide(body: JsonObject, state = lookupState()) {
  return validateRequest(asRequest(body), { config: config(), lookup: mapLookup(state), certify });
}

describe('validating webhook: conformance levels', () => {
  it('allows a workload asking for no more than its GuardianSidecar provides (L1 < L2 < L3)', async () => {
    for (const level of ['L1', 'L2']) {
      expect(await decide(review(deployment(level), { kind: DEPLOYMENT, resource: 'deployments' }))).toEqual({ allowed: true });
    }
    expect(await decide(review(deployment(undefined), { kind: DEPLOYMENT, resource: 'deployments' }))).toEqual({ allowed: true });
  });

  it('rejects a workload asking for more', async () => {
    const r = await decide(review(deployment('L3'), { kind: DEPLOYMENT, resource: 'deployments' }));
    expect(r).toMatchObject({ allowed: false, code: 403 });
    expect(r.allowed === false && r.message).toMatch(/asks for conformance L3 but GuardianSidecar agents\/support provides L2/);
  });

  it('reads the annotation on the workload itself, on the template, and on CronJob templates', async () => {
    const d = deployment(undefined);
    (d.metadata as JsonObject).annotations = { 'helm.mindburn.org/conformance-level': 'L3' };
    expect((await decide(review(d, { kind: DEPLOYMENT, resource: 'deployments' }))).allowed).toBe(false);
    const pod = agentPod({ annotations: { 'helm.mindburn.org/conformance-level': 'L3' } });
    const cron = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: APP_NS }, spec: { schedule: '@daily', jobTemplate: { spec: { template: { metadata: pod.metadata!, spec: pod.spec! } } } } };
    expect((await decide(review(cron as JsonObject, { kind: { group: 'batch', version: 'v1', kind: 'CronJob' }, resource: 'cronjobs' }))).allowed).toBe(false);
    expect(requiredLevel({ metadata: { annotations: { 'helm.mindburn.org/conformance-level': 'L1' } } }, { metadata: { annotations: { 'helm.mindburn.org/conformance-level': 'L3' } } })).toEqual({ level: 'L3' });
  });

  it('rejects an unknown level, a level without injection, and a level with no GuardianSidecar', async () => {
    const bad = await decide(review(deployment('L9'), { kind: DEPLOYMENT, resource: 'deployments' }));
    expect(bad.allowed === false && bad.message).toMatch(/"L9" is not one of L1, L2, L3/);
    const notInjected = await decide(review(deployment('L1', { 'helm.mindburn.org/inject': 'false' }), { kind: DEPLOYMENT, resource: 'deployments' }));
    expect(notInjected.allowed === false && notInjected.message).toMatch(/not injected/);
    const state = lookupState();
    state.guardianSidecars = [];
    const none = await decide(review(deployment('L1'), { kind: DEPLOYMENT, resource: 'deployments' }), state);
    expect(none.allowed === false && none.message).toMatch(/no GuardianSidecar of namespace agents/);
  });

  it('lets deletions and objects being deleted through', async () => {
    const d = deployment('L3');
    (d.metadata as JsonObject).deletionTimestamp = '2026-11-22T00:00:00Z';
    expect(await decide(review(d, { kind: DEPLOYMENT, resource: 'deployments', operation: 'UPDATE', oldObject: deployment('L3') }))).toEqual({ allowed: true });
    expect(await decide(review(undefined, { kind: DEPLOYMENT, resource: 'deployments', operation: 'DELETE', oldObject: deployment('L3') }))).toEqual({ allowed: true });
  });

  it('refuses pods whose app containers mount the sidecar secret volumes', async () => {
    const pod = agentPod();
    (pod.spec as { containers: JsonObject[] }).containers[0]!.volumeMounts = [{ name: 'helm-guardian-upstream-credentials', mountPath: '/steal' }];
    const r = await decide(review(pod));
    expect(r.allowed === false && r.message).toMatch(/mounts volume helm-guardian-upstream-credentials is reserved for the Guardian sidecar.*\[CREDENTIAL_ISOLATION\]/);
  });
});

describe('validating webhook: GuardianSidecars', () => {
  const gsReview = (gs: JsonObject, operation = 'CREATE', oldObject?: JsonObject) =>
    review(gs, { kind: GS_KIND, resource: 'guardiansidecars', operation, ...(oldObject ? { oldObject } : {}) });

  it('allows one whose PolicyBundle is Active', async () => {
    expect(await decide(gsReview(guardianSidecar()))).toEqual({ allowed: true });
  });

  it('rejects one whose PolicyBundle is Failed, Pending or missing', async () => {
    const state = lookupState();
    state.policyBundles = [policyBundle({ phase: 'Failed', reason: 'SignatureInvalid' })];
    const failed = await decide(gsReview(guardianSidecar()), state);
    expect(failed.allowed === false && failed.message).toMatch(/PolicyBundle agents\/support-desk is Failed \(SignatureInvalid\), not Active/);
    const pending = structuredClone(policyBundle());
    delete pending.status;
    state.policyBundles = [pending];
    expect((await decide(gsReview(guardianSidecar()), state)).allowed).toBe(false);
    state.policyBundles = [];
    const missing = await decide(gsReview(guardianSidecar()), state);
    expect(missing.allowed === false && missing.message).toMatch(/does not exist/);
  });

  it('rejects a level below what the bundle requires, and malformed specs', async () => {
    const state = lookupState();
    state.policyBundles = [policyBundle({ spec: { conformanceLevel: 'L3' } })];
    expect((await decide(gsReview(guardianSidecar()), state)).allowed).toBe(false);
    const bad = await decide(gsReview(guardianSidecar({ spec: { conformanceLevel: 'L7' } })));
    expect(bad.allowed === false && bad.message).toMatch(/GUARDIAN_SPEC_INVALID/);
  });

  it('lets metadata-only updates through whatever the bundle state (finalizers must come off)', async () => {
    const state = lookupState();
    state.policyBundles = [policyBundle({ phase: 'Failed' })];
    const old = guardianSidecar();
    const next = structuredClone(old);
    (next.metadata as JsonObject).finalizers = [];
    expect(await decide(gsReview(next, 'UPDATE', old), state)).toEqual({ allowed: true });
    const changed = guardianSidecar({ spec: { image: 'other:1' } });
    expect((await decide(gsReview(changed, 'UPDATE', old), state)).allowed).toBe(false);
  });
});

describe('chooseGuardian', () => {
  const nsLabels = { 'kubernetes.io/metadata.name': APP_NS };
  it('prefers the explicit annotation, then the single match of the pod namespace; never another namespace', () => {
    const a = guardianSidecar({ name: 'a' });
    const b = guardianSidecar({ name: 'b', namespace: 'platform' });
    const c = guardianSidecar({ name: 'c', spec: { podSelector: { matchLabels: { tier: 'gold' } } } });
    const pick = (explicit?: string, labels: Record<string, string> = {}) => {
      const r = chooseGuardian([a, b, c], { namespace: APP_NS, labels, ...(explicit ? { explicit } : {}) }, nsLabels);
      return r.ok ? r.guardian.ref : r.reason;
    };
    expect(pick()).toBe('agents/a');
    expect(pick('c')).toBe('agents/c');
    expect(pick('platform/b')).toBe('no-guardian-sidecar');
    expect(pick('missing')).toBe('no-guardian-sidecar');
    expect(pick(undefined, { tier: 'gold' })).toBe('ambiguous-guardian-sidecar');
    expect(chooseGuardian([b], { namespace: APP_NS, labels: {} }, nsLabels).ok).toBe(false);
  });

  it('ClusterGuardianSidecars default to namespaces labelled helm.mindburn.org/governed=true; deleting ones are skipped', () => {
    const g = clusterGuardianSidecar();
    expect(chooseGuardian([], { namespace: APP_NS, labels: {} }, nsLabels, [g]).ok).toBe(false);
    expect(chooseGuardian([], { namespace: APP_NS, labels: {} }, { 'helm.mindburn.org/governed': 'true' }, [g]).ok).toBe(true);
    expect(chooseGuardian([guardianSidecar({ deleting: true })], { namespace: APP_NS, labels: {} }, nsLabels).ok).toBe(false);
    const exprs = clusterGuardianSidecar({ spec: { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }, { key: 'legacy', operator: 'DoesNotExist' }] } } });
    expect(chooseGuardian([], { namespace: APP_NS, labels: {} }, { env: 'prod' }, [exprs]).ok).toBe(true);
    expect(chooseGuardian([], { namespace: APP_NS, labels: {} }, { env: 'prod', legacy: '' }, [exprs]).ok).toBe(false);
    const broken = clusterGuardianSidecar({ spec: { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Gt' }] } } });
    expect(chooseGuardian([], { namespace: APP_NS, labels: {} }, { env: 'prod' }, [broken]).ok).toBe(false);
  });
});
