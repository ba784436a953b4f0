// kill -9 of the sidecar while it decides calls and ships (test/fleet/fixtures/ship-sidecar.ts: the
// decision path with shipping wired as serve wires it). After each kill the next start reopens the
// same log and its shipper resumes from what the collector holds (409 resync); a last start drains
// and closes. Every decision answered as recorded is then in the bucket, below the size the
// collector cosigned, and the writer is closed at the full local size. HELM_FLEET_SIDECAR_KILLS
// raises the number of kills (default 3).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { writerPrefix } from '../../kernel/fleet/layout.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { readEntries } from '../../sidecar/ship/publish.js';
import { makeKeys, tempDir } from '../evidence/fixtures.js';
import { bundleSigner } from '../guardian/helpers.js';
import { lookup, pepBundle, signed, START } from '../pep/support.js';
import { repoRoot } from '../support/shared.js';
import { buckets, shipEnv, startCollector } from './fleet-support.js';
import { describeWithRgw, useRgw } from './rgw-support.js';

const KILLS = Number(process.env.HELM_FLEET_SIDECAR_KILLS ?? 3);
const ORIGIN = 'helm/test/ns-kill/pod-uid-1/static';
const FIXTURE = join(repoRoot, 'test/fleet/fixtures/ship-sidecar.ts');

function run(root: string, policyFile: string, mode: 'calls' | 'drain', killAfterMs = 0): Promise<{ acked: string[]; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, root, ORIGIN, policyFile, mode], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let out = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    createInterface({ input: child.stdout }).on('line', (line) => {
      out += `${line}\n`;
      if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      const m = /^ack (sha256:[0-9a-f]{64})$/.exec(line);
      if (m) acked.push(m[1]!);
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || (mode === 'drain' && code === 0)) resolve({ acked, out });
      else reject(new Error(`sidecar fixture exited with ${code ?? signal}: ${stderr}`));
    });
  });
}

describeWithRgw('kill -9 of the sidecar while shipping', () => {
  const rgw = useRgw();

  it(`${KILLS} kills: no decision answered as recorded is lost; the restarted shipper resumes and closes the writer`, async () => {
    const t = await tempDir('helm-fleet-sidecar-kill-');
    const config = await buckets(rgw(), 'fleet-sidecar-kill');
    const keys = makeKeys([ORIGIN]);
    const { collector, bucket, url, stop } = await startCollector(config, { rootKey: keys.root });
    const policyFile = join(t.dir, 'policy.json');
    const env = shipEnv(url, config, 'ns-kill', { HELM_SHIP_INTERVAL_MS: '100' });
    await writeFile(policyFile, JSON.stringify({ policy: signed(pepBundle()), root: bundleSigner.verifier.vkey, start: START, call: lookup(), env }));
    let seed = 7;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    try {
      const acked: string[] = [];
      const cosignedAfterKill: number[] = [];
      for (let k = 0; k < KILLS; k++) {
        acked.push(...(await run(t.dir, policyFile, 'calls', 400 + Math.floor(rnd() * 1200))).acked);
        cosignedAfterKill.push(collector.writer(ORIGIN)?.size ?? 0);
      }
      expect(acked.length).toBeGreaterThan(0);
      // Shipping happened while the sidecar ran (not only in the final drain).
      expect(cosignedAfterKill.at(-1)).toBeGreaterThan(0);
      const drained = await run(t.dir, policyFile, 'drain');
      const local = await readLog(join(t.dir, 'sidecar'));
      expect(drained.out).toContain(`drained ${local.entries.length}`);
      expect(collector.writer(ORIGIN)).toMatchObject({ status: 'closed', size: local.entries.length });
      // Every acknowledged decision is in the bucket below the cosigned size, byte for byte.
      const shipped = await readEntries(bucket, writerPrefix(nodeSuite, ORIGIN), 0, local.entries.length);
      const hashes = new Set(shipped.map((e) => `sha256:${createHash('sha256').update(e).digest('hex')}`));
      const missing = acked.filter((h) => !hashes.has(h));
      expect(missing).toEqual([]);
      expect(shipped.map((e) => Buffer.from(e).toString('base64'))).toEqual(local.entries.map((e) => Buffer.from(e).toString('base64')));
    } finally {
      await stop();
      await t.cleanup();
    }
  }, 240_000);
});
