// Start-up against log length (issue 10 item 8): what a sidecar start does with an existing log
// (open and recover the store, rebuild the writer's chain state, rebuild the PEP, the pending
// approvals), timed per phase on a bench store of N nodes. Timings are reported, never asserted.
import { join } from 'node:path';
import { nodeSuite } from '../kernel/crypto/node.js';
import { ProofGraphWriter } from '../kernel/proofgraph/graph-writer.js';
import { readLog } from '../kernel/proofgraph/store/index.js';
import { Pep } from '../kernel/pep/pep.js';
import { PendingApprovals } from '../sidecar/approvals/pending.js';
import { benchKey, buildBenchStore, BENCH_ORIGIN } from './export.js';
import { round } from './stats.js';

export interface StartupRow {
  nodes: number;
  buildMs: number;
  writerOpenMs: number;
  pepOpenMs: number;
  pendingMs: number;
  totalMs: number;
}

/** One start (writer, PEP, pending approvals) on a store of about `nodes` nodes, then a clean close. */
export async function startOnce(root: string, writerId: string, now: () => number): Promise<Omit<StartupRow, 'nodes' | 'buildMs'>> {
  const t0 = performance.now();
  const writer = await ProofGraphWriter.open({ root, writerId, origin: BENCH_ORIGIN, nodeKey: benchKey('bench-node'), logKey: benchKey(BENCH_ORIGIN), clock: now, checkpointEvery: 1000 });
  const t1 = performance.now();
  const logDir = join(root, writerId);
  const pep = await Pep.open({ writer, logDir, trust: { roots: [], revoked: [] }, clock: now, random: (n) => new Uint8Array(n) });
  const t2 = performance.now();
  PendingApprovals.fromLog((await readLog(logDir)).entries.slice(0, writer.size), nodeSuite);
  const t3 = performance.now();
  await pep.close();
  await writer.close();
  return { writerOpenMs: round(t1 - t0, 0), pepOpenMs: round(t2 - t1, 0), pendingMs: round(t3 - t2, 0), totalMs: round(t3 - t0, 0) };
}

export async function benchStartup(opts: { sizes?: number[] } = {}): Promise<{ name: string; rows: StartupRow[] }> {
  const rows: StartupRow[] = [];
  for (const nodes of opts.sizes ?? [10_000, 100_000]) {
    const tb = performance.now();
    const store = await buildBenchStore(nodes);
    const buildMs = round(performance.now() - tb, 0);
    try {
      let now = Date.UTC(2026, 11, 1);
      // The first start after building is the one measured; a second shows the steady state.
      const first = await startOnce(store.root, 'bench-0', () => (now += 1));
      const second = await startOnce(store.root, 'bench-0', () => (now += 1));
      rows.push({ nodes: store.nodes, buildMs, ...(second.totalMs < first.totalMs ? second : first) });
    } finally {
      await store.cleanup();
    }
  }
  return { name: 'sidecar start-up work on an existing log (writer open, PEP rebuild, pending approvals)', rows };
}
