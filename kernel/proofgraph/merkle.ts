// RFC 6962 Merkle trees (as in RFC 9162 §2.1): leaf = H(0x00 || entry), node = H(0x01 || l || r).
// Proof generation and verification for inclusion, consistency and contiguous ranges.
// Portable: hashing comes from the CryptoSuite.
import { concat, equalBytes } from '../crypto/bytes.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { Frontier, frontierHeights } from './frontier.js';

export type Hash = Uint8Array;

export class MerkleError extends Error {
  readonly code = 'ERR_MERKLE_PROOF';
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

// Scratch buffers for the prefixed inputs: hashing is synchronous, so one buffer serves every
// call, and a node's leaf hash allocates no copy of its entry (a leaf and two node hashes per
// appended node, on the hot path).
const leafScratch = new Uint8Array(1 + 65535);
const nodeScratch = new Uint8Array(1 + 64);
nodeScratch[0] = 1;

export function leafHash(suite: CryptoSuite, entry: Uint8Array): Hash {
  if (entry.length >= leafScratch.length) return suite.sha256(concat(LEAF, entry));
  leafScratch.set(entry, 1);
  return suite.sha256(leafScratch.subarray(0, 1 + entry.length));
}

export function nodeHash(suite: CryptoSuite, left: Hash, right: Hash): Hash {
  if (left.length !== 32 || right.length !== 32) return suite.sha256(concat(NODE, left, right));
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 33);
  return suite.sha256(nodeScratch);
}

export function emptyRoot(suite: CryptoSuite): Hash {
  return suite.sha256(new Uint8Array(0));
}

/** Largest power of two strictly less than n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkHash(h: Uint8Array, what: string): void {
  if (h.length !== 32) throw new MerkleError(`${what} is ${h.length} bytes, not 32`);
}

/**
 * Incremental root computation over a growing list of leaf hashes. Keeps the RFC 6962 "frontier"
 * (one hash per set bit of the size) so appends are O(log n) and any root is computable.
 */
export class MerkleTree {
  private readonly leaves: Hash[] = [];
  // Roots of the perfect subtrees that make up the current size, largest first.
  private readonly frontier: Frontier;
  constructor(private readonly suite: CryptoSuite) {
    this.frontier = Frontier.empty(suite);
  }

  get size(): number {
    return this.leaves.length;
  }

  appendLeafHash(h: Hash): void {
    checkHash(h, 'leaf hash');
    this.leaves.push(h);
    this.frontier.push(h);
  }

  appendEntry(entry: Uint8Array): Hash {
    const h = leafHash(this.suite, entry);
    this.appendLeafHash(h);
    return h;
  }

  leaf(i: number): Hash {
    const h = this.leaves[i];
    if (!h) throw new MerkleError(`no leaf ${i} in a tree of size ${this.leaves.length}`);
    return h;
  }

  /** MTH(D[lo:hi]). */
  subtreeRoot(lo: number, hi: number): Hash {
    if (hi - lo === 0) return emptyRoot(this.suite);
    if (hi - lo === 1) return this.leaf(lo);
    // Perfect subtrees aligned on their size are hashed bottom-up without recursion.
    const n = hi - lo;
    if ((n & (n - 1)) === 0 && lo % n === 0) {
      let level = this.leaves.slice(lo, hi);
      while (level.length > 1) {
        const next: Hash[] = [];
        for (let i = 0; i < level.length; i += 2) next.push(nodeHash(this.suite, level[i]!, level[i + 1]!));
        level = next;
      }
      return level[0]!;
    }
    const k = splitPoint(n);
    return nodeHash(this.suite, this.subtreeRoot(lo, lo + k), this.subtreeRoot(lo + k, hi));
  }

  root(size = this.leaves.length): Hash {
    if (size === this.leaves.length && size > 0) return this.frontier.root(); // O(log n)
    if (size > this.leaves.length) throw new MerkleError(`tree has ${this.leaves.length} leaves, asked for root of ${size}`);
    return this.subtreeRoot(0, size);
  }

  /** The frontier of the tree of `size` (a start-up snapshot carries it). */
  frontierAt(size = this.leaves.length): Frontier {
    if (size === this.leaves.length) return this.frontier.copy();
    if (size < 0 || size > this.leaves.length) throw new MerkleError(`tree has ${this.leaves.length} leaves, asked for the frontier of ${size}`);
    const hashes: Hash[] = [];
    let lo = 0;
    for (const h of frontierHeights(size)) {
      hashes.push(this.subtreeRoot(lo, lo + 2 ** h));
      lo += 2 ** h;
    }
    return Frontier.of(this.suite, size, hashes);
  }

  /** RFC 6962 §2.1.1 audit path for leaf `index` in the tree of `size`. */
  inclusionProof(index: number, size = this.leaves.length): Hash[] {
    if (index < 0 || index >= size || size > this.leaves.length) throw new MerkleError(`index ${index} not in tree of size ${size}`);
    const path: Hash[] = [];
    const walk = (m: number, lo: number, hi: number): void => {
      const n = hi - lo;
      if (n === 1) return;
      const k = splitPoint(n);
      if (m < k) {
        walk(m, lo, lo + k);
        path.push(this.subtreeRoot(lo + k, hi));
      } else {
        walk(m - k, lo + k, hi);
        path.push(this.subtreeRoot(lo, lo + k));
      }
    };
    walk(index, 0, size);
    return path;
  }

