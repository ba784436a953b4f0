// The real webhook server over HTTPS with AdmissionReview v1 bodies, as the API server calls it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pod } from 'kubernetes-models/v1/Pod';
import { WebhookServer } from '../../../operator/webhook/server.js';
import type { JsonObject, PatchOp } from '../../../operator/webhook/json.js';
import { mapLookup, type ClusterLookup } from '../../../operator/webhook/lookup.js';
import type { WebhookMetricsSink } from '../../../operator/webhook/handlers.js';
import { describeWithKubectl, kubectlBin } from '../../chart/tools.js';
import { injectionPatch } from '../../../operator/webhook/patch/index.js';
import { guardianView } from '../../../operator/webhook/guardian.js';
import { agentPod, applyPatch, CERTIFY, certify, config, decodePatch, lookupState, OPERATOR_NS, policyBundle, post, review, guardianSidecar } from './support.js';
import { testPki, type TestPki } from './tls-fixture.js';

class RecordingMetrics implements WebhookMetricsSink {
  injections: string[] = [];
  latencies: { kind: string; seconds: number }[] = [];
  injection(result: string, reason: string) {
    this.injections.push(`${result}/${reason}`);
  }
  latency(seconds: number, kind: 'mutate' | 'validate') {
    this.latencies.push({ kind, seconds });
  }
}

let pki: TestPki;
let server: WebhookServer;
let port: number;
let state = lookupState();
let failClosed = true;
let lookupFails = false;
const metrics = new RecordingMetrics();

const lookup: ClusterLookup = {
  namespaceLabels: async (n) => {
    if (lookupFails) throw new Error('informer cache not synced');
    return mapLookup(state).namespaceLabels(n);
  },
  guardianSidecars: async () => mapLookup(state).guardianSidecars(),
  clusterGuardianSidecars: async () => mapLookup(state).clusterGuardianSidecars(),
  kubeletVersions: async () => mapLookup(state).kubeletVersions(),
  policyBundle: async (ns, n) => mapLookup(state).policyBundle(ns, n),
};

beforeAll(async () => {
  pki = await testPki();
  server = new WebhookServer({
    port: 0,
    host: '127.0.0.1',
    maxBodyBytes: 1024 * 1024,
    deps: {
      get config() {
        return config({ failClosed });
      },
      lookup,
      certify,
      metrics,
    },
  });
  port = await server.start({ cert: pki.serving.certPem, key: pki.serving.keyPem });
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  state = lookupState();
  failClosed = true;
  lookupFails = false;
});

const call = (path: '/mutate' | '/validate', body: JsonObject | string, headers: Record<string, string> = {}) =>
  post(port, path, typeof body === 'string' ? body : JSON.stringify(body), pki.ca.certPem, headers);

async function mutate(pod: JsonObject, namespace?: string) {
  const body = review(pod, namespace ? { namespace } : {});
  const answer = await call('/mutate', body);
  expect(answer.status).toBe(200);
  const json = answer.json();
  expect(json.apiVersion).toBe('admission.k8s.io/v1');
  expect(json.kind).toBe('AdmissionReview');
  expect((json.response as JsonObject).uid).toBe((body.request as JsonObject).uid);
  return { response: json.response as JsonObject, patch: decodePatch(json) };
}

