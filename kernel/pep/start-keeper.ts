// Keeps the start-up snapshot current: a second fold (the writer's chain and the PEP state) that
// follows the log, folding each entry as it becomes durable (never holding entries until a save),
// written out on demand (the sidecar does it after
// each periodic checkpoint and at a clean stop). It folds recorded entries only, never the live
// PEP state, so the snapshot is exactly what a full rebuild of the same prefix gives.
import type { SigningKey } from '../crypto/signing-key.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { decodeNode, parseOwnEntry, type FoldedNode, type HashRef } from '../contracts/node.js';
import { ChainFold } from '../proofgraph/chain-state.js';
import type { ProofGraphWriter } from '../proofgraph/graph-writer.js';
import { saveStartSnapshot, START_SNAPSHOT_FORMAT, type StartSnapshot } from '../proofgraph/start-snapshot.js';
import { readLog } from '../proofgraph/store/index.js';
import type { Pep } from './pep.js';
import type { PepFold } from './rebuild.js';
import { snapshotOf, stateFromSnapshot, type PepSnapshot } from './snapshot.js';

export class StartSnapshotKeeper {
  /** Durable entries this run wrote, not folded yet: parsed back, not decoded (the writer checked them). */
  private readonly waiting = new Map<number, { entry: Uint8Array; entryHash: HashRef }>();
  private savedSize = -1;
  /** Set once the start's catch-up read is folded: from then on entries are folded as they arrive. */
  private following = false;
  private broken: Error | null = null;

  private constructor(
    private readonly writer: ProofGraphWriter,
    private readonly logDir: string,
    private readonly nodeKey: SigningKey,
    private readonly chain: ChainFold,
    private readonly fold: PepFold,
    private size: number,
  ) {}

  /**
   * Follows the log from now. It starts from the folds the start already made (the writer's chain
   * at open, the PEP's state as restored, each at its own log size) and catches both up from the
   * log, so a start decodes no entry twice.
   */
  static async follow(o: { writer: ProofGraphWriter; logDir: string; nodeKey: SigningKey; suite: CryptoSuite; pep: Pep }): Promise<StartSnapshotKeeper> {
    const base = o.writer.resumedChain;
    const r = o.pep.rebuilt;
    if (r.snapshot === undefined) throw new Error('the PEP was not restored by a fold (no snapshot of it)');
    const pep = { size: r.nodes, snapshot: r.snapshot as PepSnapshot };
    if (pep.size < base.size) throw new Error(`the PEP was restored at log size ${pep.size}, before the writer's chain (${base.size})`);
    const chain = ChainFold.from(base.chain, o.suite, o.writer.parentWindow);
    const fold = stateFromSnapshot(pep.snapshot, o.suite);
    const k = new StartSnapshotKeeper(o.writer, o.logDir, o.nodeKey, chain, fold, pep.size);
    // Listen before reading, so an entry that becomes durable meanwhile is not missed.
    o.writer.onDurable = (index, entry, entryHash) => {
      if (index < k.size || k.broken) return;
      try {
        // In order (the usual case): folded now, so no entry's bytes are held until the next save.
        if (k.following && index === k.size) {
          k.apply(parseOwnEntry(entry, entryHash));
          k.drain();
        } else k.waiting.set(index, { entry, entryHash });
      } catch (e) {
        // Never on the decision path: a fold that fails stops the keeper (save() reports it), not the append.
        k.broken = e instanceof Error ? e : new Error(String(e));
        k.waiting.clear();
      }
    };
    // Only from the chain's resume point: both folds already hold everything before it.
    const log = await readLog(o.logDir, { from: base.size });
    for (const e of log.entries.slice(0, pep.size - log.first)) chain.apply(e);
    for (const e of log.entries.slice(k.size - log.first)) k.apply(decodeNode(o.suite, e));
    k.following = true;
    k.drain();
    return k;
  }

  /** Durable entries not folded yet (they arrived out of order, or while the start caught up). */
  get pendingEntries(): number {
    return this.waiting.size;
  }

  /** The log size the folds have reached. */
  get foldedSize(): number {
    return this.size;
  }

  private drain(): void {
    for (let e = this.waiting.get(this.size); e !== undefined; e = this.waiting.get(this.size)) this.apply(parseOwnEntry(e.entry, e.entryHash));
    for (const i of this.waiting.keys()) if (i < this.size) this.waiting.delete(i);
  }

  /** One decode (or parse) per entry feeds both folds. */
  private apply(node: FoldedNode): void {
    this.chain.applyNode(node);
    this.fold.applyNode(node);
    this.waiting.delete(this.size);
    this.size++;
  }

  /**
   * Folds what became durable and writes the snapshot when the log grew by at least `minGrowth`
   * entries since the last one (writing costs O(state), so not at every beat) or when forced (a
   * clean stop). Returns the size written, or null.
   */
  async save(o: { force?: boolean; minGrowth?: number } = {}): Promise<number | null> {
    if (this.broken) throw new Error(`the start-up snapshot keeper stopped following the log at size ${this.size}: ${this.broken.message}`);
    this.drain();
    if (this.size === 0 || this.size === this.savedSize) return null;
    if (!o.force && this.size - Math.max(0, this.savedSize) < (o.minGrowth ?? 1000)) return null;
    const { root, ...tree } = this.writer.treeAt(this.size);
    const snapshot: StartSnapshot = {
      format: START_SNAPSHOT_FORMAT,
      origin: this.writer.origin,
      size: this.size,
      root,
      chain: this.chain.snapshot(),
      pep: snapshotOf(this.fold),
      tree,
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
