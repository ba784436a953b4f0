// identity certified, end to end: a real sidecar with fresh in-memory keys asks the operator's real
// /v1/certify (HTTPS, TokenReview against the API-server double). While the token is not accepted
// it is not ready and every tool call is denied IDENTITY_UNCERTIFIED with a signed receipt; once
// certified it records the root's events as trust nodes first, then allows. The log sits in
// <dir>/<namespace>/<pod>/<boot>, and its pack verifies under a policy holding only the root.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main as helmctl } from '../../cli/helmctl.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { loadConfig } from '../../sidecar/config/load.js';
import { GuardianSidecar } from '../../sidecar/guardian-sidecar.js';
import { memoryLogger } from '../../sidecar/log.js';
import { CLUSTER_ORIGIN, startCertifyOperator, type CertifyOperator, type TestPodRef } from '../support/certify-operator.js';
import { body, call, keys, Pod, ROUTES, waitFor } from './support.js';

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

async function startCertified(p: TestPodRef): Promise<GuardianSidecar> {
  await writeFile(pod.path(`token-${p.name}`), `tok-${p.name}\n`);
  const env = {
    HELM_IDENTITY: 'certified',
    HELM_LISTEN: '127.0.0.1:0',
    HELM_ADMIN_LISTEN: '127.0.0.1:0',
    HELM_PROOFGRAPH_DIR: pod.path('proofgraph'),
    HELM_UPSTREAM_URL: pod.model.url,
    HELM_CLUSTER_ORIGIN: CLUSTER_ORIGIN,
    HELM_CERTIFY_URL: op.url,
    HELM_CERTIFY_CA: op.caPem,
    HELM_CERTIFY_TOKEN_FILE: pod.path(`token-${p.name}`),
    HELM_CERTIFY_ROOT: op.root.verifier.vkey,
    POD_NAMESPACE: p.namespace,
    POD_NAME: p.name,
    POD_UID: p.uid,
    POD_SERVICE_ACCOUNT: p.serviceAccount,
    HELM_PRINCIPAL_ROLES: 'support',
    HELM_TOOL_ROUTES: ROUTES,
    HELM_BUNDLE: pod.path('bundle/bundle.yaml'),
    HELM_BUNDLE_SIGNATURE: pod.path('bundle/bundle.signature.json'),
    HELM_BUNDLE_TRUST_ROOTS: pod.path('keys/bundle-roots.txt'),
  };
  const { config } = await loadConfig([], env);
  return GuardianSidecar.start({ config, log: memoryLogger(), env: {} });
}

async function chat(s: GuardianSidecar, id: string): Promise<Response> {
  pod.script(() => ({ toolCalls: [call(id, 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
  return fetch(`${s.governedUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) });
}

describe('certified identity', () => {
  it('denies with signed receipts and is not ready until certified, then records the trust events and allows; the pack verifies with only the root', async () => {
    const s = await startCertified(ref);
    let stopped = false;
    try {
      // The token is not registered yet: the TokenReview fails, the sidecar keeps retrying.
      await waitFor(() => (s.certifier?.state.attempts ?? 0) >= 1 && s.certifier?.state.lastError !== null, 10_000);
      expect(s.certifier!.state.lastError!.code).toBe('ERR_CERTIFY_REFUSED');
      const notReady = await fetch(`${s.adminUrl}/readyz`);
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { checks: Record<string, unknown> }).checks.identity).toMatchObject({ ok: false, reasonCode: 'IDENTITY_UNCERTIFIED' });
      const denied = await chat(s, 'call_before');
      expect(denied.headers.get('x-helm-decision')).toBe('DENY');
      expect(denied.headers.get('x-helm-reason-code')).toBe('IDENTITY_UNCERTIFIED');

      op.registerToken(`tok-${ref.name}`, ref);
      await s.certifier!.whenCertified();
      expect((await fetch(`${s.adminUrl}/readyz`)).status).toBe(200);
      const allowed = await chat(s, 'call_after');
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