describe('mutating webhook over HTTPS', () => {
  it('injects an annotated pod; the result is a valid Pod (kubernetes-models)', async () => {
    const pod = agentPod();
    const { response, patch } = await mutate(pod);
    expect(response.allowed).toBe(true);
    expect(patch.length).toBeGreaterThan(5);
    const patched = applyPatch(pod, patch);
    expect(() => new Pod(patched as never).validate()).not.toThrow();
    const init = (patched.spec as { initContainers: JsonObject[] }).initContainers;
    expect(init[0]!.name).toBe('helm-guardian');
    expect(metrics.injections.at(-1)).toBe('injected/opted-in');
  });

  it('validation is a real check: a broken container in the patched pod fails it', () => {
    const broken = agentPod();
    (broken.spec as { containers: JsonObject[] }).containers[0]!.image = 42 as unknown as string;
    expect(() => new Pod(broken as never).validate()).toThrow(/image/);
  });

  it('leaves an unannotated pod alone', async () => {
    const pod = agentPod({ labels: { 'helm.mindburn.org/inject': 'nope' }, annotations: { 'helm.mindburn.org/inject': 'nope' } });
    const { response, patch } = await mutate(pod);
    expect(response.allowed).toBe(true);
    expect(response.patch).toBeUndefined();
    expect(patch).toEqual([]);
    expect(metrics.injections.at(-1)).toBe('skipped/not-opted-in');
  });

  it("leaves the operator's namespace alone", async () => {
    const { response } = await mutate(agentPod(), OPERATOR_NS);
    expect(response).toEqual({ uid: response.uid, allowed: true });
  });

  it('answers an already injected pod, and a reinvocation, with no patch', async () => {
    const pod = agentPod();
    const first = await mutate(pod);
    const injected = applyPatch(pod, first.patch);
    const again = await mutate(injected);
    expect(again.response.allowed).toBe(true);
    expect(again.response.patch).toBeUndefined();
    expect(metrics.injections.at(-1)).toBe('skipped/already-injected');
    const third = await mutate(applyPatch(injected, again.patch));
    expect(third.patch).toEqual([]);
  });

  it('refuses an opted-in pod it cannot govern when fail-closed, and warns when not', async () => {
    state.guardianSidecars = [];
    const closed = await mutate(agentPod());
    expect(closed.response.allowed).toBe(false);
    expect((closed.response.status as JsonObject).message).toMatch(/no GuardianSidecar of namespace agents/);
    failClosed = false;
    const open = await mutate(agentPod());
    expect(open.response.allowed).toBe(true);
    expect(open.response.warnings).toEqual([expect.stringMatching(/pod not injected/)]);
    expect(open.patch).toEqual([]);
  });

  it('a GuardianSidecar whose bundle is gone refuses its pods unless it is failClosed: false', async () => {
    state.policyBundles = [];
    expect((await mutate(agentPod())).response.allowed).toBe(false);
    state.guardianSidecars = [guardianSidecar({ spec: { failClosed: false } })];
    expect((await mutate(agentPod())).response.allowed).toBe(true);
  });

  it('turns lookup errors into a refusal (fail closed) without crashing', async () => {
    lookupFails = true;
    const { response } = await mutate(agentPod());
    expect(response.allowed).toBe(false);
    expect((response.status as JsonObject).code).toBe(500);
    expect(metrics.injections.at(-1)).toBe('error/internal');
    lookupFails = false;
    expect((await mutate(agentPod())).response.allowed).toBe(true);
  });

  it('records latency for every request', async () => {
    const before = metrics.latencies.length;
    await mutate(agentPod());
    await call('/validate', review(agentPod()));
    const seen = metrics.latencies.slice(before);
    expect(seen.map((l) => l.kind)).toEqual(['mutate', 'validate']);
    for (const l of seen) expect(l.seconds).toBeGreaterThan(0);
  });
});

describe('malformed requests', () => {
  it('answers allowed:false with the same uid when the uid is readable', async () => {
    const body = review(agentPod(), { uid: 'f0e1d2c3-0000-4000-8000-000000000001' });
    (body.request as JsonObject).operation = 'EXPLODE';
    const a = await call('/mutate', body);
    expect(a.status).toBe(200);
    const r = a.json().response as JsonObject;
    expect(r.uid).toBe('f0e1d2c3-0000-4000-8000-000000000001');
    expect(r.allowed).toBe(false);
    expect((r.status as JsonObject).code).toBe(400);
    for (const mutateBody of [
      { ...body, apiVersion: 'admission.k8s.io/v1beta1' },
      { ...body, kind: 'Nope' },
      { ...body, request: { ...(body.request as JsonObject), object: 'pod', operation: 'CREATE' } },
      { ...body, request: { ...(body.request as JsonObject), object: undefined as unknown as JsonObject, operation: 'CREATE' } },
      { ...body, request: { ...(body.request as JsonObject), kind: { kind: 'Pod' }, operation: 'CREATE' } },
    ]) {
      const x = await call('/validate', mutateBody as JsonObject);
      expect(x.status).toBe(200);
      expect(x.json().response).toMatchObject({ uid: 'f0e1d2c3-0000-4000-8000-000000000001', allowed: false });
    }
  });

  it('answers HTTP 4xx where no uid exists, and keeps serving', async () => {
    expect((await call('/mutate', '{not json')).status).toBe(400);
    expect((await call('/mutate', '[]')).status).toBe(400);
    expect((await call('/mutate', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: '' } }))).status).toBe(400);
    expect((await call('/mutate', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }))).status).toBe(400);
    expect((await call('/mutate', review(agentPod()), { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await call('/mutate', 'x'.repeat(2 * 1024 * 1024))).status).toBe(413);
    expect((await post(port, '/mutate', Buffer.from([0x7b, 0xff, 0x7d]), pki.ca.certPem)).status).toBe(400);
    expect((await post(port, '/mutate', '', pki.ca.certPem, {}, 'GET')).status).toBe(405);
    expect((await post(port, '/elsewhere', '', pki.ca.certPem, {}, 'GET')).status).toBe(404);
    expect((await post(port, '/healthz', '', pki.ca.certPem, {}, 'GET')).status).toBe(200);
    expect((await post(port, '/readyz', '', pki.ca.certPem, {}, 'GET')).status).toBe(200);
    expect((await mutate(agentPod())).response.allowed).toBe(true);
  });
});

