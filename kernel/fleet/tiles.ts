// C2SP tlog-tiles layout (c2sp.org/tlog-tiles): a log published as static objects. Tiles hold 256
// hashes; a level-L tile's hashes are the roots of 256^L-leaf subtrees (RFC 6962 hashing, the same
// tree as kernel/proofgraph/merkle.ts). Entry bundles hold the entries of one level-0 tile as
// big-endian u16 length-prefixed bytes. The right edge of a log is made of partial tiles (.p/W).
// Pure and portable: hashing comes from the CryptoSuite.
import type { CryptoSuite } from '../crypto/suite.js';
import { MerkleError, nodeHash, type Hash, type MerkleTree } from '../proofgraph/merkle.js';

export const TILE_WIDTH = 256;
/** Entries are < 64 KiB: the u16 length prefix of a bundle. */
export const MAX_ENTRY_BYTES = 65535;

export class TileError extends Error {
  constructor(
    readonly code: 'ERR_TILE_PATH' | 'ERR_TILE_BUNDLE' | 'ERR_TILE_WIDTH',
    message: string,
  ) {
    super(message);
  }
}

/** N as path elements of 3 digits, all but the last prefixed with "x" (1234067 → x001/x234/067). */
export function encodeTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new TileError('ERR_TILE_PATH', `tile index ${n} is not an integer in 0..2^53-1`);
  const parts: string[] = [];
  let v = n;
  do {
    parts.unshift(String(v % 1000).padStart(3, '0'));
    v = Math.floor(v / 1000);
  } while (v > 0);
  return parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join('/');
}

function widthSuffix(width: number): string {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) throw new TileError('ERR_TILE_WIDTH', `tile width ${width} is not in 1..256`);
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** `tile/<L>/<N>[.p/<W>]`, relative to the log prefix. */
export function tilePath(level: number, index: number, width = TILE_WIDTH): string {
  if (!Number.isInteger(level) || level < 0 || level > 63) throw new TileError('ERR_TILE_PATH', `tile level ${level} is not in 0..63`);
  return `tile/${level}/${encodeTileIndex(index)}${widthSuffix(width)}`;
}

/** `tile/entries/<N>[.p/<W>]`, relative to the log prefix. */
export function entryBundlePath(index: number, width = TILE_WIDTH): string {
  return `tile/entries/${encodeTileIndex(index)}${widthSuffix(width)}`;
}

export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length < 1 || entries.length > TILE_WIDTH) throw new TileError('ERR_TILE_BUNDLE', `a bundle holds 1..256 entries, not ${entries.length}`);
  let n = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_BYTES) throw new TileError('ERR_TILE_BUNDLE', `entry of ${e.length} bytes exceeds ${MAX_ENTRY_BYTES}`);
    n += 2 + e.length;
  }
  // One buffer, written in place (a two-byte array per entry plus a concat was most of the cost).
  const out = new Uint8Array(n);
  let at = 0;
  for (const e of entries) {
    out[at] = e.length >> 8;
    out[at + 1] = e.length & 0xff;
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

/** Splits a bundle; `width` (when known from the path) must match the number of entries exactly. */
export function decodeEntryBundle(bytes: Uint8Array, width?: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) throw new TileError('ERR_TILE_BUNDLE', `bundle is truncated inside the length prefix of entry ${out.length}`);
    const len = (bytes[at]! << 8) | bytes[at + 1]!;
    if (at + 2 + len > bytes.length) throw new TileError('ERR_TILE_BUNDLE', `bundle is truncated inside entry ${out.length} (${len} bytes announced)`);
    out.push(bytes.slice(at + 2, at + 2 + len));
    at += 2 + len;
    if (out.length > TILE_WIDTH) throw new TileError('ERR_TILE_BUNDLE', 'bundle holds more than 256 entries');
  }
  if (width !== undefined && out.length !== width) throw new TileError('ERR_TILE_BUNDLE', `bundle holds ${out.length} entries, its path says ${width}`);
  return out;
}

export interface TileRef {
  level: number;
  index: number;
  /** Number of hashes (1..256); 256 is a full tile. */
  width: number;
}

/** The hashes a tile holds: at level L, position i covers leaves [(256·N+i)·256^L, +256^L). */
export function tileHashes(tree: Pick<MerkleTree, 'subtreeRoot'>, t: TileRef): Hash[] {
  const span = TILE_WIDTH ** t.level;
  const out: Hash[] = [];
  for (let i = 0; i < t.width; i++) {
    const lo = (t.index * TILE_WIDTH + i) * span;
    out.push(tree.subtreeRoot(lo, lo + span));
  }
  return out;
}

/**
 * Tiles (every level) whose content is new or changed when a log grows from `oldSize` to `newSize`:
 * full tiles completed in that step and the right-edge partial tiles of `newSize`.
 */
export function newTiles(oldSize: number, newSize: number): TileRef[] {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || newSize < oldSize) {
    throw new MerkleError(`bad tile range ${oldSize}..${newSize}`);
  }
  const out: TileRef[] = [];
  for (let level = 0; ; level++) {
    const span = TILE_WIDTH ** level;
    const oldHashes = Math.floor(oldSize / span);
    const newHashes = Math.floor(newSize / span);
    if (newHashes === 0) break;
    if (newHashes === oldHashes) continue;
    const first = Math.floor(oldHashes / TILE_WIDTH);
    const lastFull = Math.floor(newHashes / TILE_WIDTH);
    for (let n = first; n < lastFull; n++) out.push({ level, index: n, width: TILE_WIDTH });
    if (newHashes % TILE_WIDTH > 0) out.push({ level, index: lastFull, width: newHashes % TILE_WIDTH });
  }
  return out;
}

/** Entry bundles new or changed when a log grows from `oldSize` to `newSize` (level-0 layout). */
export function newBundles(oldSize: number, newSize: number): TileRef[] {
  return newTiles(oldSize, newSize).filter((t) => t.level === 0);
}

/**
 * Root of a tree of `size` from its level-0 leaf hashes, recomputed with no tree object: used by
 * readers that have fetched a range of bundles and the right-edge hashes of the previous size.
 */
export function rootFromLeaves(suite: CryptoSuite, leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return suite.sha256(new Uint8Array(0));
  let level = [...leaves];
  // RFC 6962: split at the largest power of two below n; equivalent to promoting a lone right node.
  while (level.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(suite, level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level.at(-1)!);
    level = next;
  }
  return level[0]!;
}
