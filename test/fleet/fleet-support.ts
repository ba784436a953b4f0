// Shared set-up of the fleet tests: keys, a real ProofGraph store per simulated writer (LogWriter
// on a temp dir, checkpoints signed with its certified log key), buckets on RGW, a collector on a
// real HTTP port, and a TCP relay that can cut the network to the bucket.
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jcs } from '../../kernel/crypto/jcs.js';
import { ALG_COSIGNATURE_V1 } from '../../kernel/crypto/keys.js';
import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { signingKeyFromSeed, type SigningKey } from '../../kernel/crypto/signing-key.js';
import { signCheckpoint } from '../../kernel/proofgraph/checkpoint.js';
import { LogWriter } from '../../kernel/proofgraph/store/index.js';
import { signKeyEvent } from '../../kernel/trust/events.js';
import { Collector } from '../../collector/collector.js';
import { collectorServer } from '../../collector/http.js';
import { FleetBucket, type BucketConfig } from '../../sidecar/ship/object-store.js';
import type { ShipSource } from '../../sidecar/ship/shipper.js';
import type { Rgw } from './rgw-support.js';

let seedCounter = 1;
export const key = (name: string, alg?: number): SigningKey => signingKeyFromSeed(name, new Uint8Array(32).fill(seedCounter++), nodeSigner, alg);

export const root = key('helm-root');
export const fleetKey = key('helm/fleet/test');
export const mirrorKey = key('helm/collector/test', ALG_COSIGNATURE_V1);

export async function buckets(rgw: Rgw, name: string, endpoint = rgw.endpoint): Promise<BucketConfig> {
  await rgw.lockedBucket(name);
  const s3 = rgw.client();
  await s3.send(new CreateBucketCommand({ Bucket: `${name}-staging` }));
  s3.destroy();
  return { endpoint, accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey, bucket: name, stagingBucket: `${name}-staging` };
}

export interface SimWriter {
  origin: string;
  logKey: SigningKey;
  store: LogWriter;
  certification: unknown;
  source: ShipSource;
  receipts: Uint8Array[];
  append(n: number): Promise<void>;
  close(): Promise<void>;
}

export function certify(origin: string, logKey: SigningKey): unknown {
  return signKeyEvent(nodeSuite, { event: 'KEY_PUBLISH', purpose: 'log', origin, key: logKey.verifier.vkey, fromIndex: 0, issuedAt: '2026-12-03T00:00:00.000Z' }, [root, logKey]);
}

export async function simWriter(origin: string): Promise<SimWriter> {
  const dir = await mkdtemp(join(tmpdir(), 'helm-fleet-w-'));
  const logKey = key(origin);
  const store = await LogWriter.open({ dir: join(dir, 'log'), origin });
  const receipts: Uint8Array[] = [];
  const w: SimWriter = {
    origin,
    logKey,
    store,
    certification: certify(origin, logKey),
    receipts,
    source: {
      dir: join(dir, 'log'),
      origin,
      async checkpoint() {
        await store.flush();
        const size = store.durableSize;
        const note = signCheckpoint({ origin, size, root: store.tree.root(size), extensions: [] }, logKey);
        await store.appendCheckpoint(note);
        return note;
      },
    },
    async append(n) {
      const start = receipts.length;
      const batch = Array.from({ length: n }, (_, k) => jcs({ kind: 'receipt', origin, i: start + k, pad: 'x'.repeat((start + k) % 50) }));
      receipts.push(...batch);
      await Promise.all(batch.map((b) => store.append(b)));
    },
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return w;
}

/** A collector on `config` behind a loopback HTTP server; `rootKey` certifies writer log keys (default `root`). */
export async function startCollector(config: BucketConfig, o: { now?: () => number; rootKey?: SigningKey } = {}): Promise<{ collector: Collector; url: string; server: HttpServer; bucket: FleetBucket; stop(): Promise<void> }> {
  const bucket = new FleetBucket(config);
  const collector = await Collector.open({ bucket, rootKey: (o.rootKey ?? root).verifier, fleetKey, mirrorKey, ...(o.now ? { now: o.now } : {}) });
  const server = collectorServer(collector);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    collector,
    url,
    server,
    bucket,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      bucket.destroy();
    },
  };
}

/** The environment of a shipping sidecar (sidecar/ship/attach.ts) against `collectorUrl` and `config`. */
export function shipEnv(collectorUrl: string, config: BucketConfig, namespace: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HELM_SHIP: 'on',
    HELM_COLLECTOR_URL: collectorUrl,
    HELM_COLLECTOR_VKEY: mirrorKey.verifier.vkey,
    HELM_FLEET_BUCKET: config.bucket,
    AWS_ENDPOINT_URL: config.endpoint,
    AWS_ACCESS_KEY_ID: config.accessKeyId,
    AWS_SECRET_ACCESS_KEY: config.secretAccessKey,
    HELM_SHIP_NAMESPACE: namespace,
    ...extra,
  };
}

/** A TCP relay to the bucket that the test can cut (connections refused and reset) and restore. */
export async function relay(target: string): Promise<{ endpoint: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const u = new URL(target);
  let up = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((c) => {
    if (!up) return c.destroy();
    const s = connect(Number(u.port), u.hostname);
    sockets.add(c).add(s);
    c.pipe(s).pipe(c);
    const end = (): void => {
      c.destroy();
      s.destroy();
      sockets.delete(c);
      sockets.delete(s);
    };
    c.on('error', end).on('close', end);
    s.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

