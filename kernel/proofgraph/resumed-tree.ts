// The writer's tree when a start resumed from a start-up snapshot: the frontier at the snapshot's
// size plus the leaves appended since. It answers what a writer asks (append, the root and the
// frontier at any size from the snapshot's on) without the leaves before it, which stay on disk.
import type { CryptoSuite } from '../crypto/suite.js';
import { Frontier } from './frontier.js';
import { MerkleError, type Hash } from './merkle.js';

/** What LogWriter needs of its tree; MerkleTree (every leaf) and ResumedTree (a frontier) both are. */
export interface LogTree {
  readonly size: number;
  appendLeafHash(h: Hash): void;
  root(size?: number): Hash;
  frontierAt(size?: number): Frontier;
  leaf(index: number): Hash;
}

export class ResumedTree implements LogTree {
  private readonly leaves: Hash[] = [];
  private readonly current: Frontier;

  constructor(
    private readonly base: Frontier,
    /** Leaf hash of entry base.size - 1 (what a snapshot at this size names as its last leaf). */
    readonly baseLastLeaf: Hash | null,
  ) {
    this.current = base.copy();
  }

  static of(suite: CryptoSuite, size: number, frontier: readonly Hash[], lastLeaf: Hash | null): ResumedTree {
    return new ResumedTree(Frontier.of(suite, size, frontier), lastLeaf);
  }

  get size(): number {
    return this.current.size;
  }

  /** The first size this tree can answer for. */
  get baseSize(): number {
    return this.base.size;
  }

  appendLeafHash(h: Hash): void {
    if (h.length !== 32) throw new MerkleError(`leaf hash is ${h.length} bytes, not 32`);
    this.leaves.push(h);
    this.current.push(h);
  }

  frontierAt(size = this.size): Frontier {
    if (size === this.size) return this.current.copy();
    if (size < this.base.size || size > this.size) throw new MerkleError(`a tree resumed at size ${this.base.size} of ${this.size} leaves has no frontier of size ${size}`);
    const f = this.base.copy();
    for (let i = 0; i < size - this.base.size; i++) f.push(this.leaves[i]!);
    return f;
  }

  root(size = this.size): Hash {
    return size === this.size ? this.current.root() : this.frontierAt(size).root();
  }

  /** Leaf hash of entry `index`, for indexes from base.size - 1 on. */
  leaf(index: number): Hash {
    if (index === this.base.size - 1 && this.baseLastLeaf) return this.baseLastLeaf;
    const h = this.leaves[index - this.base.size];
    if (!h) throw new MerkleError(`a tree resumed at size ${this.base.size} has no leaf ${index}`);
    return h;
  }
}
