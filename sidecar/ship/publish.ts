// Publishes a log's growth as tlog-tiles objects, and reads entries back. Full tiles and bundles
// go to the locked bucket (write-once), partial ones to the staging bucket. Used by the shipper
// for writer logs and by the collector for the fleet log.
import { concat } from '../../kernel/crypto/bytes.js';
import { bundleKey, isPartial, tileKey } from '../../kernel/fleet/layout.js';
import { decodeEntryBundle, encodeEntryBundle, newTiles, tileHashes, TILE_WIDTH, type TileRef } from '../../kernel/fleet/tiles.js';
import type { MerkleTree } from '../../kernel/proofgraph/merkle.js';
import type { FleetBucket } from './object-store.js';

/**
 * Uploads the bundles and tiles new between `oldSize` and `tree.size`. `entry(i)` gives the bytes
 * of entry i for every i in the bundles touched (from the start of oldSize's edge bundle).
 * Bundles go first, then tiles bottom-up, so a reader that sees a tile finds its entries.
 */
export async function publishGrowth(bucket: FleetBucket, prefix: string, tree: Pick<MerkleTree, 'size' | 'subtreeRoot'>, oldSize: number, entry: (i: number) => Uint8Array): Promise<number> {
  const tiles = newTiles(oldSize, tree.size);
  let bytes = 0;
  const put = (key: string, body: Uint8Array, partial: boolean): Promise<unknown> => {
    bytes += body.length;
    return partial ? bucket.putStaged(key, body) : bucket.putImmutable(key, body);
  };
  for (const t of tiles.filter((x) => x.level === 0)) {
    const lo = t.index * TILE_WIDTH;
    const body = encodeEntryBundle(Array.from({ length: t.width }, (_, k) => entry(lo + k)));
    await put(bundleKey(prefix, t), body, isPartial(t));
  }
  for (const t of tiles) await put(tileKey(prefix, t), concat(...tileHashes(tree, t)), isPartial(t));
  return bytes;
}

export class ReadBackError extends Error {
  constructor(
    readonly code: 'ERR_READBACK_MISSING' | 'ERR_READBACK_MALFORMED',
    message: string,
  ) {
    super(message);
  }
}

/** The bundle holding entries of tile `index` as published for a log of `size`. */
function bundleAt(index: number, size: number): TileRef {
  return { level: 0, index, width: Math.min(TILE_WIDTH, size - index * TILE_WIDTH) };
}

/** Reads entries [from, size) back from the buckets, as a log of `size` publishes them. */
export async function readEntries(bucket: FleetBucket, prefix: string, from: number, size: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let index = Math.floor(from / TILE_WIDTH); index * TILE_WIDTH < size; index++) {
    const t = bundleAt(index, size);
    const key = bundleKey(prefix, t);
    const body = isPartial(t) ? await bucket.getStaged(key) : await bucket.get(key);
    if (!body) throw new ReadBackError('ERR_READBACK_MISSING', `entry bundle ${key} is missing`);
    let entries: Uint8Array[];
    try {
      entries = decodeEntryBundle(body, t.width);
    } catch (e) {
      throw new ReadBackError('ERR_READBACK_MALFORMED', `entry bundle ${key}: ${(e as Error).message}`);
    }
    const lo = index * TILE_WIDTH;
    for (let k = Math.max(0, from - lo); k < entries.length; k++) out.push(entries[k]!);
  }
  return out;
}
