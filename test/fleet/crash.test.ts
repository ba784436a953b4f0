// kill -9 of the collector at seeded random moments while writers ship (and of the shipper:
// a fresh Shipper on the same log, as after a sidecar restart). After each crash the collector
// restarts from the bucket alone; in the end every acknowledged receipt is cosigned and in the
// fleet log. Scaled for CI (docs/fleet.md §Test sizes): HELM_FLEET_KILLS sets the number of kills.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/shared.js';
import { CollectorClient } from '../../sidecar/ship/collector-client.js';
import { FleetBucket } from '../../sidecar/ship/object-store.js';
import { Shipper } from '../../sidecar/ship/shipper.js';
import { buckets, fleetKey, mirrorKey, root, simWriter, type SimWriter } from './fleet-support.js';
import { describeWithRgw, startRgw, type Rgw } from './rgw-support.js';

const KILLS = Number(process.env.HELM_FLEET_KILLS ?? 4);
const main = join(repoRoot, 'dist', 'collector', 'main.js');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Seeded PRNG (mulberry32), so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describeWithRgw('kill -9 of the collector and restarts of the shipper', () => {
  let rgw: Rgw;
  let dir: string;
  beforeAll(async () => {
    rgw = await startRgw();
    dir = await mkdtemp(join(tmpdir(), 'helm-fleet-crash-'));
  }, 180_000);
  afterAll(async () => {
    await rgw?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('loses no acknowledged receipt', async () => {
    const config = await buckets(rgw, 'fleet-crash');
    await writeFile(join(dir, 'fleet.key'), fleetKey.privateText);
    await writeFile(join(dir, 'collector.key'), mirrorKey.privateText);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      HELM_COLLECTOR_LISTEN: `127.0.0.1:${port}`,
      HELM_FLEET_BUCKET: config.bucket,
      AWS_ENDPOINT_URL: config.endpoint,
      AWS_ACCESS_KEY_ID: config.accessKeyId,
      AWS_SECRET_ACCESS_KEY: config.secretAccessKey,
      HELM_FLEET_KEY: join(dir, 'fleet.key'),
      HELM_COLLECTOR_KEY: join(dir, 'collector.key'),
      HELM_TRUST_ROOT: root.verifier.vkey,
    };
    let child: ChildProcess | null = null;
    const start = async (): Promise<void> => {
      const c = spawn(process.execPath, [main], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      await new Promise<void>((resolve, reject) => {
        let err = '';
        c.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('fleet collector listening')) resolve();
        });
        c.once('exit', (code) => reject(new Error(`collector exited ${code}: ${err}`)));
      });
    };
    const kill9 = async (): Promise<void> => {
      const c = child!;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    };
    const random = prng(20261203);
    const bucket = new FleetBucket(config);
    const writers: SimWriter[] = [];
    const shippers: Shipper[] = [];
    const shipperFor = (w: SimWriter): Shipper => new Shipper({ source: w.source, bucket, collector: new CollectorClient(url), namespace: 'ns-k', collectorKey: mirrorKey.verifier, certification: w.certification, highWaterBytes: 1 << 30 });
    try {
      await start();
      for (let k = 0; k < 3; k++) {
        const w = await simWriter(`helm/test/ns-k/pod-${k}/boot-1`);
        writers.push(w);
        shippers.push(shipperFor(w));
      }
      for (let round = 0; round < KILLS; round++) {
        await Promise.all(writers.map((w) => w.append(60 + Math.floor(random() * 200))));
        const rounds = Promise.allSettled(shippers.map((s) => s.round()));
        await new Promise((r) => setTimeout(r, Math.floor(random() * 400)));
        await kill9();
        await rounds;
        // Every other round the shipper "crashes" too: a new one starts from nothing and resyncs (409).
        if (round % 2 === 1) for (let i = 0; i < shippers.length; i++) shippers[i] = shipperFor(writers[i]!);
        await start();
      }
      // Everything acknowledged locally ships once the collector stays up.
      for (const s of shippers) await s.round();
      writers.forEach((w, i) => expect(shippers[i]!.metrics.cosignedSize).toBe(w.receipts.length));
      await kill9();
      await start();
      const listed = (await (await fetch(`${url}/writers`)).json()) as Array<{ origin: string; size: number; status: string }>;
      expect(listed.map((w) => [w.origin, w.size])).toEqual(writers.map((w) => [w.origin, w.receipts.length]));
    } finally {
      if (child) await kill9().catch(() => undefined);
      await Promise.all(writers.map((w) => w.close()));
      bucket.destroy();
    }
  }, 300_000);
});
