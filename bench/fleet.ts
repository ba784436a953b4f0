// Fleet shipping through a real S3 server: W writers (real LogWriter stores, fsync'ed, signed
// checkpoints) each append N receipts while their shippers run rounds against one in-process
// collector, until every entry is cosigned. Reports entries shipped per second (wall time from the
// first append to the last cosignature) and the add-checkpoint latency the shippers saw (collector
// signature + consistency check + read-back of the new entries from the bucket + cosignature).
// S3: HELM_BENCH_S3_ENDPOINT/_ACCESS_KEY/_SECRET_KEY, else a throwaway Ceph RGW started with
// scripts/ceph-rgw.sh; without either the result says it was skipped.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { Collector } from '../collector/collector.js';
import { collectorServer } from '../collector/http.js';
import { ALG_COSIGNATURE_V1 } from '../kernel/crypto/keys.js';
import { jcs } from '../kernel/crypto/jcs.js';
import { nodeSigner, nodeSuite } from '../kernel/crypto/node.js';
import { signingKeyFromSeed } from '../kernel/crypto/signing-key.js';
import { signCheckpoint } from '../kernel/proofgraph/checkpoint.js';
import { LogWriter } from '../kernel/proofgraph/store/index.js';
import { signKeyEvent } from '../kernel/trust/events.js';
import { parseTrustPolicy } from '../kernel/evidence/trust-policy.js';
import { writeTar } from '../kernel/evidence/tar.js';
import { buildFleetPack } from '../kernel/fleet/pack.js';
import { verifyFleetPackBytes } from '../kernel/fleet/verify-portable.js';
import { fleetSourceFromBucket } from '../cli/commands/fleet-source.js';
import { CollectorClient } from '../sidecar/ship/collector-client.js';
import { FleetBucket, type BucketConfig } from '../sidecar/ship/object-store.js';
import { Shipper } from '../sidecar/ship/shipper.js';
import { round, summarize } from './stats.js';
import { benchHotPath } from './fleet-hotpath.js';

