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
import { BasedTree } from '../../kernel/proofgraph/based-tree.js';
import { baseTree, readLogBase } from '../../kernel/proofgraph/store/log-base.js';
import { parseSegmentFileName } from '../../kernel/proofgraph/store/format.js';
import { equalBytes } from '../../kernel/crypto/bytes.js';
import { stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { VerifierKey } from '../../kernel/crypto/keys.js';
import type { CollectorClient } from './collector-client.js';
import { verifyCosignature } from './cosignature.js';
import { freeCosignedSegments, type FreeResult } from './free-cosigned.js';
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
  /** HELM_SHIP_RETENTION=free-cosigned: after each cosignature, free sealed segments below it (free-cosigned.ts). */
  freeCosigned?: boolean;
  onFreed?: (r: { base: number; freedBytes: number }) => void;
}

export class ShipError extends Error {
  constructor(
    readonly code: 'ERR_SHIP_CHECKPOINT' | 'ERR_SHIP_REFUSED' | 'ERR_SHIP_FREE',
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
  /** First log index still on the volume (log-base.json; 0 when nothing was freed). */
  logBase: number;
  /** Segment bytes this process freed (free-cosigned retention). */
  freedBytes: number;
}

export class Shipper {
  private readonly tail: SegmentTail;
  private tree = new BasedTree(nodeSuite, 0, []);
  /** The log was checked for a base record (a log freed below a base is shipped from there on). */
  private based = false;
  private publishedAtStart = 0;
  private freed = 0;
  /** The certification sent in WRITER_OPEN (a base record keeps it when the entry holding it is freed). */
  private certificationSent: unknown = null;
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
      shippedEntries: this.published - this.publishedAtStart,
      errors: this.failures,
      logBase: this.tree.base,
      freedBytes: this.freed,
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

  /**
   * A log freed below a base: the tree starts from the base's tile edges and the tail at the base.
   * Everything below the first tile boundary at or after the base is in the bucket already (the
   * base checkpoint covers it, and bases are only taken below a tile boundary it covers), so
   * publishing resumes from that boundary and never needs a freed entry.
   */
  private async startFromBase(): Promise<void> {
    this.based = true;
    const b = await readLogBase(this.o.source.dir, this.o.source.origin);
    if (!b) return;
    this.tree = baseTree(nodeSuite, b);
    this.tail.startAt(b.base);
    this.published = this.publishedAtStart = this.windowStart = Math.ceil(b.base / TILE_WIDTH) * TILE_WIDTH;
  }

  /** After a retention step freed segments below `base`: drop what the tree kept below it. */
  private rebased(base: number, freedBytes: number): void {
    if (base > this.tree.base) this.tree = this.tree.rebased(base);
    this.freed += freedBytes;
  }

  /**
   * Segment bytes of the log in the tail's count: what the tail consumed plus what lies beyond it
   * on disk. Segments before the tail's (read, and maybe freed since) do not enter, so freeing,
   * even cut short by an error, never makes the backlog look smaller than it is.
   */
  private async measureDisk(): Promise<void> {
    const { segment, offset } = this.tail.position;
    let beyond = 0;
    let current = false;
    for (const name of await readdir(this.o.source.dir)) {
      const first = parseSegmentFileName(name);
      if (first === null || first < segment) continue;
      const size = await stat(join(this.o.source.dir, name)).then((st) => st.size, () => 0);
      if (first === segment) current = size > 0;
      beyond += size;
    }
    const consumedHere = this.tail.bytesRead > 0 && current ? offset : 0;
    this.diskBytes = this.tail.bytesRead + Math.max(0, beyond - consumedHere);
  }

  private async ship(): Promise<void> {
    if (!this.based) await this.startFromBase();
    await this.measureDisk();
    const note = await this.o.source.checkpoint();
    const cp = parseCheckpointText(parseNote(note).text);
    const fresh = await this.tail.read(cp.size);
    for (const e of fresh) {
      if (this.tree.size >= this.windowStart) this.window.push(e);
      this.tree.appendEntry(e);
    }
    if (cp.size < this.published) throw new ShipError('ERR_SHIP_CHECKPOINT', `checkpoint of size ${cp.size} is below what ${this.o.source.dir} already published (${this.published})`);
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
    if (cp.size > this.cosigned || this.cosignedNote === null) {
      await this.addCheckpoint(note, cp.size);
      // Retention never fails the round: what is not freed now is freed after a later cosignature.
      if (this.o.freeCosigned) await this.freeCosigned().catch((e: unknown) => this.o.onError?.(new ShipError('ERR_SHIP_FREE', `freeing cosigned segments of ${this.o.source.dir} failed; they are kept: ${(e as Error).message}`)));
    }
  }

  /** One free-cosigned retention step (free-cosigned.ts) with this shipper's verified state. */
  async freeCosigned(): Promise<FreeResult> {
    if (!this.cosignedNote) return { base: null, freedBytes: 0 };
    const r = await freeCosignedSegments({ dir: this.o.source.dir, origin: this.o.source.origin, tree: this.tree, cosignedNote: this.cosignedNote, collectorKey: this.o.collectorKey, certification: this.certificationSent });
    if (r.base !== null) {
      this.rebased(r.base, r.freedBytes);
      this.o.onFreed?.({ base: r.base, freedBytes: r.freedBytes });
    }
    return r;
  }

  private async open(): Promise<void> {
    const c = this.o.certification;
    const certification = typeof c === 'function' ? await (c as () => Promise<unknown>)() : c;
    if (certification === null || certification === undefined) throw new ShipError('ERR_SHIP_REFUSED', `no certification of the log key of ${this.o.source.origin} yet: the collector only opens certified writers`);
    const r = await this.o.collector.open({ origin: this.o.source.origin, namespace: this.o.namespace, certification });
    if (r.status !== 200) throw new ShipError('ERR_SHIP_REFUSED', `collector refused WRITER_OPEN for ${this.o.source.origin}: ${r.status} ${r.detail}`);
    this.certificationSent = certification;
    this.opened = true;
  }

  private async addCheckpoint(note: string, size: number, retried = false, oldSize = this.cosigned): Promise<void> {
    // A collector behind this log's base (state lost, another bucket) cannot be proven consistent: the entries between were freed here.
    if (oldSize > 0 && oldSize < this.tree.base) throw new ShipError('ERR_SHIP_REFUSED', `the collector holds ${oldSize} entries of ${this.o.source.origin}, below the base ${this.tree.base} of ${this.o.source.dir} (log-base.json: entries below it were freed after a cosignature covering them); did the collector lose its state or change bucket?`);
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
