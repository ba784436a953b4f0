// Evidence pack verification throughput: the node verifier (node:crypto, a worker per core) on a
// real pack, against the ideal of every core doing nothing but bare node:crypto Ed25519 verifies:
// cores x one core's bare verify rate, measured in the same run on messages of the same size.
// On a shared machine wall-clock ratios move with other jobs; the CPU-time figures do not.
import { availableParallelism, loadavg } from 'node:os';
import { nodeSuite } from '../kernel/crypto/node.js';
import { decodeNode } from '../kernel/contracts/node.js';
import { exportPack } from '../kernel/evidence/export.js';
import type { VerifyReport } from '../kernel/evidence/verify-core.js';
import { verifyPackNode, VerifyPool } from '../kernel/evidence/verify-node.js';
import { readLog } from '../kernel/proofgraph/store/index.js';
import { benchKey, buildBenchStore } from './export.js';
import { round } from './stats.js';
import { join } from 'node:path';

export async function benchVerify(opts: { nodes?: number; bareSamples?: number } = {}) {
  const store = await buildBenchStore(opts.nodes ?? 50_000);
  try {
    const pack = await exportPack({ store: store.root, exporterKey: store.exporter });
    // Bare rate: verify real node signatures (same keys, same message sizes) on one core.
    const entries = (await readLog(join(store.root, 'bench-0'))).entries;
    const tasks = entries.slice(0, Math.min(entries.length, opts.bareSamples ?? 20_000)).map((e) => {
      const d = decodeNode(nodeSuite, e);
      return { msg: d.pae, sig: d.signatures[0]!.sig };
    });
    const nodeKey = benchKey('bench-node').publicKey;
    for (const t of tasks.slice(0, 500)) nodeSuite.verifyEd25519(nodeKey, t.msg, t.sig);
    // Bare verifies on one core: wall time and this thread's CPU time per verify.
    const bare = (): { rate: number; cpuUs: number } => {
      const c0 = process.threadCpuUsage();
      const tb = performance.now();
      let good = 0;
      for (const t of tasks) if (nodeSuite.verifyEd25519(nodeKey, t.msg, t.sig)) good++;
      const sec = (performance.now() - tb) / 1000;
      const c = process.threadCpuUsage(c0);
      if (good !== tasks.length) throw new Error('bench: bare verification failed');
      return { rate: tasks.length / sec, cpuUs: (c.user + c.system) / tasks.length };
    };
    // Whole-process wall and CPU time (all threads) of one pack verification.
    const timed = async (run: () => Promise<VerifyReport>): Promise<{ sec: number; cpuUs: number; r: VerifyReport }> => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await run();
      const sec = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      if (!r.ok) throw new Error(`bench: pack did not verify: ${r.firstProblem?.code}`);
      return { sec, cpuUs: (c.user + c.system) / r.stats.signatures, r };
    };

    const cores = availableParallelism();
    const pool = new VerifyPool(cores);
    const load = [loadavg()[0]!];
    try {
      await verifyPackNode(pack.bytes, store.policy, { pool }); // warm-up: worker start, JIT
      // Interleaved, so a change in the machine's load hits both sides of each ratio alike.
      const b1 = bare();
      const w = await timed(() => verifyPackNode(pack.bytes, store.policy, { pool }));
      const one = await timed(() => verifyPackNode(pack.bytes, store.policy, { workers: 0 }));
      const b2 = bare();
      load.push(loadavg()[0]!);
      const bareRate = (b1.rate + b2.rate) / 2;
      const bareCpuUs = (b1.cpuUs + b2.cpuUs) / 2;
      const rate = w.r.stats.signatures / w.sec;
      return {
        name: 'evidence pack verify (node, workers) vs cores x bare node:crypto verify',
        nodes: w.r.stats.entries,
        signatures: w.r.stats.signatures,
        packBytes: pack.bytes.length,
        cores,
        loadAverage1m: load.map((x) => round(x, 2)),
        bareVerifyPerSecondOneCore: [round(b1.rate, 0), round(b2.rate, 0)],
        idealPerSecond: round(cores * bareRate, 0),
        packVerifyMs: round(w.sec * 1000, 0),
        packSignaturesPerSecond: round(rate, 0),
        ratioToIdeal: round(rate / (cores * bareRate), 3),
        singleThreadPackVerifyMs: round(one.sec * 1000, 0),
        workersVsOneThread: round(one.sec / w.sec, 2),
        // Load-independent: CPU per signature of the whole verification against a bare verify's.
        // The ratio the workers reach on idle cores is at most bareCpu / packCpu.
        bareCpuUsPerVerify: round(bareCpuUs, 1),
        packCpuUsPerSignatureWorkers: round(w.cpuUs, 1),
        packCpuUsPerSignatureOneThread: round(one.cpuUs, 1),
        cpuBoundRatio: round(bareCpuUs / w.cpuUs, 3),
        coresBusyDuringWorkers: round((w.cpuUs * w.r.stats.signatures) / 1e6 / w.sec, 2),
      };
    } finally {
      await pool.close();
    }
  } finally {
    await store.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchVerify(), null, 2));
}
