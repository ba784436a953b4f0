// HELM_SHIP_RETENTION=free-cosigned: sealed segments of the LIVE log are freed below the size the
// collector cosigned (with a cosignature that verifies against HELM_COLLECTOR_VKEY), below the
// durable start-up snapshot and below a tile boundary, after log-base.json is durable. A sidecar
// restarted on that volume (kill -9, static identity) starts from its snapshot, keeps deciding and
// shipping, frees more; a start that would need freed entries fails naming the cause; a local
// export names the freed range and points at the bucket; the bucket's fleet pack verifies end to
// end. A cosignature by another key frees nothing.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { main } from '../../cli/helmctl.js';
import { ALG_COSIGNATURE_V1 } from '../../kernel/crypto/keys.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { addSignatures } from '../../kernel/crypto/note.js';
import { writerPrefix } from '../../kernel/fleet/layout.js';
import { BasedTree } from '../../kernel/proofgraph/based-tree.js';
import { signCheckpoint } from '../../kernel/proofgraph/checkpoint.js';
import { START_SNAPSHOT_FORMAT, snapshotPath } from '../../kernel/proofgraph/start-snapshot.js';
import { LogWriter, readLog } from '../../kernel/proofgraph/store/index.js';
import { parseSegmentFileName } from '../../kernel/proofgraph/store/format.js';
import { LOG_BASE_FILE } from '../../kernel/proofgraph/store/log-base.js';
import { freeCosignedSegments } from '../../sidecar/ship/free-cosigned.js';
import { FleetBucket } from '../../sidecar/ship/object-store.js';
import { readEntries } from '../../sidecar/ship/publish.js';
import { makeKeys, tempDir } from '../evidence/fixtures.js';
import { bundleSigner } from '../guardian/helpers.js';
import { lookup, pepBundle, signed, START } from '../pep/support.js';
import { repoRoot } from '../support/shared.js';
import { buckets, certify, fleetKey, key, mirrorKey, shipEnv, startCollector } from './fleet-support.js';
import { findLogCertification } from '../../sidecar/ship/attach.js';
import { CollectorClient } from '../../sidecar/ship/collector-client.js';
import { shipEarlierBoots } from '../../sidecar/ship/earlier-boots.js';
import { freeShippedBoots } from '../../sidecar/ship/retention.js';
import { Shipper } from '../../sidecar/ship/shipper.js';
import { describeWithRgw, useRgw } from './rgw-support.js';

const ORIGIN = 'helm/test/ns-free/pod-uid-1/static';
const FIXTURE = join(repoRoot, 'test/fleet/fixtures/free-sidecar.ts');
const forger = key(mirrorKey.verifier.name, ALG_COSIGNATURE_V1);
const segmentsOf = (dir: string): number[] => readdirSync(dir).map(parseSegmentFileName).filter((x): x is number => x !== null).sort((a, b) => a - b);

type Status = { size: number; metrics: { cosignedSize: number; logBase: number; freedBytes: number; unshippedBytes: number; errors: number }; scrape: Record<string, number> };

function run(root: string, configFile: string, mode: string, count = 0): Promise<{ acked: string[]; start?: { size: number; treeResumedAt: number; pepFrom: number }; status?: Status; error?: string; drained?: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, root, ORIGIN, configFile, mode, String(count)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const r: { acked: string[]; start?: { size: number; treeResumedAt: number; pepFrom: number }; status?: Status; error?: string; drained?: number } = { acked: [] };
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, ...rest] = line.split(' ');
      if (word === 'ack') r.acked.push(rest[0]!);
      else if (word === 'start') r.start = JSON.parse(rest.join(' '));
      else if (word === 'status') r.status = JSON.parse(rest.join(' '));
      else if (word === 'error') r.error = rest.join(' ');
      else if (word === 'drained') r.drained = Number(rest[0]);
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0 || (code === 3 && r.error)) resolve(r);
      else reject(new Error(`sidecar fixture exited with ${code ?? signal}: ${stderr}`));
    });
  });
}

