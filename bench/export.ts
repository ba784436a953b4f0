// Evidence pack export at scale: a ProofGraph store of 100k nodes (real writer, fsync'ed group
// commits, checkpoints every 1000) exported twice. Reports the time of each export and checks the
// two packs are byte-identical (export is deterministic).
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeSigner, nodeSuite } from '../kernel/crypto/node.js';
import { signingKeyFromSeed, type SigningKey } from '../kernel/crypto/signing-key.js';
import type { HashRef } from '../kernel/contracts/node.js';
import { exportPack } from '../kernel/evidence/export.js';
import { parseTrustPolicy, type TrustPolicy } from '../kernel/evidence/trust-policy.js';
import { ProofGraphWriter } from '../kernel/proofgraph/graph-writer.js';
import { signKeyEvent } from '../kernel/trust/events.js';
import { round } from './stats.js';

export const BENCH_ORIGIN = 'helm.mindburn.org/bench/evidence';
const ORIGIN = BENCH_ORIGIN;

export function benchKey(name: string): SigningKey {
  return signingKeyFromSeed(name, createHash('sha256').update(`helm-oss bench key: ${name}`).digest(), nodeSigner);
}

export interface BenchStore {
  root: string;
  nodes: number;
  exporter: SigningKey;
  policy: TrustPolicy;
  cleanup(): Promise<void>;
}

/** A store of about `nodes` nodes: intent/decision/effect/result chains plus periodic heartbeats. */
export async function buildBenchStore(nodes: number): Promise<BenchStore> {
  const root = await mkdtemp(join(tmpdir(), 'helm-bench-evidence-'));
  const rootKey = benchKey('bench-root');
  const logKey = benchKey(ORIGIN);
  const nodeKey = benchKey('bench-node');
  const exporter = benchKey('bench-exporter');
  let now = Date.UTC(2026, 10, 22);
  const w = await ProofGraphWriter.open({
    root,
    writerId: 'bench-0',
    origin: ORIGIN,
    nodeKey,
    logKey,
    clock: () => now,
    checkpointEvery: 1000,
    trustEvents: [signKeyEvent(nodeSuite, { event: 'KEY_PUBLISH', purpose: 'node', origin: ORIGIN, key: nodeKey.verifier.vkey, fromIndex: 0, issuedAt: '2026-11-22T00:00:00.000Z' }, [rootKey, nodeKey])],
  });
  const digest = (s: string): HashRef => `sha256:${createHash('sha256').update(s).digest('hex')}`;
  const tool = 'crm.update_contact';
  // One governed call is four appends, each naming the previous as parent. Calls run in batches
  // concurrently, so each round of appends shares one group commit (fsync) instead of one each.
  const call = async (i: number): Promise<void> => {
    const callId = `call_${i}`;
    const intent = await w.append('intent', { surface: 'mcp', callId, tool, principal: 'agent-0', argsDigest: digest(`a${i}`) });
    const decision = await w.append(
      'decision',
      { callId, tool, verdict: 'ALLOW', reasonCode: 'POLICY_ALLOW', ruleIds: ['crm-write'], policyDigest: digest('bundle'), inputDigest: digest(`in${i}`), engine: 'helm-guardian/0.1.0' },
      { parents: [{ hash: intent.entryHash }] },
    );
    const effect = await w.append('effect', { callId, tool, status: 'executed', confirmed: true, durationUs: 1200 }, { parents: [{ hash: decision.entryHash }] });
    await w.append('result', { callId, tool, status: 'ok', outputDigest: digest(`o${i}`) }, { parents: [{ hash: effect.entryHash }] });
  };
  const BATCH = 250;
  for (let i = 0; w.size + 4 * BATCH + 2 <= nodes; i += BATCH) {
    now += 1000;
    await Promise.all(Array.from({ length: BATCH }, (_, k) => call(i + k)));
    await w.heartbeat('periodic');
  }
  for (let i = 1e9; w.size + 5 <= nodes; i++) await call(i);
  await w.close();
  const policy = parseTrustPolicy(`log ${logKey.verifier.vkey}\nquorum none\nroot ${rootKey.verifier.vkey}\nexporter ${exporter.verifier.vkey}\n`, 'bench.policy');
  return { root, nodes: w.size, exporter, policy, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export async function benchExport(opts: { nodes?: number } = {}) {
  const t0 = performance.now();
  const store = await buildBenchStore(opts.nodes ?? 100_000);
  const buildMs = performance.now() - t0;
  try {
    const t1 = performance.now();
    const a = await exportPack({ store: store.root, exporterKey: store.exporter });
    const t2 = performance.now();
    const b = await exportPack({ store: store.root, exporterKey: store.exporter });
    const t3 = performance.now();
    return {
      name: 'evidence pack export',
      nodes: store.nodes,
      storeBuildMs: round(buildMs, 0),
      packBytes: a.bytes.length,
      sha256: a.sha256,
      exportMs: [round(t2 - t1, 0), round(t3 - t2, 0)],
      nodesPerSecond: round(store.nodes / ((t2 - t1) / 1000), 0),
      identical: a.sha256 === b.sha256 && Buffer.from(a.bytes).equals(Buffer.from(b.bytes)),
    };
  } finally {
    await store.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchExport(), null, 2));
}
