// The RFC 6962 frontier of a log of size n: the roots of the perfect subtrees that make up [0, n),
// largest first, one per set bit of n. It is all a writer needs to keep appending and to compute
// the root, so a start-up snapshot can carry it instead of the writer re-reading every leaf.
import { fromBase64, toBase64 } from '../crypto/bytes.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { emptyRoot, MerkleError, nodeHash, type Hash } from './merkle.js';

/** Heights of the frontier's subtrees for a log of `size` leaves, largest first. */
export function frontierHeights(size: number): number[] {
  const out: number[] = [];
  for (let h = 52; h >= 0; h--) if (Math.floor(size / 2 ** h) % 2 === 1) out.push(h);
  return out;
}

export class Frontier {
  private constructor(
    private readonly suite: CryptoSuite,
    private nodes: Array<{ height: number; hash: Hash }>,
    private count: number,
  ) {}

  static empty(suite: CryptoSuite): Frontier {
    return new Frontier(suite, [], 0);
  }

  /** From the subtree roots of a log of `size` (as `hashes()` gives them); refuses a wrong shape. */
  static of(suite: CryptoSuite, size: number, hashes: readonly Hash[]): Frontier {
    const heights = frontierHeights(size);
    if (!Number.isSafeInteger(size) || size < 0 || heights.length !== hashes.length) {
      throw new MerkleError(`a frontier of size ${size} has ${heights.length} subtree roots, not ${hashes.length}`);
    }
    for (const h of hashes) if (h.length !== 32) throw new MerkleError(`a frontier hash is ${h.length} bytes, not 32`);
    return new Frontier(suite, heights.map((height, i) => ({ height, hash: hashes[i]! })), size);
  }

  static fromBase64(suite: CryptoSuite, size: number, hashes: readonly string[]): Frontier {
    return Frontier.of(suite, size, hashes.map((h) => fromBase64(h)));
  }

  get size(): number {
    return this.count;
  }

  push(leaf: Hash): void {
    let node = { height: 0, hash: leaf };
    for (let top = this.nodes.at(-1); top && top.height === node.height; top = this.nodes.at(-1)) {
      this.nodes.pop();
      node = { height: node.height + 1, hash: nodeHash(this.suite, top.hash, node.hash) };
    }
    this.nodes.push(node);
    this.count++;
  }

  root(): Hash {
    if (this.nodes.length === 0) return emptyRoot(this.suite);
    let r = this.nodes.at(-1)!.hash;
    for (let i = this.nodes.length - 2; i >= 0; i--) r = nodeHash(this.suite, this.nodes[i]!.hash, r);
    return r;
  }

  hashes(): Hash[] {
    return this.nodes.map((n) => n.hash);
  }

  toBase64(): string[] {
    return this.nodes.map((n) => toBase64(n.hash));
  }

  copy(): Frontier {
    return new Frontier(this.suite, [...this.nodes], this.count);
  }
}