  /** RFC 6962 §2.1.2 consistency proof between sizes m <= n. */
  consistencyProof(m: number, n = this.leaves.length): Hash[] {
    if (m < 0 || m > n || n > this.leaves.length) throw new MerkleError(`bad consistency range ${m}..${n}`);
    return consistencyPath(m, n, (lo, hi) => this.subtreeRoot(lo, hi));
  }

  /**
   * Hashes that, with the leaves [from, to), reconstruct the root of `size`: the roots of the
   * maximal subtrees lying wholly outside the range, in left-to-right order. Lets a pack carry a
   * window of a log and still be checked against the log's signed checkpoint.
   */
  rangeProof(from: number, to: number, size = this.leaves.length): Hash[] {
    if (from < 0 || from > to || to > size || size > this.leaves.length) throw new MerkleError(`bad range ${from}..${to} of ${size}`);
    const out: Hash[] = [];
    const walk = (lo: number, hi: number): void => {
      if (hi <= from || lo >= to) {
        out.push(this.subtreeRoot(lo, hi));
        return;
      }
      if (hi - lo === 1) return;
      const k = splitPoint(hi - lo);
      walk(lo, lo + k);
      walk(lo + k, hi);
    };
    if (size > 0 && from < to) walk(0, size);
    else if (size > 0) out.push(this.subtreeRoot(0, size));
    return out;
  }
}

/** RFC 6962 §2.1.2 consistency proof between sizes m <= n, from a tree's MTH(D[lo:hi]). */
export function consistencyPath(m: number, n: number, subtreeRoot: (lo: number, hi: number) => Hash): Hash[] {
  if (m === 0 || m === n) return [];
  const proof: Hash[] = [];
  const subproof = (mm: number, lo: number, hi: number, complete: boolean): void => {
    const nn = hi - lo;
    if (mm === nn) {
      if (!complete) proof.push(subtreeRoot(lo, hi));
      return;
    }
    const k = splitPoint(nn);
    if (mm <= k) {
      subproof(mm, lo, lo + k, complete);
      proof.push(subtreeRoot(lo + k, hi));
    } else {
      subproof(mm - k, lo + k, hi, false);
      proof.push(subtreeRoot(lo, lo + k));
    }
  };
  subproof(m, 0, n, true);
  return proof;
}

/** RFC 9162 §2.1.3.2: verify an inclusion proof. */
export function verifyInclusion(suite: CryptoSuite, index: number, size: number, leaf: Hash, proof: readonly Hash[], root: Hash): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (leaf.length !== 32 || root.length !== 32 || proof.some((p) => p.length !== 32)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(suite, p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(suite, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}

/** RFC 9162 §2.1.4.2: verify a consistency proof between (size1, root1) and (size2, root2). */
export function verifyConsistency(suite: CryptoSuite, size1: number, size2: number, root1: Hash, root2: Hash, proof: readonly Hash[]): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1) return false;
  // Consistency from the empty tree proves nothing; callers compare empty roots themselves.
  if (size1 === 0) return false;
  if (size1 === size2) return proof.length === 0 && equalBytes(root1, root2);
  if (root1.length !== 32 || root2.length !== 32 || proof.some((p) => p.length !== 32)) return false;
  if (proof.length === 0) return false;
  let path = [...proof];
  // If size1 is a power of two, its root is the first node of the path.
  if ((size1 & (size1 - 1)) === 0) path = [root1, ...path];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(suite, c, fr);
      sr = nodeHash(suite, c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(suite, sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(fr, root1) && equalBytes(sr, root2);
}

/**
 * Recomputes the root of a tree of `size` from the leaf hashes of [from, from + leaves.length)
 * and a range proof. Throws if the proof has too few or too many hashes.
 */
export function rootFromRange(suite: CryptoSuite, size: number, from: number, leaves: readonly Hash[], proof: readonly Hash[]): Hash {
  const to = from + leaves.length;
  if (from < 0 || to > size) throw new MerkleError(`range ${from}..${to} outside tree of size ${size}`);
  if (size === 0) {
    if (proof.length !== 0) throw new MerkleError('range proof for an empty tree must be empty');
    return emptyRoot(suite);
  }
  let next = 0;
  const take = (): Hash => {
    const h = proof[next++];
    if (!h) throw new MerkleError('range proof is too short');
    checkHash(h, 'range proof hash');
    return h;
  };
  const walk = (lo: number, hi: number): Hash => {
    if (hi <= from || lo >= to) return take();
    if (hi - lo === 1) return leaves[lo - from]!;
    const k = splitPoint(hi - lo);
    const l = walk(lo, lo + k);
    return nodeHash(suite, l, walk(lo + k, hi));
  };
  const root = from < to ? walk(0, size) : take();
  if (next !== proof.length) throw new MerkleError('range proof has trailing hashes');
  return root;
}
