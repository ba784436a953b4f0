// Evidence pack verification throughput: the node verifier (node:crypto, a worker per core) on a
// real pack, against the ideal of every core doing nothing but bare node:crypto Ed25519 verifies:
// 2 x one core's bare verify rate, measured in the same run on messages of the same size.
import { availableParallelism } from 'node:os';
import { nodeSuite } from '../kernel/crypto/node.js';
import { decodeNode } from '../kernel/contracts/node.js';
import { exportPack } from '../kernel/evidence/export.js';
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
    const tb = performance.now();
    let good = 0;
    for (const t of tasks) if (nodeSuite.verifyEd25519(nodeKey, t.msg, t.sig)) good++;
    const bareSec = (performance.now() - tb) / 1000;
    const bareRate = tasks.length / bareSec;
    if (good !== tasks.length) throw new Error('bench: bare verification failed');

    const cores = availableParallelism();
    const pool = new VerifyPool(cores);
    try {
      await verifyPackNode(pack.bytes, store.policy, { pool }); // warm-up: worker start, JIT
      const tv = performance.now();
      const r = await verifyPackNode(pack.bytes, store.policy, { pool });
      const verifySec = (performance.now() - tv) / 1000;
      if (!r.ok) throw new Error(`bench: pack did not verify: ${r.firstProblem?.code}`);
      const t1 = performance.now();
      await verifyPackNode(pack.bytes, store.policy, { workers: 0 });
      const inlineSec = (performance.now() - t1) / 1000;
      const rate = r.stats.signatures / verifySec;
      return {
        name: 'evidence pack verify (node, workers) vs 2 x bare node:crypto verify',
        nodes: r.stats.entries,
        signatures: r.stats.signatures,
        packBytes: pack.bytes.length,
        cores,
        bareVerifyPerSecondOneCore: round(bareRate, 0),
        idealPerSecond: round(2 * bareRate, 0),
        packVerifyMs: round(verifySec * 1000, 0),
        packSignaturesPerSecond: round(rate, 0),
        ratioToIdeal: round(rate / (2 * bareRate), 3),
        singleThreadPackVerifyMs: round(inlineSec * 1000, 0),
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