describe('free-cosigned retention without a collector', () => {
  it('a cosignature by another key than HELM_COLLECTOR_VKEY frees nothing; the collector key frees sealed segments below snapshot, cosigned size and a tile boundary', async () => {
    const t = await tempDir('helm-free-unit-');
    try {
      const dir = join(t.dir, 'log');
      const origin = 'helm/test/ns-u/pod/static';
      const logKey = key(origin);
      const w = await LogWriter.open({ dir, origin, segmentMaxBytes: 2048 });
      const entries = Array.from({ length: 700 }, (_, i) => new TextEncoder().encode(`{"receipt":${i},"pad":"${'y'.repeat(i % 40)}"}`));
      await Promise.all(entries.map((e) => w.append(e)));
      const tree = new BasedTree(nodeSuite, 0, []);
      for (const e of entries) tree.appendEntry(e);
      // A start-up snapshot at 650 (only its size and root matter here), a checkpoint of 600.
      await mkdir(dir, { recursive: true });
      await writeFile(snapshotPath(dir), `{"keyid":"x","sig":"x"}\n${JSON.stringify({ format: START_SNAPSHOT_FORMAT, origin, size: 650, root: Buffer.from(tree.root(650)).toString('base64') })}`);
      const note = signCheckpoint({ origin, size: 600, root: tree.root(600), extensions: [] }, logKey);
      const before = segmentsOf(dir);
      const certification = { payload: 'x' };
      await expect(freeCosignedSegments({ dir, origin, tree, cosignedNote: addSignatures(note, [forger], 1_700_000_000n), collectorKey: mirrorKey.verifier, certification })).rejects.toMatchObject({ code: 'ERR_SHIP_COSIGNATURE' });
      expect(segmentsOf(dir)).toEqual(before);
      expect(existsSync(join(dir, LOG_BASE_FILE))).toBe(false);

      const r = await freeCosignedSegments({ dir, origin, tree, cosignedNote: addSignatures(note, [mirrorKey], 1_700_000_000n), collectorKey: mirrorKey.verifier, certification });
      // Below min(600, 650 - 1) rounded down to a tile boundary: 512.
      expect(r.base).toBe(before.filter((s) => s <= 512).at(-1));
      expect(r.freedBytes).toBeGreaterThan(0);
      expect(segmentsOf(dir)[0]).toBe(r.base);
      const tail = await readLog(dir, { fromBase: true });
      expect([tail.first, tail.first + tail.entries.length, tail.base?.trust]).toEqual([r.base, 700, [certification]]);
      await w.close();
    } finally {
      await t.cleanup();
    }
  });
});

describe('kill -9 while freeing', () => {
  it('at random moments: the log always opens, reads from its base and holds every entry from it', async () => {
    const KILLS = Number(process.env.HELM_FREE_KILLS ?? 3);
    const t = await tempDir('helm-free-kill-');
    let seed = 11;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    try {
      for (let k = 0; k < KILLS; k++) {
        const dir = join(t.dir, `log-${k}`);
        const origin = `helm/test/ns-k/pod-${k}/static`;
        const freedSeen: number[] = [];
        await new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/fleet/fixtures/free-kill.ts'), dir, origin, '3000'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
          let stderr = '';
          child.stderr.on('data', (d) => (stderr += d));
          createInterface({ input: child.stdout }).on('line', (line) => {
            if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), 20 + Math.floor(rnd() * 400));
            if (line.startsWith('freed ')) freedSeen.push(Number(line.slice(6)));
          });
          child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`fixture exited without being killed: ${stderr}`))));
        });
        const tail = await readLog(dir, { fromBase: true });
        const base = tail.base?.base ?? 0;
        expect(base).toBeGreaterThanOrEqual(Math.max(0, ...freedSeen.filter((b) => b > 0)));
        expect(tail.first + tail.entries.length).toBe(3000);
        expect(tail.entries.every((e, i) => new TextDecoder().decode(e).startsWith(`{"receipt":${tail.first + i},`))).toBe(true);
        const w = await LogWriter.open({ dir, origin, segmentMaxBytes: 1024 });
        expect(w.size).toBe(3000);
        await w.close();
        if (base > 0) expect(segmentsOf(dir)[0]).toBe(base); // an interrupted delete is finished by the open
      }
    } finally {
      await t.cleanup();
    }
  }, 120_000);
});

