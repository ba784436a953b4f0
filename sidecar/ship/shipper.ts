// The sidecar's shipper (docs/fleet.md §Shipper): asynchronous, never on the decision path. Each
// round it takes a signed checkpoint of the durable log, reads the new entries from the segment
// files, publishes bundles and tiles, and asks the collector to cosign (tlog-witness add-checkpoint
// with a consistency proof from the last cosigned size). What the collector has cosigned is safe
// beyond this pod; everything above it is the backlog, and past the high-water mark the sidecar
// denies calls (backlog-gate.ts).
import { nodeSuite } from '../../kernel/crypto/node.js';
import { parseNote } from '../../kernel/crypto/note.js';
import { writerPrefix } from '../../kernel/fleet/layout.js';
import { TILE_WIDTH } from '../../kernel/fleet/tiles.js';
import { parseCheckpointText } from '../../kernel/proofgraph/checkpoint.js';
import { MerkleTree } from '../../kernel/proofgraph/merkle.js';
import { equalBytes } from '../../kernel/crypto/bytes.js';
import { stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { VerifierKey } from '../../kernel/crypto/keys.js';
import type { CollectorClient } from './collector-client.js';
import { verifyCosignature } from './cosignature.js';
import type { FleetBucket } from './object-store.js';
import { publishGrowth } from './publish.js';
import { SegmentTail } from './segment-tail.js';

export interface ShipSource {
  /** The writer's log directory (segments). */
  dir: string;
  origin: string;
  /** Signs a checkpoint of everything accepted; resolves with the note once it is durable. */
  checkpoint(): Promise<string>;
}

export interface ShipperOptions {
  source: ShipSource;
  bucket: FleetBucket;
  collector: CollectorClient;
  /** The collector's cosignature key: a size counts as cosigned only with a valid cosignature by it. */
  collectorKey: VerifierKey;
  namespace: string;
  /** The root-signed certification of the log key (trust event, purpose log), or how to find it. */
  certification: unknown | (() => Promise<unknown>);
  /** Past this many unshipped bytes, calls are denied RECEIPT_BACKLOG. */
  highWaterBytes: number;
  intervalMs?: number;
  now?: () => number;
  onError?: (e: unknown) => void;
}

export class ShipError extends Error {
  constructor(
    readonly code: 'ERR_SHIP_CHECKPOINT' | 'ERR_SHIP_REFUSED',
    message: string,
  ) {
    super(message);
  }
}

export interface ShipMetrics {
  unshippedBytes: number;
  /** Seconds since the log last had nothing above the cosigned size (0 when caught up). */
  shipLagSeconds: number;
  cosignedSize: number;
  /** The last note the collector cosigned (writer signature + collector cosignature). */
  cosignedNote: string | null;
  /** Log entries published to the bucket (a restarted shipper re-checks from 0: idempotent keys). */
  shippedEntries: number;
  /** Shipping rounds that failed (bucket, collector or checkpoint errors). */
  errors: number;
}

export class Shipper {
  private readonly tail: SegmentTail;
  private readonly tree = new MerkleTree(nodeSuite);
  private readonly prefix: string;
  /** Entries from `windowStart` (a bundle boundary) on: what the edge bundle needs. */
  private window: Uint8Array[] = [];
  private windowStart = 0;
  private published = 0;
  private cosigned = 0;
  private cosignedNote: string | null = null;
  private opened = false;
  private closed = false;
  private failures = 0;
  /** Segment bytes consumed when the tail reached each size we asked to be cosigned. */
  private readonly bytesAtSize = new Map<number, number>();
  private cosignedBytes = 0;
  private diskBytes = 0;
  private caughtUpAt: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(private readonly o: ShipperOptions) {
    this.tail = new SegmentTail(o.source.dir);
    this.prefix = writerPrefix(nodeSuite, o.source.origin);
    this.now = o.now ?? Date.now;
    this.caughtUpAt = this.now();
  }

  get metrics(): ShipMetrics {
    const unshippedBytes = Math.max(0, this.diskBytes - this.cosignedBytes);
    return {
      unshippedBytes,
      shipLagSeconds: unshippedBytes > 0 ? Math.max(0, (this.now() - this.caughtUpAt) / 1000) : 0,
      cosignedSize: this.cosigned,
      cosignedNote: this.cosignedNote,
      shippedEntries: this.published,
      errors: this.failures,
    };
  }

  /** True when unshipped bytes exceed the high-water mark: new calls must be denied. */
  get overHighWater(): boolean {
    return this.diskBytes - this.cosignedBytes > this.o.highWaterBytes;
  }

  start(): void {
    const every = this.o.intervalMs ?? 2000;
    const loop = (): void => {
      this.timer = setTimeout(() => {
        this.round()
          .catch((e: unknown) => this.o.onError?.(e))
          .finally(() => {
            if (!this.closed) loop();
          });
      }, every);
      this.timer.unref?.();
    };
    loop();
  }

  /** One shipping round; concurrent callers share it. */
  round(): Promise<void> {
    this.running ??= this.ship()
      .catch((e: unknown) => {
        this.failures++;
        throw e;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** Stops the loop, ships what is left and tells the collector the log is closed. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round();
    const r = await this.o.collector.close({ origin: this.o.source.origin, size: this.cosigned });
    if (r.status !== 200) throw new ShipError('ERR_SHIP_REFUSED', `collector refused WRITER_CLOSED for ${this.o.source.origin}: ${r.status} ${r.detail}`);
  }

  private async measureDisk(): Promise<void> {
    let total = 0;
    for (const name of await readdir(this.o.source.dir)) {
      if (name.endsWith('.seg')) total += (await stat(join(this.o.source.dir, name))).size;
    }
    this.diskBytes = total;
  }

  private async ship(): Promise<void> {
    await this.measureDisk();
    const note = await this.o.source.checkpoint();
    const cp = parseCheckpointText(parseNote(note).text);
    const fresh = await this.tail.read(cp.size);
    for (const e of fresh) {
      this.tree.appendEntry(e);
      this.window.push(e);
    }
    if (this.tree.size < cp.size) throw new ShipError('ERR_SHIP_CHECKPOINT', `checkpoint of size ${cp.size} but only ${this.tree.size} entries are in ${this.o.source.dir}`);
    if (!equalBytes(this.tree.root(cp.size), cp.root)) throw new ShipError('ERR_SHIP_CHECKPOINT', `checkpoint root of size ${cp.size} does not match the entries in ${this.o.source.dir}`);
    this.bytesAtSize.set(cp.size, this.tail.bytesRead);
    if (cp.size > this.published) {
      await publishGrowth(this.o.bucket, this.prefix, this.tree, this.published, (i) => this.window[i - this.windowStart]!);
      this.published = cp.size;
      const keepFrom = Math.floor(cp.size / TILE_WIDTH) * TILE_WIDTH;
      this.window = this.window.slice(keepFrom - this.windowStart);
      this.windowStart = keepFrom;
    }
    if (!this.opened) await this.open();
    if (cp.size > this.cosigned || this.cosignedNote === null) await this.addCheckpoint(note, cp.size);
  }

  private async open(): Promise<void> {
    const c = this.o.certification;
    const certification = typeof c === 'function' ? await (c as () => Promise<unknown>)() : c;
    if (certification === null || certification === undefined) throw new ShipError('ERR_SHIP_REFUSED', `no certification of the log key of ${this.o.source.origin} yet: the collector only opens certified writers`);
    const r = await this.o.collector.open({ origin: this.o.source.origin, namespace: this.o.namespace, certification });
    if (r.status !== 200) throw new ShipError('ERR_SHIP_REFUSED', `collector refused WRITER_OPEN for ${this.o.source.origin}: ${r.status} ${r.detail}`);
    this.opened = true;
  }

  private async addCheckpoint(note: string, size: number, retried = false, oldSize = this.cosigned): Promise<void> {
    const proof = oldSize > 0 && oldSize < size ? this.tree.consistencyProof(oldSize, size) : [];
    const r = await this.o.collector.addCheckpoint({ oldSize, proof, note });
    if (r.status === 200 && 'cosignatures' in r) {
      // A 200 is not proof: the answer must carry the collector key's cosignature of this checkpoint.
      const cosignedNote = note + r.cosignatures;
      verifyCosignature(cosignedNote, this.o.collectorKey, note);
      this.cosigned = size;
      this.cosignedNote = cosignedNote;
      this.cosignedBytes = this.bytesAtSize.get(size) ?? this.cosignedBytes;
      for (const k of this.bytesAtSize.keys()) if (k < size) this.bytesAtSize.delete(k);
      if (this.cosignedBytes >= this.diskBytes) this.caughtUpAt = this.now();
      return;
    }
    // 409: the collector holds another size (a restart on either side): resync from it once.
    // (Only the cosigned answer moves `cosigned`: a 409 is not proof of anything.)
    if (r.status === 409 && 'size' in r && !retried && r.size <= size) return this.addCheckpoint(note, size, true, r.size);
    if (r.status === 404 && !retried) {
      this.opened = false;
      await this.open();
      return this.addCheckpoint(note, size, true);
    }
    throw new ShipError('ERR_SHIP_REFUSED', `collector refused ${this.o.source.origin}@${size}: ${r.status} ${'detail' in r ? r.detail : ''}`);
  }
}
