// Crash safety of the one-round decision path: a PEP process deciding calls is SIGKILLed at random
// moments. After each kill every decision it answered as recorded is in the log with its intent
// as parent and its input blob durable, the next start records a gap, and the whole store exports
// to a pack that verifies. HELM_PEP_CRASH_ROUNDS raises the number of kills (default 4).
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import { readBlobs } from '../../kernel/pep/blob-store.js';
import { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { verifyPackNode } from '../../kernel/evidence/verify-node.js';
import { makeKeys, policyFor, tempDir } from '../evidence/fixtures.js';
import { bundleSigner } from '../guardian/helpers.js';
import { repoRoot } from '../support/shared.js';
import { lookup, pepBundle, signed, START } from './support.js';

const ORIGIN = 'helm.test/pep-crash';
const ROUNDS = Number(process.env.HELM_PEP_CRASH_ROUNDS ?? 4);

interface Ack {
  decision: string;
  intent: string;
  input: string;
}

function runAndKill(root: string, policyFile: string, afterMs: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/pep/fixtures/crash-pep.ts'), root, ORIGIN, policyFile], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: Ack[] = [];
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), afterMs);
      const m = /^ack (sha256:[0-9a-f]{64}) (sha256:[0-9a-f]{64}) sha256:([0-9a-f]{64})$/.exec(line);
      if (m) acked.push({ decision: m[1]!, intent: m[2]!, input: m[3]! });
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`crash PEP exited with ${code}: ${stderr}`));
    });
  });
}

describe('PEP crash safety under SIGKILL', () => {
  it(`${ROUNDS} kills: every answered decision durable with its intent and input, pack verifies`, async () => {
    const t = await tempDir('helm-pep-crash-');
    const keys = makeKeys([ORIGIN]);
    const logDir = join(t.dir, 'crash');
    let seed = 11;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const policyFile = join(t.dir, 'policy.json');
    await writeFile(policyFile, JSON.stringify({ policy: signed(pepBundle()), root: bundleSigner.verifier.vkey, start: START, call: lookup() }));
    try {
      let answered = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const acked = await runAndKill(t.dir, policyFile, 50 + Math.floor(rnd() * 350));
        answered += acked.length;
        const nodes = (await readLog(logDir)).entries.map((e) => decodeNode(nodeSuite, e));
        const byHash = new Map(nodes.map((n) => [n.entryHash, n]));
        const blobs = (await readBlobs(logDir, nodeSuite)) ?? new Map();
        for (const a of acked) {
          const d = byHash.get(a.decision as `sha256:${string}`);
          expect(d?.kind).toBe('decision');
          expect(d!.statement.predicate.parents).toEqual([{ hash: a.intent }]);
          expect(byHash.get(a.intent as `sha256:${string}`)?.kind).toBe('intent');
          expect(blobs.has(a.input)).toBe(true);
        }
        expect(nodes.filter((n) => n.kind === 'gap')).toHaveLength(round);
      }
      expect(answered).toBeGreaterThan(ROUNDS);
      // A clean open and close so a final checkpoint covers everything, then verify the store.
      const w = await ProofGraphWriter.open({ root: t.dir, writerId: 'crash', origin: ORIGIN, nodeKey: keys.logs[ORIGIN]!.node, logKey: keys.logs[ORIGIN]!.log, clock: Date.now, heartbeatIntervalUs: 24 * 3600 * 1_000_000 });
      await w.close();
      const pack = await exportPack({ store: t.dir, exporterKey: keys.exporter });
      const report = await verifyPackNode(pack.bytes, policyFor(keys), { workers: 0 });
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.logs[0]!.kinds.gap).toBe(ROUNDS);
    } finally {
      await t.cleanup();
    }
  }, Math.max(240_000, ROUNDS * 40_000));
});
