// A Merkle tree of a log whose entries below a base were freed (docs/spec/store.md §10). It keeps
// the leaves from the base on plus the **tile edges** at the base: for each tlog-tiles level L, the
// complete level-L hashes of the (partial) level-L tile that holds position ⌊base/256^L⌋. That is
// what every later size needs: the frontier of any size ≥ base, roots, consistency proofs from
// any size ≥ base, and the tiles a log publishes as it grows past the base. Base 0: a whole tree.
import { fromBase64, toBase64 } from '../crypto/bytes.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { TILE_WIDTH } from '../fleet/tiles.js';
import { Frontier, frontierHeights } from './frontier.js';
import { consistencyPath, emptyRoot, leafHash, MerkleError, nodeHash, splitPoint, type Hash } from './merkle.js';

/** Per level L: the position of the first hash a tile edge at `size` holds, and how many. */
export function tileEdgeShape(size: number): Array<{ start: number; count: number }> {
  const out: Array<{ start: number; count: number }> = [];
  for (let span = 1; Math.floor(size / span) > 0; span *= TILE_WIDTH) {
    const q = Math.floor(size / span);
    const start = Math.floor(q / TILE_WIDTH) * TILE_WIDTH;
    out.push({ start, count: q - start });
  }
  return out;
}

export class BasedTree {
  private readonly leaves: Hash[] = [];
  private readonly frontier: Frontier;

  constructor(
    private readonly suite: CryptoSuite,
    readonly base: number,
    /** edges[L]: the tile edge at `base` on level L (tileEdgeShape). */
    private readonly edges: readonly (readonly Hash[])[],
  ) {
    const shape = tileEdgeShape(base);
    if (!Number.isSafeInteger(base) || base < 0 || edges.length !== shape.length || shape.some((s, l) => edges[l]!.length !== s.count) || edges.some((e) => e.some((h) => h.length !== 32))) {
      throw new MerkleError(`tile edges of base ${base} must have ${shape.length} levels of ${shape.map((s) => s.count).join(', ')} hashes of 32 bytes`);
    }
    let lo = 0;
    const roots: Hash[] = [];
    for (const h of frontierHeights(base)) {
      roots.push(this.subtreeRoot(lo, lo + 2 ** h));
      lo += 2 ** h;
    }
    this.frontier = Frontier.of(suite, base, roots);
  }

  static fromBase64(suite: CryptoSuite, base: number, edges: readonly (readonly string[])[]): BasedTree {
    return new BasedTree(suite, base, edges.map((l) => l.map((h) => fromBase64(h))));
  }

  get size(): number {
    return this.base + this.leaves.length;
  }

  appendLeafHash(h: Hash): void {
    if (h.length !== 32) throw new MerkleError(`leaf hash is ${h.length} bytes, not 32`);
    this.leaves.push(h);
    this.frontier.push(h);
  }

  appendEntry(entry: Uint8Array): Hash {
    const h = leafHash(this.suite, entry);
    this.appendLeafHash(h);
    return h;
  }

  /** A complete hash below the base: the root of 2^r consecutive level-L edge hashes. */
  private belowBase(lo: number, hi: number): Hash {
    const height = Math.log2(hi - lo);
    const level = Math.floor(height / 8);
    const span = TILE_WIDTH ** level;
    const first = lo / span;
    const count = 2 ** (height - level * 8);
    const edge = this.edges[level];
    const start = tileEdgeShape(this.base)[level]?.start ?? 0;
    if (!edge || first < start || first - start + count > edge.length) {
      throw new MerkleError(`the hash of entries [${lo}, ${hi}) is not kept: they lie below the base ${this.base}, of which only the tile edges remain`);
    }
    let row = edge.slice(first - start, first - start + count);
    while (row.length > 1) {
      const next: Hash[] = [];
      for (let i = 0; i < row.length; i += 2) next.push(nodeHash(this.suite, row[i]!, row[i + 1]!));
      row = next;
    }
    return row[0]!;
  }

  /** MTH(D[lo:hi]) for ranges of the tree of every size ≥ base. */
  subtreeRoot(lo: number, hi: number): Hash {
    const n = hi - lo;
    if (n < 0 || hi > this.size) throw new MerkleError(`range ${lo}..${hi} outside a tree of ${this.size} leaves`);
    if (n === 0) return emptyRoot(this.suite);
    const perfect = (n & (n - 1)) === 0 && lo % n === 0;
    if (perfect && hi <= this.base) return this.belowBase(lo, hi);
    if (n === 1) return this.leaves[lo - this.base]!;
    if (perfect && lo >= this.base) {
      let row = this.leaves.slice(lo - this.base, hi - this.base);
      while (row.length > 1) {
        const next: Hash[] = [];
        for (let i = 0; i < row.length; i += 2) next.push(nodeHash(this.suite, row[i]!, row[i + 1]!));
        row = next;
      }
      return row[0]!;
    }
    const k = perfect ? n / 2 : splitPoint(n);
    return nodeHash(this.suite, this.subtreeRoot(lo, lo + k), this.subtreeRoot(lo + k, hi));
  }

  root(size = this.size): Hash {
    if (size === this.size) return this.frontier.root();
    if (size < this.base || size > this.size) throw new MerkleError(`a tree based at ${this.base} of ${this.size} leaves has no root of size ${size}`);
    return this.subtreeRoot(0, size);
  }

  /** Leaf hash of entry `index` (from the base on, or in the level-0 tile edge). */
  leaf(index: number): Hash {
    return this.subtreeRoot(index, index + 1);
  }

  frontierAt(size = this.size): Frontier {
    if (size === this.size) return this.frontier.copy();
    if (size < this.base || size > this.size) throw new MerkleError(`a tree based at ${this.base} of ${this.size} leaves has no frontier of size ${size}`);
    let lo = 0;
    const hashes: Hash[] = [];
    for (const h of frontierHeights(size)) {
      hashes.push(this.subtreeRoot(lo, lo + 2 ** h));
      lo += 2 ** h;
    }
    return Frontier.of(this.suite, size, hashes);
  }

  /** RFC 6962 consistency proof between sizes base ≤ m ≤ n. */
  consistencyProof(m: number, n = this.size): Hash[] {
    if (m < this.base || m > n || n > this.size) throw new MerkleError(`bad consistency range ${m}..${n} for a tree based at ${this.base}`);
    return consistencyPath(m, n, (lo, hi) => this.subtreeRoot(lo, hi));
  }

  /** The tile edges at `size` (base ≤ size ≤ this.size): what a base record at `size` keeps. */
  tileEdges(size: number): Hash[][] {
    if (size < this.base || size > this.size) throw new MerkleError(`a tree based at ${this.base} of ${this.size} leaves has no tile edges at ${size}`);
    return tileEdgeShape(size).map(({ start, count }, level) => {
      const span = TILE_WIDTH ** level;
      return Array.from({ length: count }, (_, i) => this.subtreeRoot((start + i) * span, (start + i + 1) * span));
    });
  }

  /** The same tree based at `base` (≥ this base): it forgets the leaves before it. */
  rebased(base: number): BasedTree {
    const t = new BasedTree(this.suite, base, this.tileEdges(base));
    for (let i = base; i < this.size; i++) t.appendLeafHash(this.leaves[i - this.base]!);
    return t;
  }

  static edgesToBase64(edges: readonly (readonly Hash[])[]): string[][] {
    return edges.map((l) => l.map(toBase64));
  }
}
