// identity certified, end to end: a real sidecar with fresh in-memory keys asks the operator's real
// /v1/certify (HTTPS, TokenReview against the API-server double). While the token is not accepted
// it is not ready and every tool call is denied IDENTITY_UNCERTIFIED with a signed receipt; once
// certified it records the root's events as trust nodes first, then allows. The log sits in
// <dir>/<namespace>/<pod>/<boot>, and its pack verifies under a policy holding only the root.
import { readdir, writeFile } from 'node:fs/promises';
import { main as helmctl } from '../../cli/helmctl.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { CLUSTER_ORIGIN, startCertifyOperator, type CertifyOperator, type TestPodRef } from '../support/certify-operator.js';
import { body, keys, Pod, waitFor } from './support.js';
import { chat, startCertified } from './certified-support.js';

let op: CertifyOperator;
let pod: Pod;
let ref: TestPodRef;
beforeAll(async () => {
  op = await startCertifyOperator();
  pod = await Pod.create();
  ref = op.seedPod('agent-7f9c');
});
afterAll(async () => {
  await pod.cleanup();
  await op.close();
});

describe('certified identity', () => {
  it('denies with signed receipts and is not ready until certified, then records the trust events and allows; the pack verifies with only the root', async () => {
    const s = await startCertified(pod, op, ref);
    let stopped = false;
    try {
      // The token is not registered yet: the TokenReview fails, the sidecar keeps retrying.
      await waitFor(() => (s.certifier?.state.attempts ?? 0) >= 1 && s.certifier?.state.lastError !== null, 10_000);
      expect(s.certifier!.state.lastError!.code).toBe('ERR_CERTIFY_REFUSED');
      const notReady = await fetch(`${s.adminUrl}/readyz`);
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { checks: Record<string, unknown> }).checks.identity).toMatchObject({ ok: false, reasonCode: 'IDENTITY_UNCERTIFIED' });
      const denied = await chat(pod, s, 'call_before');
      expect(denied.headers.get('x-helm-decision')).toBe('DENY');
      expect(denied.headers.get('x-helm-reason-code')).toBe('IDENTITY_UNCERTIFIED');

      // The kubelet rotates the projected token: the sidecar reads the file again at each attempt.
      await writeFile(pod.path(`token-${ref.name}`), 'rotated-token\n');
      op.registerToken('rotated-token', ref);
      await s.certifier!.whenCertified();
      expect((await fetch(`${s.adminUrl}/readyz`)).status).toBe(200);
      const allowed = await chat(pod, s, 'call_after');
      expect(allowed.headers.get('x-helm-decision')).toBe('ALLOW');
      await s.stop();
      stopped = true;

      // Layout: <dir>/<namespace>/<pod>/<boot>; origin <clusterOrigin>/<namespace>/<uid>/<boot>.
      const boots = await readdir(pod.path(`proofgraph/${ref.namespace}/${ref.name}`));
      expect(boots).toHaveLength(1);
      const log = await readLog(pod.path(`proofgraph/${ref.namespace}/${ref.name}/${boots[0]}`));
      expect(log.origin).toBe(`${CLUSTER_ORIGIN}/${ref.namespace}/${ref.uid}/${boots[0]}`);
      const nodes = log.entries.map((e) => decodeNode(nodeSuite, e));
      const kinds = nodes.map((n) => (n.kind === 'decision' ? `decision:${String(body(n).reasonCode)}` : n.kind));
      const firstTrust = kinds.indexOf('trust');
      expect(kinds.indexOf('decision:IDENTITY_UNCERTIFIED')).toBeLessThan(firstTrust);
      expect(kinds.slice(firstTrust, firstTrust + 2)).toEqual(['trust', 'trust']);
      expect(kinds.indexOf('decision:ALLOWED')).toBeGreaterThan(firstTrust);

      // One root line (plus the exporter) trusts this pod's node and log keys.
      await writeFile(pod.path('root-only.policy'), ['quorum none', `root ${op.root.verifier.vkey}`, `exporter ${keys.exporter.verifier.vkey}`, ''].join('\n'));
      const pack = pod.path('certified.tar.gz');
      const out: string[] = [];
      const io = { stdout: { write: (t: string) => void out.push(t) }, stderr: { write: (t: string) => void out.push(t) } };
      expect(await helmctl(['export', '--store', pod.path('proofgraph'), '--out', pack, '--key', pod.path('keys/exporter.key')], io)).toBe(0);
      const code = await helmctl(['verify', pack, '--trust-policy', pod.path('root-only.policy')], io);
      expect({ code, out: out.join('') }).toMatchObject({ code: 0 });
    } finally {
      if (!stopped) await s.stop();
    }
  });
});
