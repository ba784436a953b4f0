// Receipt cost: build + canonicalize + hash + sign one decision-sized node, against one bare
// node:crypto Ed25519 sign of the same number of bytes, interleaved in one run so machine noise
// hits both sides alike. Target: p50 <= 1.3x, p99 <= 2.5x.
import { createHash } from 'node:crypto';
import { jcs } from '../kernel/crypto/jcs.js';
import { nodeSigner, nodeSuite } from '../kernel/crypto/node.js';
import { signingKeyFromSeed } from '../kernel/crypto/signing-key.js';
import { encodeNode } from '../kernel/contracts/node.js';
import { pae, IN_TOTO_PAYLOAD_TYPE } from '../kernel/contracts/dsse.js';
import { round, summarize } from './stats.js';

export async function benchNodeSign(opts: { iterations?: number } = {}) {
  const n = opts.iterations ?? 20_000;
  const key = signingKeyFromSeed('bench/node', createHash('sha256').update('bench').digest(), nodeSigner);
  const signers = [{ keyid: key.verifier.handle, signer: key }];
  const hash = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}` as const;
  const draft = (i: number) => ({
    kind: 'decision' as const,
    subjectName: `call/call_${i}`,
    predicate: {
      origin: 'helm.mindburn.org/bench/agent-0',
      index: i,
      lamport: 2 * i + 2,
      prev: hash(`prev ${i}`),
      parents: [{ hash: hash(`intent ${i}`) }],
      time: new Date(Date.UTC(2026, 10, 22) + i).toISOString(),
      body: {
        callId: `call_${i}`,
        tool: 'crm.update_contact',
        verdict: 'ALLOW',
        reasonCode: 'POLICY_ALLOW',
        ruleIds: ['crm-write-limited', 'business-hours', 'destination-allowlist'],
        policyDigest: hash('bundle'),
        inputDigest: hash(`input ${i}`),
        engine: 'helm-guardian/0.1.0',
      },
    },
  });
  // The bare sign signs bytes of the same size as a node's PAE.
  const sample = encodeNode(nodeSuite, draft(0), signers);
  const bareMsg = pae(IN_TOTO_PAYLOAD_TYPE, jcs(sample.statement));
  const warm = Math.min(2000, n / 10);
  for (let i = 0; i < warm; i++) {
    encodeNode(nodeSuite, draft(i), signers);
    key.sign(bareMsg);
  }
  const full: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < n; i++) {
    const d = draft(i);
    let t = process.hrtime.bigint();
    encodeNode(nodeSuite, d, signers);
    full.push(Number(process.hrtime.bigint() - t));
    t = process.hrtime.bigint();
    key.sign(bareMsg);
    bare.push(Number(process.hrtime.bigint() - t));
  }
  const f = summarize(full);
  const b = summarize(bare);
  return {
    name: 'receipt build+JCS+hash+sign vs bare sign',
    entryBytes: sample.entry.length,
    bareSign: { p50Us: round(b.p50Us), p99Us: round(b.p99Us) },
    receipt: { p50Us: round(f.p50Us), p99Us: round(f.p99Us) },
    ratioP50: round(f.p50Us / b.p50Us),
    ratioP99: round(f.p99Us / b.p99Us),
    targets: { ratioP50: 1.3, ratioP99: 2.5 },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchNodeSign(), null, 2));
}
