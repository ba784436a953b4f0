// A MerkleTree that keeps every perfect, aligned subtree hash once the leaves are in. MerkleTree
// recomputes subtrees on demand, which makes each consistency or range proof O(n); an export with
// one proof per checkpoint would then be O(n * checkpoints). With the levels cached (about 2n
// hashes, built in one pass) every proof is O(log^2 n). Portable.
import { MerkleTree, nodeHash, type Hash } from '../proofgraph/merkle.js';
import type { CryptoSuite } from '../crypto/suite.js';

export class CachedMerkleTree extends MerkleTree {
  /** levels[h] holds the hashes of the subtrees [i*2^h, (i+1)*2^h), 32 bytes each, back to back. */
  private levels: Uint8Array[] | null = null;

  constructor(private readonly hashSuite: CryptoSuite) {
    super(hashSuite);
  }

  override appendLeafHash(h: Hash): void {
    this.levels = null;
    super.appendLeafHash(h);
  }

  private build(): Uint8Array[] {
    const n = this.size;
    const level0 = new Uint8Array(n * 32);
    for (let i = 0; i < n; i++) level0.set(this.leaf(i), i * 32);
    const levels = [level0];
    for (let count = n >>> 1; count >= 1; count >>>= 1) {
      const below = levels[levels.length - 1]!;
      const next = new Uint8Array(count * 32);
      for (let i = 0; i < count; i++) {
        next.set(nodeHash(this.hashSuite, below.subarray(64 * i, 64 * i + 32), below.subarray(64 * i + 32, 64 * i + 64)), 32 * i);
      }
      levels.push(next);
    }
    return levels;
  }

  override subtreeRoot(lo: number, hi: number): Hash {
    const n = hi - lo;
    // Bitwise tests are exact below 2^30; larger trees fall back to the uncached path.
    if (n >= 1 && n < 1 << 30 && (n & (n - 1)) === 0 && lo % n === 0 && hi <= this.size) {
      this.levels ??= this.build();
      const h = 31 - Math.clz32(n);
      const i = lo / n;
      return this.levels[h]!.subarray(32 * i, 32 * i + 32);
    }
    return super.subtreeRoot(lo, hi);
  }
}
