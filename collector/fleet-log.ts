// The collector's fleet log: a tlog-tiles log of FleetEvents in the locked bucket (prefix
// v1/fleet/). An event counts once its bundle, tiles and a signed, cosigned fleet checkpoint of a
// size covering it are in the bucket: append() resolves only then.
import { nodeSuite } from '../kernel/crypto/node.js';
import { addSignatures } from '../kernel/crypto/note.js';
import type { SigningKey } from '../kernel/crypto/signing-key.js';
import { encodeFleetEvent, decodeFleetEvent, type FleetEvent } from '../kernel/fleet/events.js';
import { FLEET_PREFIX, bundleKey, fleetCheckpointKey, parseFleetCheckpointKey } from '../kernel/fleet/layout.js';
import { TILE_WIDTH, decodeEntryBundle } from '../kernel/fleet/tiles.js';
import { openCheckpoint, signCheckpoint } from '../kernel/proofgraph/checkpoint.js';
import { MerkleTree } from '../kernel/proofgraph/merkle.js';
import type { FleetBucket } from '../sidecar/ship/object-store.js';
import { publishGrowth, readEntries } from '../sidecar/ship/publish.js';

export interface FleetKeys {
  /** Signs fleet checkpoints; its name is the fleet log's origin. */
  fleetKey: SigningKey;
  /** cosignature/v1 key of this collector: cosigns writer and fleet checkpoints. */
  mirrorKey: SigningKey;
}

export class FleetLog {
  readonly tree = new MerkleTree(nodeSuite);
  readonly entries: Uint8Array[] = [];
  private published = 0;
  note: string | null = null;

  private constructor(
    private readonly bucket: FleetBucket,
    private readonly keys: FleetKeys,
    private readonly now: () => number,
  ) {}

  get origin(): string {
    return this.keys.fleetKey.verifier.name;
  }

  /** Loads the fleet log from the bucket (latest fleet checkpoint) and returns its events. */
  static async open(bucket: FleetBucket, keys: FleetKeys, now: () => number): Promise<{ log: FleetLog; events: FleetEvent[] }> {
    const log = new FleetLog(bucket, keys, now);
    const sizes = (await bucket.list(`${FLEET_PREFIX}checkpoints/`)).map(parseFleetCheckpointKey).filter((s): s is number => s !== null);
    const size = sizes.length ? Math.max(...sizes) : 0;
    const events: FleetEvent[] = [];
    if (size > 0) {
      const note = new TextDecoder().decode((await bucket.get(fleetCheckpointKey(size)))!);
      const { checkpoint } = openCheckpoint(note, [keys.fleetKey.verifier], nodeSuite);
      for (const e of await readEntries(bucket, FLEET_PREFIX, 0, size)) {
        log.tree.appendEntry(e);
        log.entries.push(e);
        events.push(decodeFleetEvent(e));
      }
      if (checkpoint.size !== size || !Buffer.from(log.tree.root()).equals(Buffer.from(checkpoint.root))) {
        throw new Error(`fleet log in the bucket does not match its checkpoint at size ${size}`);
      }
      log.published = size;
      log.note = note;
    }
    // A collector killed mid-append may have written full bundles past its last checkpoint. They
    // are write-once, so they are adopted (their events are valid, only never answered); otherwise
    // the next append would conflict with them forever. Partial (staged) ones are simply rewritten.
    for (;;) {
      const index = Math.floor(log.tree.size / TILE_WIDTH);
      const body = await bucket.get(bundleKey(FLEET_PREFIX, { level: 0, index, width: TILE_WIDTH }));
      if (!body) break;
      const bundle = decodeEntryBundle(body, TILE_WIDTH);
      for (const e of bundle.slice(log.tree.size - index * TILE_WIDTH)) {
        log.tree.appendEntry(e);
        log.entries.push(e);
        events.push(decodeFleetEvent(e));
      }
    }
    return { log, events };
  }

  private pending: Array<{ events: readonly FleetEvent[]; resolve: (note: string) => void; reject: (e: unknown) => void }> = [];
  private flushing = false;

  /**
   * Appends events; resolves once they are published under a new cosigned checkpoint. Appends that
   * arrive while a publish runs go out together in the next one (group commit), so concurrent
   * writers share bucket round trips instead of queueing behind each other.
   */
  append(events: readonly FleetEvent[]): Promise<string> {
    return new Promise((resolve, reject) => {
      this.pending.push({ events, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending.splice(0);
    this.publish(batch.flatMap((b) => b.events)).then(
      (note) => batch.forEach((b) => b.resolve(note)),
      (e: unknown) => batch.forEach((b) => b.reject(e)),
    ).finally(() => {
      this.flushing = false;
      this.kick();
    });
  }

  private async publish(events: readonly FleetEvent[]): Promise<string> {
    for (const ev of events) {
      const bytes = encodeFleetEvent(ev);
      this.tree.appendEntry(bytes);
      this.entries.push(bytes);
    }
    await publishGrowth(this.bucket, FLEET_PREFIX, this.tree, this.published, (i) => this.entries[i]!);
    const signed = signCheckpoint({ origin: this.origin, size: this.tree.size, root: this.tree.root(), extensions: [] }, this.keys.fleetKey);
    const note = addSignatures(signed, [this.keys.mirrorKey], BigInt(Math.floor(this.now() / 1000)));
    await this.bucket.putImmutable(fleetCheckpointKey(this.tree.size), new TextEncoder().encode(note));
    await this.bucket.putStaged(`${FLEET_PREFIX}checkpoint`, new TextEncoder().encode(note));
    this.published = this.tree.size;
    this.note = note;
    return note;
  }
}
