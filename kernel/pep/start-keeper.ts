// Keeps the start-up snapshot current: a second fold (the writer's chain and the PEP state) that
// follows the log as entries become durable, written out on demand (the sidecar does it after
// each periodic checkpoint and at a clean stop). It folds recorded entries only, never the live
// PEP state, so the snapshot is exactly what a full rebuild of the same prefix gives.
import { toBase64 } from '../crypto/bytes.js';
import type { SigningKey } from '../crypto/signing-key.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { ChainFold } from '../proofgraph/chain-state.js';
import type { ProofGraphWriter } from '../proofgraph/graph-writer.js';
import { saveStartSnapshot, START_SNAPSHOT_FORMAT, type StartSnapshot } from '../proofgraph/start-snapshot.js';
import { readLog } from '../proofgraph/store/index.js';
import { PepFold } from './rebuild.js';
import { snapshotOf, stateFromSnapshot, type PepSnapshot } from './snapshot.js';
import { PepState } from './state.js';

export class StartSnapshotKeeper {
  private readonly waiting = new Map<number, Uint8Array>();
  private savedSize = -1;

  private constructor(
    private readonly writer: ProofGraphWriter,
    private readonly logDir: string,
    private readonly nodeKey: SigningKey,
    private readonly chain: ChainFold,
    private readonly fold: PepFold,
    private size: number,
  ) {}

  /** Starts from the writer's start-up snapshot (or the first entry) and follows the log from now. */
  static async follow(o: { writer: ProofGraphWriter; logDir: string; nodeKey: SigningKey; suite: CryptoSuite }): Promise<StartSnapshotKeeper> {
    const snap = o.writer.startSnapshot.snapshot;
    const chain = snap ? ChainFold.from(snap.chain, o.suite) : new ChainFold(o.suite);
    const fold = snap ? stateFromSnapshot(snap.pep as PepSnapshot, o.suite) : new PepFold(new PepState(), o.suite);
    const k = new StartSnapshotKeeper(o.writer, o.logDir, o.nodeKey, chain, fold, snap?.size ?? 0);
    // Listen before reading, so an entry that becomes durable meanwhile is not missed.
    o.writer.onDurable = (index, entry) => {
      if (index >= k.size) k.waiting.set(index, entry);
    };
    const log = await readLog(o.logDir);
    for (const e of log.entries.slice(k.size)) k.apply(e);
    return k;
  }

  private apply(entry: Uint8Array): void {
    this.chain.apply(entry);
    this.fold.apply(entry);
    this.waiting.delete(this.size);
    this.size++;
  }

  /**
   * Folds what became durable and writes the snapshot when the log grew by at least `minGrowth`
   * entries since the last one (writing costs O(state), so not at every beat) or when forced (a
   * clean stop). Returns the size written, or null.
   */
  async save(o: { force?: boolean; minGrowth?: number } = {}): Promise<number | null> {
    for (let e = this.waiting.get(this.size); e !== undefined; e = this.waiting.get(this.size)) this.apply(e);
    for (const i of this.waiting.keys()) if (i < this.size) this.waiting.delete(i);
    if (this.size === 0 || this.size === this.savedSize) return null;
    if (!o.force && this.size - Math.max(0, this.savedSize) < (o.minGrowth ?? 1000)) return null;
    const snapshot: StartSnapshot = {
      format: START_SNAPSHOT_FORMAT,
      origin: this.writer.origin,
      size: this.size,
      root: toBase64(this.writer.rootAt(this.size)),
      chain: this.chain.snapshot(),
      pep: snapshotOf(this.fold),
    };
    await saveStartSnapshot(this.logDir, snapshot, this.nodeKey);
    this.savedSize = this.size;
    return this.size;
  }

  /** Stops following the log. */
  stop(): void {
    this.writer.onDurable = null;
  }
}
