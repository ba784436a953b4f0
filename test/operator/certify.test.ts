// POST /v1/certify over real HTTPS against the API-server double (TokenReview with audiences, pod
// GET): a pod's projected token gets its fresh keys certified by the root; anything else is a
// JSON 401/403/400 with a code.
import { request } from 'node:https';
import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { signingKeyFromSeed, type SigningKey } from '../../kernel/crypto/signing-key.js';
import { addSignature, openKeyEvent } from '../../kernel/trust/index.js';
import type { DsseEnvelope } from '../../kernel/contracts/dsse.js';
import { CERTIFY_AUDIENCE } from '../../operator/certify/certify.js';
import { CLUSTER_ORIGIN, startCertifyOperator, type CertifyOperator, type TestPodRef } from '../support/certify-operator.js';

let op: CertifyOperator;
let pod: TestPodRef;
beforeAll(async () => {
  op = await startCertifyOperator();
  pod = op.seedPod('agent-1');
  op.registerToken('tok-agent-1', pod);
});
afterAll(async () => op.close());

const key = (name: string, n: number): SigningKey => signingKeyFromSeed(name, new Uint8Array(32).fill(n), nodeSigner);

function post(body: unknown, token: string | null): Promise<{ status: number; json: Record<string, unknown> }> {
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(op.url, { method: 'POST', ca: op.caPem, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

function ask(p: TestPodRef, o: { boot?: string; origin?: string; logName?: string } = {}) {
  const origin = o.origin ?? `${CLUSTER_ORIGIN}/${p.namespace}/${p.uid}/${o.boot ?? 'b1'}`;
  const nodeKey = key(`${origin}/node`, 1);
  const logKey = key(o.logName ?? origin, 2);
  return { origin, nodeKey, logKey, body: { podNamespace: p.namespace, podName: p.name, podUid: p.uid, origin, nodeKey: nodeKey.verifier.vkey, logKey: logKey.verifier.vkey } };
}

describe('POST /v1/certify', () => {
  it('certifies a pod\'s node and log keys with root-signed KEY_PUBLISH events, after a TokenReview for the certify audience', async () => {
    const a = ask(pod);
    const r = await post(a.body, 'tok-agent-1');
    expect(r.status).toBe(200);
    const events = r.json.events as DsseEnvelope[];
    expect(events).toHaveLength(2);
    const node = openKeyEvent(nodeSuite, addSignature(events[0]!, a.nodeKey), op.root.verifier);
    const log = openKeyEvent(nodeSuite, addSignature(events[1]!, a.logKey), op.root.verifier);
    expect(node).toMatchObject({ event: 'KEY_PUBLISH', purpose: 'node', origin: a.origin, key: a.nodeKey.verifier.vkey, fromIndex: 0 });
    expect(log).toMatchObject({ event: 'KEY_PUBLISH', purpose: 'log', origin: a.origin, key: a.logKey.verifier.vkey, fromIndex: 0 });
    expect(op.double.tokenReviews.reviews.at(-1)).toEqual({ audiences: [CERTIFY_AUDIENCE], authenticated: true });
  });

  it('401 without a token, with an unknown token, or with a token for another audience', async () => {
    const other = op.seedPod('agent-aud');
    op.registerToken('tok-kube-audience', other, ['https://kubernetes.default.svc.cluster.local']);
    for (const [token, p] of [[null, pod], ['no-such-token', pod], ['tok-kube-audience', other]] as const) {
      const r = await post(ask(p).body, token);
      expect(r.status).toBe(401);
      expect(r.json.code).toBe('ERR_CERTIFY_UNAUTHENTICATED');
    }
  });

  it('403 when the token is bound to another pod, the pod was not injected, or the pod was replaced', async () => {
    const b = op.seedPod('agent-2');
    op.registerToken('tok-agent-2', b);
    const stolen = await post(ask(pod).body, 'tok-agent-2');
    expect(stolen).toMatchObject({ status: 403, json: { code: 'ERR_CERTIFY_FORBIDDEN' } });
    expect(String(stolen.json.message)).toMatch(/bound to pod shop\/agent-2/);

    const plain = op.seedPod('plain', { injected: false });
    op.registerToken('tok-plain', plain);
    const notOurs = await post(ask(plain).body, 'tok-plain');
    expect(notOurs).toMatchObject({ status: 403, json: { code: 'ERR_CERTIFY_FORBIDDEN' } });
    expect(String(notOurs.json.message)).toMatch(/not injected/);

    // A token still bound to the uid of a pod that was deleted and recreated under the same name.
    const ghost = { ...b, uid: '00000000-0000-4000-8000-00000000dead' };
    op.registerToken('tok-ghost', ghost);
    const replaced = await post(ask(ghost).body, 'tok-ghost');
    expect(replaced).toMatchObject({ status: 403, json: { code: 'ERR_CERTIFY_FORBIDDEN' } });
  });

  it('400 for a body that is not the request, an origin outside the pod, or a log key not named after the origin', async () => {
    for (const body of ['not json', { ...ask(pod).body, extra: 1 }, ask(pod, { origin: `${CLUSTER_ORIGIN}/shop/another-uid/b1` }).body, ask(pod, { logName: 'helm/other' }).body]) {
      const r = await post(body, 'tok-agent-1');
      expect(r.status).toBe(400);
      expect(r.json.code).toBe('ERR_CERTIFY_BAD_REQUEST');
    }
  });
});
