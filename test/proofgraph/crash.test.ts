// Crash safety at the ProofGraph level: a writer process is SIGKILLed at random moments; after each
// kill the store recovers (the next writer records a gap), every acknowledged node is present and
// identical, and the whole store exports to a pack that verifies.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { verifyPackNode } from '../../kernel/evidence/verify-node.js';
import { makeKeys, policyFor, tempDir } from '../evidence/fixtures.js';
import { repoRoot } from '../support/shared.js';

const ORIGIN = 'helm.test/crash';
const ROUNDS = 20;

function runAndKill(root: string, afterMs: number): Promise<Map<number, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/proofgraph/fixtures/crash-graph-writer.ts'), root, ORIGIN], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked = new Map<number, string>();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), afterMs);
      const m = /^ack (\d+) (sha256:[0-9a-f]{64})$/.exec(line);
      if (m) acked.set(Number(m[1]), m[2]!);
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`crash writer exited with ${code}: ${stderr}`));
    });
  });
}

describe('crash safety under SIGKILL', () => {
  it(`${ROUNDS} kills: recovery, every acknowledged node present, pack verifies`, async () => {
    const t = await tempDir('helm-crash-');
    const keys = makeKeys([ORIGIN]);
    let seed = 7;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    try {
      const allAcked = new Map<number, string>();
      let gaps = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const acked = await runAndKill(t.dir, 30 + Math.floor(rnd() * 370));
        for (const [i, h] of acked) allAcked.set(i, h);
        const log = await readLog(join(t.dir, 'crash'));
        const nodes = log.entries.map((e) => decodeNode(nodeSuite, e));
        for (const [i, h] of allAcked) expect(nodes[i]?.entryHash).toBe(h);
        gaps = nodes.filter((n) => n.kind === 'gap').length;
        expect(gaps).toBe(round);
      }
      // One more clean open/close so the final checkpoint covers everything, then verify.
      const { ProofGraphWriter } = await import('../../kernel/proofgraph/graph-writer.js');
      const w = await ProofGraphWriter.open({ root: t.dir, writerId: 'crash', origin: ORIGIN, nodeKey: keys.logs[ORIGIN]!.node, logKey: keys.logs[ORIGIN]!.log, clock: Date.now });
      await w.close();
      const pack = await exportPack({ store: t.dir, exporterKey: keys.exporter });
      const report = await verifyPackNode(pack.bytes, policyFor(keys), { workers: 0 });
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.logs[0]!.kinds.gap).toBe(ROUNDS);
      expect(allAcked.size).toBeGreaterThan(ROUNDS * 5);
    } finally {
      await t.cleanup();
    }
  }, 240_000);
});