describe('validating webhook over HTTPS', () => {
  it('rejects a GuardianSidecar whose PolicyBundle failed verification, with the same uid', async () => {
    state.policyBundles = [policyBundle({ phase: 'Failed', reason: 'SignatureInvalid' })];
    const body = review(guardianSidecar(), { kind: { group: 'helm.mindburn.org', version: 'v1alpha1', kind: 'GuardianSidecar' }, resource: 'guardiansidecars' });
    const r = (await call('/validate', body)).json().response as JsonObject;
    expect(r.uid).toBe((body.request as JsonObject).uid);
    expect(r.allowed).toBe(false);
    expect((r.status as JsonObject).message).toMatch(/Failed \(SignatureInvalid\)/);
  });

  it('rejects a pod asking for more conformance than its sidecar gives, allows it otherwise', async () => {
    const pod = agentPod({ annotations: { 'helm.mindburn.org/conformance-level': 'L3' } });
    expect(((await call('/validate', review(pod))).json().response as JsonObject).allowed).toBe(false);
    const ok = agentPod({ annotations: { 'helm.mindburn.org/conformance-level': 'L2' } });
    expect(((await call('/validate', review(ok))).json().response as JsonObject).allowed).toBe(true);
  });
});

describeWithKubectl('the same JSON patch through kubectl patch --local', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'helm-webhook-kubectl-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function kubectlPatch(pod: JsonObject, patch: PatchOp[]): JsonObject {
    const file = join(dir, 'pod.json');
    writeFileSync(file, JSON.stringify({ ...pod, metadata: { ...(pod.metadata as JsonObject), name: 'support-agent-7d9f-abcde' } }));
    const out = execFileSync(kubectlBin!, ['patch', '--local', '-f', file, '--type', 'json', '-p', JSON.stringify(patch), '-o', 'json'], {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: join(dir, 'no-kubeconfig') },
    });
    return JSON.parse(out) as JsonObject;
  }

  it.each([
    ['native sidecar, pod without init containers', {}, agentPod()],
    ['native sidecar, pod with init containers', {}, agentPod({ extra: { initContainers: [{ name: 'migrate', image: 'm:1' }] } })],
  ])('%s', async (_name, _o, pod) => {
    const { patch } = await mutate(pod);
    const named = { ...pod, metadata: { ...(pod.metadata as JsonObject), name: 'support-agent-7d9f-abcde' } };
    expect(kubectlPatch(pod, patch)).toEqual(applyPatch(named, patch));
  });

  it('container-mode fallback on a pod without volumes or annotations', () => {
    const pod = agentPod();
    delete (pod.spec as JsonObject).volumes;
    delete (pod.metadata as JsonObject).annotations;
    const patch = injectionPatch(pod, { namespace: 'agents', config: config({ sidecarMode: 'container' }), guardian: guardianView(guardianSidecar()), bundleId: 'support-desk', certify: CERTIFY });
    const named = { ...pod, metadata: { ...(pod.metadata as JsonObject), name: 'support-agent-7d9f-abcde' } };
    const viaKubectl = kubectlPatch(pod, patch);
    expect(viaKubectl).toEqual(applyPatch(named, patch));
    expect(() => new Pod(viaKubectl as never).validate()).not.toThrow();
  });
});
