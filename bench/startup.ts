// Start-up against log length (issue 10 item 8): the work a sidecar start does with an existing log
// (open and recover the store, resume the writer's chain, restore the PEP, fold pending approvals),
// timed on a bench store of N nodes twice: a full rebuild from the whole log, and a resume from the
// start-up snapshot (kernel/proofgraph/start-snapshot.ts). Timings are reported, never asserted.
import { join } from 'node:path';
import { nodeSuite } from '../kernel/crypto/node.js';
import { ProofGraphWriter } from '../kernel/proofgraph/graph-writer.js';
import { Pep } from '../kernel/pep/pep.js';
import { StartSnapshotKeeper } from '../kernel/pep/start-keeper.js';
import { PendingApprovals } from '../sidecar/approvals/pending.js';
import { benchKey, buildBenchStore, BENCH_ORIGIN } from './export.js';
import { round } from './stats.js';

interface StartTimes {
  writerOpenMs: number;
  pepOpenMs: number;
  pendingMs: number;
  totalMs: number;
  /** Log size the PEP fold started from (0: full rebuild). */
  fromSnapshotAt: number;
}

export interface StartupRow {
  nodes: number;
  buildMs: number;
  full: StartTimes;
  /** Writing the snapshot (the keeper follows the log, then saves once). */
  snapshotSaveMs: number;
  snapshot: StartTimes;
}

async function startOnce(root: string, writerId: string, now: () => number, o: { snapshot: boolean; keep: boolean }): Promise<{ times: StartTimes; saveMs: number }> {
  const t0 = performance.now();
  const nodeKey = benchKey('bench-node');
  const writer = await ProofGraphWriter.open({ root, writerId, origin: BENCH_ORIGIN, nodeKey, logKey: benchKey(BENCH_ORIGIN), clock: now, checkpointEvery: 1000, startSnapshot: o.snapshot });
  const t1 = performance.now();
  const logDir = join(root, writerId);
  const pep = await Pep.open({ writer, logDir, trust: { roots: [], revoked: [] }, clock: now, random: (n) => new Uint8Array(n) });
  const t2 = performance.now();
  PendingApprovals.fromCeremonies(pep.openCeremonies(), nodeSuite);
  const t3 = performance.now();
  let saveMs = 0;
  if (o.keep) {
    const ts = performance.now();
    const keeper = await StartSnapshotKeeper.follow({ writer, logDir, nodeKey, suite: nodeSuite, pep });
    await keeper.save({ force: true });
    saveMs = round(performance.now() - ts, 0);
    keeper.stop();
  }
  await pep.close();
  await writer.close();
  const times = { writerOpenMs: round(t1 - t0, 0), pepOpenMs: round(t2 - t1, 0), pendingMs: round(t3 - t2, 0), totalMs: round(t3 - t0, 0), fromSnapshotAt: pep.rebuilt.from ?? 0 };
  return { times, saveMs };
}

export async function benchStartup(opts: { sizes?: number[] } = {}): Promise<{ name: string; rows: StartupRow[] }> {
  const rows: StartupRow[] = [];
  for (const nodes of opts.sizes ?? [10_000, 100_000]) {
    const tb = performance.now();
    const store = await buildBenchStore(nodes);
    const buildMs = round(performance.now() - tb, 0);
    try {
      let now = Date.UTC(2026, 11, 1);
      const clock = () => (now += 1);
      const full = await startOnce(store.root, 'bench-0', clock, { snapshot: false, keep: true });
      const snap = await startOnce(store.root, 'bench-0', clock, { snapshot: true, keep: false });
      rows.push({ nodes: store.nodes, buildMs, full: full.times, snapshotSaveMs: full.saveMs, snapshot: snap.times });
    } finally {
      await store.cleanup();
    }
  }
  return { name: 'start-up work on an existing log: full rebuild vs resume from the start-up snapshot', rows };
}