const run = promisify(execFile);
// npm run bench runs from the repository root.
const script = join(process.cwd(), 'scripts', 'ceph-rgw.sh');
const key = (name: string, alg?: number) => signingKeyFromSeed(name, createHash('sha256').update(`helm-oss bench fleet key: ${name}`).digest(), nodeSigner, alg);

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function s3(): Promise<{ endpoint: string; accessKeyId: string; secretAccessKey: string; stop(): Promise<void> } | string> {
  const env = process.env;
  if (env.HELM_BENCH_S3_ENDPOINT) return { endpoint: env.HELM_BENCH_S3_ENDPOINT, accessKeyId: env.HELM_BENCH_S3_ACCESS_KEY ?? '', secretAccessKey: env.HELM_BENCH_S3_SECRET_KEY ?? '', stop: async () => undefined };
  if (spawnSync('sh', ['-c', 'command -v radosgw']).status !== 0) return 'no S3: set HELM_BENCH_S3_ENDPOINT or apt-get install -y ceph-mon ceph-osd radosgw';
  const dir = await mkdtemp(join(tmpdir(), 'helm-bench-rgw-'));
  const out = (await run('bash', [script, 'start', dir, String(await freePort()), String(await freePort())], { timeout: 180_000 })).stdout;
  const kv = Object.fromEntries(out.trim().split(/\s+/).map((p) => p.split('=') as [string, string]));
  return {
    endpoint: kv.endpoint!,
    accessKeyId: kv.access_key!,
    secretAccessKey: kv.secret_key!,
    async stop() {
      await run('bash', [script, 'stop', dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface FleetBenchOptions {
  writers?: number;
  receiptsPerWriter?: number;
  /** Receipts appended per writer between shipping rounds. */
  batch?: number;
  /** The decision-path phase (fleet-hotpath.ts); false skips it. */
  hotPath?: false | { decisions?: number; pairs?: number; rate?: number; seconds?: number };
  /** Export a fleet pack of everything shipped from the bucket alone, and verify it (default true). */
  pack?: boolean;
}

/**
 * The hot-path phase with the collector in a process of its own (dist/collector/main.js, as the
 * operator deploys it), so that this process's CPU time is the sidecar's side only: its PEP, the
 * shipper and its S3 client.
 */
async function hotPathWithCollectorProcess(client: S3Client, server: { endpoint: string; accessKeyId: string; secretAccessKey: string }, bucket: string, o: Parameters<typeof benchHotPath>[1]) {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(new CreateBucketCommand({ Bucket: `${bucket}-staging` }));
  const dir = await mkdtemp(join(tmpdir(), 'helm-bench-collector-'));
  const root = key('bench-root');
  const mirror = key('helm/collector/bench-hp', ALG_COSIGNATURE_V1);
  await writeFile(join(dir, 'fleet.key'), key('helm/fleet/bench-hp').privateText);
  await writeFile(join(dir, 'collector.key'), mirror.privateText);
  const s3env = { AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey, HELM_FLEET_BUCKET: bucket };
  const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'collector', 'main.js');
  const child = spawn(process.execPath, [main], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...s3env, HELM_COLLECTOR_LISTEN: '127.0.0.1:0', HELM_FLEET_KEY: join(dir, 'fleet.key'), HELM_COLLECTOR_KEY: join(dir, 'collector.key'), HELM_TRUST_ROOT: root.verifier.vkey },
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.on('exit', (c) => reject(new Error(`the collector exited ${c}: ${err}`)));
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const line = err.split('\n').find((l) => l.includes('fleet collector listening'));
        if (line) resolve((JSON.parse(line) as { url: string }).url);
      });
    });
    return await benchHotPath({ key, root, env: { HELM_SHIP: 'on', HELM_COLLECTOR_URL: url, HELM_SHIP_NAMESPACE: 'ns', HELM_COLLECTOR_VKEY: mirror.verifier.vkey, ...s3env } }, o);
  } finally {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchFleet(o: FleetBenchOptions = {}): Promise<Record<string, unknown>> {
  const writers = o.writers ?? 10;
  const perWriter = o.receiptsPerWriter ?? 2000;
  const batch = o.batch ?? 250;
  const server = await s3();
  if (typeof server === 'string') return { skipped: server };
  const name = `bench-fleet-${Date.now()}`;
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
  const root = key('bench-root');
  const dirs: string[] = [];
  try {
    await client.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
    await client.send(new PutObjectLockConfigurationCommand({ Bucket: name, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } } }));
    await client.send(new CreateBucketCommand({ Bucket: `${name}-staging` }));
    const config: BucketConfig = { endpoint: server.endpoint, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, bucket: name, stagingBucket: `${name}-staging` };
    const bucket = new FleetBucket(config);
    const fleetKey = key('helm/fleet/bench');
    const mirrorKey = key('helm/collector/bench', ALG_COSIGNATURE_V1);
    const collector = await Collector.open({ bucket, rootKey: root.verifier, fleetKey, mirrorKey });
    const http = collectorServer(collector);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    const cosignNs: number[] = [];
    const timed = new (class extends CollectorClient {
      override async addCheckpoint(r: Parameters<CollectorClient['addCheckpoint']>[0]) {
        const t = process.hrtime.bigint();
        const out = await super.addCheckpoint(r);
        cosignNs.push(Number(process.hrtime.bigint() - t));
        return out;
      }
    })(url);
    const sims = await Promise.all(
      Array.from({ length: writers }, async (_, k) => {
        const origin = `helm/bench/ns/pod-${k}/boot-1`;
        const dir = await mkdtemp(join(tmpdir(), 'helm-bench-fleet-w-'));
        dirs.push(dir);
        const logKey = key(origin);
        const store = await LogWriter.open({ dir: join(dir, 'log'), origin });
        const certification = signKeyEvent(nodeSuite, { event: 'KEY_PUBLISH', purpose: 'log', origin, key: logKey.verifier.vkey, fromIndex: 0, issuedAt: '2026-12-03T00:00:00.000Z' }, [root, logKey]);
        const source = {
          dir: join(dir, 'log'),
          origin,
          async checkpoint() {
            await store.flush();
            const note = signCheckpoint({ origin, size: store.durableSize, root: store.tree.root(store.durableSize), extensions: [] }, logKey);
            await store.appendCheckpoint(note);
            return note;
          },
        };
        const shipper = new Shipper({ source, bucket, collector: timed, namespace: 'ns', collectorKey: mirrorKey.verifier, certification, highWaterBytes: 1 << 30 });
        return { store, shipper, origin };
      }),
    );
    const t0 = process.hrtime.bigint();
    await Promise.all(
      sims.map(async (w, k) => {
        for (let done = 0; done < perWriter; ) {
          const n = Math.min(batch, perWriter - done);
          await Promise.all(Array.from({ length: n }, (_, i) => w.store.append(jcs({ kind: 'receipt', writer: k, i: done + i, pad: 'x'.repeat(200) }))));
          done += n;
          await w.shipper.round();
        }
        while (w.shipper.metrics.cosignedSize < perWriter) await w.shipper.round();
      }),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cosign = summarize(cosignNs);
    const sorted = [...cosignNs].sort((a, b) => a - b);
    const result = {
      writers,
      receiptsPerWriter: perWriter,
      batch,
      seconds: round(seconds),
      entriesShippedPerSecond: round((writers * perWriter) / seconds, 0),
      addCheckpoint: { n: cosign.n, p50Ms: round(cosign.p50Us / 1000), p95Ms: round(sorted[Math.floor(0.95 * (sorted.length - 1))]! / 1e6), p99Ms: round(cosign.p99Us / 1000) },
      fleetLogSize: collector.fleet.tree.size,
      pack: o.pack === false ? 'skipped' : await packPhase(config, `log ${fleetKey.verifier.vkey}\nwitness collector ${mirrorKey.verifier.vkey}\nquorum collector\nroot ${root.verifier.vkey}\n`, writers * perWriter),
      hotPath: o.hotPath === false ? 'skipped' : await hotPathWithCollectorProcess(client, server, `${name}-hp`, o.hotPath ?? {}),
    };
    for (const w of sims) await w.store.close();
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
    bucket.destroy();
    return result;
  } finally {
    client.destroy();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    await server.stop();
  }
}

/** The pack target: a fleet pack of every shipped receipt, built from the bucket alone (as `helmctl export --bucket`), then verified offline. */
async function packPhase(config: BucketConfig, policyText: string, receipts: number) {
  const reader = new FleetBucket(config);
  try {
    const t0 = process.hrtime.bigint();
    const files = await buildFleetPack(nodeSuite, await fleetSourceFromBucket(reader), 'ns', 0, Date.now() + 3_600_000);
    const tar = writeTar([...files].map(([path, data]) => ({ path, data })));
    const t1 = process.hrtime.bigint();
    const verdict = verifyFleetPackBytes(tar, parseTrustPolicy(policyText, 'bench.policy'), nodeSuite);
    const t2 = process.hrtime.bigint();
    return { receipts, packed: verdict.receipts, writers: verdict.writers.length, bytes: tar.length, exportSeconds: round(Number(t1 - t0) / 1e9), verifySeconds: round(Number(t2 - t1) / 1e9), targetSeconds: 10 };
  } finally {
    reader.destroy();
  }
}
