// Object keys of the fleet bucket (docs/fleet.md §Bucket layout). Two buckets: the locked bucket
// (Object Lock, versioned) holds only objects whose key fixes their content and that are written
// once: full tiles, full entry bundles, fleet checkpoints by size, evidence by digest. The staging
// bucket holds what changes: partial tiles and bundles at a log's right edge, and the tlog-tiles
// `checkpoint` pointer. So Object Lock never blocks the garbage collection of partial tiles.
import { toHex, utf8 } from '../crypto/bytes.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { entryBundlePath, tilePath, TILE_WIDTH, type TileRef } from './tiles.js';

export const FLEET_PREFIX = 'v1/fleet/';

/** Prefix of one writer log: `v1/w/<hex sha256(origin)>/` (origins hold characters keys should not). */
export function writerPrefix(suite: CryptoSuite, origin: string): string {
  return `v1/w/${toHex(suite.sha256(utf8(origin)))}/`;
}

export function isPartial(t: TileRef): boolean {
  return t.width < TILE_WIDTH;
}

export function tileKey(prefix: string, t: TileRef): string {
  return prefix + tilePath(t.level, t.index, t.width);
}

export function bundleKey(prefix: string, t: TileRef): string {
  return prefix + entryBundlePath(t.index, t.width);
}

/** Fleet checkpoints are immutable objects named by size (20 digits, so a listing sorts by size). */
export function fleetCheckpointKey(size: number): string {
  return `${FLEET_PREFIX}checkpoints/${String(size).padStart(20, '0')}`;
}

export function parseFleetCheckpointKey(key: string): number | null {
  const m = /^v1\/fleet\/checkpoints\/(\d{20})$/.exec(key);
  return m ? Number(m[1]) : null;
}

/** Signed equivocation evidence, named by the SHA-256 of its bytes. */
export function evidenceKey(digestHex: string): string {
  return `${FLEET_PREFIX}evidence/${digestHex}.json`;
}