describeWithRgw('free-cosigned retention of the live log through Ceph RGW', () => {
  const rgw = useRgw();

  it('an earlier boot (certified identity) freed below a base is shipped from its base, closed, and then freed whole', async () => {
    const t = await tempDir('helm-free-boot-');
    const config = await buckets(rgw(), 'fleet-free-boot');
    const col = await startCollector(config);
    const bucket = new FleetBucket(config);
    const POD = 'helm/c/ns-fb/uid-1';
    const origin = `${POD}/b1`;
    const dir = join(t.dir, 'b1');
    const logKey = key(origin);
    const entries = Array.from({ length: 750 }, (_, i) => new TextEncoder().encode(`{"receipt":${i},"pad":"${'w'.repeat(i % 50)}"}`));
    const store = await LogWriter.open({ dir, origin, segmentMaxBytes: 2048 });
    const checkpoint = async (): Promise<string> => {
      await store.flush();
      const size = store.durableSize;
      const note = signCheckpoint({ origin, size, root: store.tree.root(size), extensions: [] }, logKey);
      await store.appendCheckpoint(note);
      return note;
    };
    try {
      // The boot ran with free-cosigned: shipped 700 entries, snapshot at 650, freed below 512.
      await Promise.all(entries.slice(0, 700).map((e) => store.append(e)));
      const shipper = new Shipper({ source: { dir, origin, checkpoint }, bucket, collector: new CollectorClient(col.url), collectorKey: mirrorKey.verifier, namespace: 'ns-fb', certification: certify(origin, logKey), highWaterBytes: 1 << 30 });
      await shipper.round();
      const tree = new BasedTree(nodeSuite, 0, []);
      for (const e of entries.slice(0, 700)) tree.appendEntry(e);
      await writeFile(snapshotPath(dir), `{"keyid":"x","sig":"x"}\n${JSON.stringify({ format: START_SNAPSHOT_FORMAT, origin, size: 650, root: Buffer.from(tree.root(650)).toString('base64') })}`);
      const freed = await shipper.freeCosigned();
      expect(freed.base).toBeGreaterThan(256);
      // Then it was killed after 50 more entries and a last stored checkpoint (no WRITER_CLOSED).
      await Promise.all(entries.slice(700).map((e) => store.append(e)));
      await checkpoint();
      await store.close();

      // The next boot ships it from its base (certification from log-base.json), closes it, and frees it whole.
      const boots = await shipEarlierBoots({ logDir: join(t.dir, 'b2'), origin: `${POD}/b2`, bucket, collector: new CollectorClient(col.url), collectorKey: mirrorKey.verifier, namespace: 'ns-fb', certification: findLogCertification });
      expect(boots).toEqual([{ dir, origin, entries: 750, cosigned: 750, closed: true }]);
      expect(col.collector.writer(origin)).toMatchObject({ status: 'closed', size: 750 });
      const shipped = await readEntries(bucket, writerPrefix(nodeSuite, origin), 0, 750);
      expect(shipped.map((e) => Buffer.from(e).toString('base64'))).toEqual(entries.map((e) => Buffer.from(e).toString('base64')));
      expect(await freeShippedBoots(join(t.dir, 'b2'), `${POD}/b2`, mirrorKey.verifier)).toEqual(['b1']);
    } finally {
      bucket.destroy();
      await col.stop();
      await t.cleanup();
    }
  }, 120_000);

  it('frees cosigned segments, restarts from the snapshot after kill -9, ships and frees more; the bucket pack verifies; local export and a start without snapshot name the freed range', async () => {
    const t = await tempDir('helm-free-cosigned-');
    const config = await buckets(rgw(), 'fleet-free');
    const keys = makeKeys([ORIGIN]);
    const { collector, bucket, url, stop } = await startCollector(config, { rootKey: keys.root });
    const configFile = join(t.dir, 'config.json');
    const env = shipEnv(url, config, 'ns-free', { HELM_SHIP_INTERVAL_MS: '3600000', HELM_SHIP_RETENTION: 'free-cosigned' });
    const t0 = Date.now();
    await writeFile(configFile, JSON.stringify({ policy: signed(pepBundle()), root: bundleSigner.verifier.vkey, start: START, call: lookup(), env, segmentMaxBytes: 16 * 1024 }));
    const logDir = join(t.dir, 'sidecar');
    try {
      const first = await run(t.dir, configFile, 'calls', 160);
      const s1 = first.status!;
      expect(s1.metrics).toMatchObject({ cosignedSize: s1.size, unshippedBytes: 0, errors: 0 });
      expect(s1.metrics.logBase).toBeGreaterThan(0);
      expect(s1.metrics.freedBytes).toBeGreaterThan(0);
      expect(s1.scrape).toMatchObject({ helm_ship_log_base: s1.metrics.logBase, helm_ship_freed_bytes_total: s1.metrics.freedBytes });
      expect(segmentsOf(logDir)[0]).toBe(s1.metrics.logBase);

      // A local export of the volume names the freed range and points at the bucket.
      const err: string[] = [];
      await writeFile(join(t.dir, 'exporter.key'), keys.exporter.privateText);
      const code = await main(['export', '--store', t.dir, '--out', join(t.dir, 'local.tar.gz'), '--key', join(t.dir, 'exporter.key')], { stdout: { write: () => undefined }, stderr: { write: (s: string) => err.push(s) } });
      expect(code).not.toBe(0);
      expect(err.join('')).toMatch(new RegExp(`entries 0\\.\\.${s1.metrics.logBase - 1} of ${ORIGIN} were freed.*helmctl export --bucket`));

      // Restart on the freed volume: from the snapshot, deciding and shipping again, freeing more.
      const second = await run(t.dir, configFile, 'calls', 160);
      expect(second.start!.treeResumedAt).toBeGreaterThanOrEqual(s1.metrics.logBase);
      expect(second.start!.pepFrom).toBeGreaterThanOrEqual(s1.metrics.logBase);
      const s2 = second.status!;
      expect(second.acked.length).toBe(160);
      expect(s2.metrics).toMatchObject({ cosignedSize: s2.size, unshippedBytes: 0, errors: 0 });
      expect(s2.metrics.logBase).toBeGreaterThan(s1.metrics.logBase);

      // A start without a snapshot it can use would need freed entries: refused, naming the cause.
      await rename(snapshotPath(logDir), `${snapshotPath(logDir)}.aside`);
      const refused = await run(t.dir, configFile, 'calls', 4);
      expect(refused.error).toMatch(/^ERR_STORE_FREED .*were freed.*there is no start-up snapshot/);
      await rename(`${snapshotPath(logDir)}.aside`, snapshotPath(logDir));

      const drained = await run(t.dir, configFile, 'drain');
      const local = await readLog(logDir, { fromBase: true });
      const size = local.first + local.entries.length;
      expect(drained.drained).toBe(size);
      expect(collector.writer(ORIGIN)).toMatchObject({ status: 'closed', size });
      // Every acknowledged decision is in the bucket; the entries still on the volume match it byte for byte.
      const shipped = await readEntries(bucket, writerPrefix(nodeSuite, ORIGIN), 0, size);
      const hashes = new Set(shipped.map((e) => `sha256:${createHash('sha256').update(e).digest('hex')}`));
      expect([...first.acked, ...second.acked].filter((h) => !hashes.has(h))).toEqual([]);
      expect(shipped.slice(local.first).map((e) => Buffer.from(e).toString('base64'))).toEqual(local.entries.map((e) => Buffer.from(e).toString('base64')));

      // The fleet pack from the bucket alone verifies end to end, every receipt of the writer in it.
      process.env.AWS_ACCESS_KEY_ID = config.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = config.secretAccessKey;
      const pack = join(t.dir, 'fleet.tar');
      const iso = (ms: number): string => new Date(ms).toISOString();
      expect(await main(['export', '--bucket', config.bucket, '--endpoint', config.endpoint, '--namespace', 'ns-free', '--from', iso(t0 - 60_000), '--to', iso(Date.now() + 60_000), '--out', pack], { stdout: { write: () => undefined }, stderr: { write: () => undefined } })).toBe(0);
      await writeFile(join(t.dir, 'fleet.policy'), `log ${fleetKey.verifier.vkey}\nwitness collector ${mirrorKey.verifier.vkey}\nquorum collector\nroot ${keys.root.verifier.vkey}\n`);
      const out: string[] = [];
      expect(await main(['verify', '--fleet', pack, '--trust-policy', join(t.dir, 'fleet.policy'), '--json'], { stdout: { write: (s: string) => out.push(s) }, stderr: { write: () => undefined } })).toBe(0);
      const verdict = JSON.parse(out.join(''));
      expect(verdict.writers).toEqual([{ origin: ORIGIN, from: 0, to: size, closed: true, gap: false }]);
      expect(verdict.receipts).toBe(size);
    } finally {
      await stop();
      await t.cleanup();
    }
  }, 300_000);
});
