// Turns shipping on for a running sidecar (off unless HELM_SHIP=on). One call from the sidecar's
// start: it starts the shipper loop, puts the RECEIPT_BACKLOG gate in front of pep.decide, and
// wraps writer.close so a graceful stop ships the final checkpoint and sends WRITER_CLOSED.
// Settings (docs/fleet.md §Shipping):
//   HELM_SHIP=on, HELM_COLLECTOR_URL, HELM_FLEET_BUCKET [, HELM_FLEET_STAGING_BUCKET],
//   AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (write access to the
//   writer prefixes only), HELM_SHIP_NAMESPACE, HELM_SHIP_HIGH_WATER_BYTES (default 256 MiB),
//   HELM_SHIP_INTERVAL_MS (default 2000), HELM_COLLECTOR_VKEY (the collector's cosignature
//   verifier key: nothing counts as cosigned, and nothing is freed, without its cosignature).
import { fromBase64, fromUtf8 } from '../../kernel/crypto/bytes.js';
import { parseVerifierKey, type VerifierKey } from '../../kernel/crypto/keys.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import type { Pep } from '../../kernel/pep/index.js';
import type { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { errorText, type Logger } from '../log.js';
import { gateOnBacklog } from './backlog-gate.js';
import { CollectorClient } from './collector-client.js';
import { FleetBucket } from './object-store.js';
import { Shipper } from './shipper.js';
import { registerShipMetrics } from './metrics.js';
import { freeShippedBoots, markShipped } from './retention.js';
import { shipEarlierBoots } from './earlier-boots.js';
import type { Registry } from 'prom-client';

export class ShipConfigError extends Error {
  readonly code = 'ERR_SHIP_CONFIG';
}

function need(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new ShipConfigError(`HELM_SHIP=on needs ${name} (see docs/fleet.md)`);
  return v;
}

function positive(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ShipConfigError(`${name}=${v} is not a positive integer`);
  return n;
}

/** The collector's cosignature verifier key (C2SP vkey), required with shipping on: fail closed. */
export function collectorKeyFrom(env: NodeJS.ProcessEnv): VerifierKey {
  const v = need(env, 'HELM_COLLECTOR_VKEY');
  try {
    return parseVerifierKey(v);
  } catch (e) {
    throw new ShipConfigError(`HELM_COLLECTOR_VKEY is not a verifier key (name+keyid+base64, the collector's cosignature key: chart value collector.verifierKey): ${(e as Error).message}`);
  }
}

/** The root-signed certification of this log's key, from the trust nodes of the log itself. */
export async function findLogCertification(logDir: string, origin: string): Promise<unknown> {
  // A log freed below a base keeps the certification in its base record (store.md §10).
  const log = await readLog(logDir, { fromBase: true });
  for (const ev of log.base?.trust ?? []) if (certifies(ev, origin)) return ev;
  for (const entry of log.entries) {
    const node = decodeNode(nodeSuite, entry);
    if (node.kind !== 'trust') continue;
    const ev = (node.statement.predicate.body as { event?: { payload?: string } }).event;
    if (typeof ev?.payload !== 'string') continue;
    if (certifies(ev, origin)) return ev;
  }
  return null;
}

function certifies(ev: unknown, origin: string): boolean {
  const payload = (ev as { payload?: unknown } | null)?.payload;
  if (typeof payload !== 'string') return false;
  const st = JSON.parse(fromUtf8(fromBase64(payload))) as { predicate?: { purpose?: string; origin?: string; event?: string } };
  return st.predicate?.purpose === 'log' && st.predicate.origin === origin && st.predicate.event === 'KEY_PUBLISH';
}

export interface Shipping {
  shipper: Shipper;
}

export async function attachShipping(o: { env: NodeJS.ProcessEnv; pep: Pep; writer: ProofGraphWriter; logDir: string; log: Logger; registry?: Registry }): Promise<Shipping | null> {
  if (o.env.HELM_SHIP !== 'on') return null;
  const retention = o.env.HELM_SHIP_RETENTION ?? 'keep';
  if (retention !== 'keep' && retention !== 'free-closed' && retention !== 'free-cosigned') throw new ShipConfigError(`HELM_SHIP_RETENTION=${retention}: use keep (default), free-closed or free-cosigned`);
  // Only certified identity makes a fresh origin and directory per start that no later start reopens.
  if (retention === 'free-closed' && o.env.HELM_IDENTITY !== 'certified') throw new ShipConfigError('HELM_SHIP_RETENTION=free-closed needs HELM_IDENTITY=certified (a static-identity log is reopened by the next start)');
  const collectorKey = collectorKeyFrom(o.env);
  const bucketName = need(o.env, 'HELM_FLEET_BUCKET');
  const bucket = new FleetBucket({
    endpoint: need(o.env, 'AWS_ENDPOINT_URL'),
    region: o.env.AWS_REGION ?? 'us-east-1',
    accessKeyId: need(o.env, 'AWS_ACCESS_KEY_ID'),
    secretAccessKey: need(o.env, 'AWS_SECRET_ACCESS_KEY'),
    bucket: bucketName,
    stagingBucket: o.env.HELM_FLEET_STAGING_BUCKET ?? `${bucketName}-staging`,
  });
  const { writer, logDir } = o;
  const highWaterBytes = positive(o.env, 'HELM_SHIP_HIGH_WATER_BYTES', 256 * 1024 * 1024);
  let closed = false;
  const shipper = new Shipper({
    source: {
      dir: logDir,
      origin: writer.origin,
      // After the writer has closed, its final checkpoint is the last one stored.
      checkpoint: async () => (closed ? (await readLog(logDir, { fromBase: true })).checkpoints.at(-1)! : writer.checkpoint()),
    },
    bucket,
    collector: new CollectorClient(need(o.env, 'HELM_COLLECTOR_URL')),
    collectorKey,
    namespace: need(o.env, 'HELM_SHIP_NAMESPACE'),
    certification: () => findLogCertification(logDir, writer.origin),
    highWaterBytes,
    intervalMs: positive(o.env, 'HELM_SHIP_INTERVAL_MS', 2000),
    freeCosigned: retention === 'free-cosigned',
    onFreed: (r) => o.log.info('freed log segments below the cosigned size (log-base.json)', r),
    onError: (e) =>
      (e as { code?: string }).code === 'ERR_SHIP_FREE'
        ? o.log.warn('freeing cosigned log segments failed; they are kept until a later round frees them', { error: errorText(e) })
        : o.log.warn('shipping round failed; the backlog grows until it succeeds', { error: errorText(e), ...shipper.metrics, cosignedNote: undefined }),
  });
  if (o.registry) registerShipMetrics(o.registry, shipper, highWaterBytes);
  gateOnBacklog(o.pep, writer, nodeSuite, () => ({ over: shipper.overHighWater, unshippedBytes: shipper.metrics.unshippedBytes, highWaterBytes }));
  const close = writer.close.bind(writer);
  writer.close = async () => {
    await close();
    closed = true;
    const shipped = await shipper.close().then(
      () => true,
      (e: unknown) => (o.log.warn('final shipping round or WRITER_CLOSED failed: the collector reports this writer as a gap', { error: errorText(e) }), false),
    );
    const m = shipper.metrics;
    if (shipped && m.cosignedNote) await markShipped(logDir, { origin: writer.origin, size: m.cosignedSize, cosignedNote: m.cosignedNote }); // retention.ts
    bucket.destroy();
  };
  // free-cosigned also frees earlier boots (certified identity: each start is a new log).
  if (retention === 'free-closed' || (retention === 'free-cosigned' && o.env.HELM_IDENTITY === 'certified')) {
    const freed = await freeShippedBoots(logDir, writer.origin, collectorKey).catch((e: unknown) => (o.log.warn('freeing shipped boot logs failed; they are kept', { error: errorText(e) }), []));
    if (freed.length > 0) o.log.info('freed the logs of earlier boots: shipped whole, cosigned and closed', { freed });
  }
  if (o.env.HELM_IDENTITY === 'certified') {
    // In the background: what earlier (killed) boots of this pod left, up to their last signed checkpoint.
    const collector = new CollectorClient(need(o.env, 'HELM_COLLECTOR_URL'));
    void shipEarlierBoots({ logDir, origin: writer.origin, bucket, collector, collectorKey, namespace: need(o.env, 'HELM_SHIP_NAMESPACE'), certification: findLogCertification }).then(
      (boots) => boots.length > 0 && o.log.info('shipped the logs of earlier boots', { boots: boots.map((b) => ({ origin: b.origin, entries: b.entries, cosigned: b.cosigned, closed: b.closed })) }),
      (e: unknown) => o.log.warn('shipping the logs of earlier boots failed; retried at the next start', { error: errorText(e) }),
    );
  }
  shipper.start();
  o.log.info('shipping to the fleet collector', { bucket: bucketName, highWaterBytes });
  return { shipper };
}
