// Retention inside the live log (HELM_SHIP_RETENTION=free-cosigned, docs/fleet.md). After a
// shipping round, whole sealed segments are deleted from the volume when everything in them is
//  - below the size the collector cosigned, with a cosignature that verifies against the collector
//    key (HELM_COLLECTOR_VKEY): the collector cosigns only after reading every entry back from the
//    bucket, so what is freed is in the bucket;
//  - below the last entry of the durable start-up snapshot (docs/spec/store.md §9): a restart
//    starts from the snapshot and reads only from its last entry on, so it never needs a freed one;
//  - below a tile boundary the cosigned size covers: a restarted shipper resumes publishing from a
//    tile boundary and never needs a freed entry for a bundle.
// Before deleting, log-base.json is written durably (docs/spec/store.md §10) with the tile edges at
// the new base, the cosigned checkpoint and the log key's certification (sent again in WRITER_OPEN).
import { readFile } from 'node:fs/promises';
import { equalBytes, fromBase64, fromUtf8 } from '../../kernel/crypto/bytes.js';
import type { VerifierKey } from '../../kernel/crypto/keys.js';
import { parseNote } from '../../kernel/crypto/note.js';
import { TILE_WIDTH } from '../../kernel/fleet/tiles.js';
import { BasedTree } from '../../kernel/proofgraph/based-tree.js';
import { parseCheckpointText } from '../../kernel/proofgraph/checkpoint.js';
import { snapshotPath, START_SNAPSHOT_FORMAT } from '../../kernel/proofgraph/start-snapshot.js';
import { listSegments } from '../../kernel/proofgraph/store/recovery.js';
import { deleteSegmentsBelow, LOG_BASE_FORMAT, readLogBase, writeLogBase } from '../../kernel/proofgraph/store/log-base.js';
import { verifyCosignature } from './cosignature.js';

/**
 * The size and root of the start-up snapshot on the volume, if it is of this log (the caller checks
 * the root against the log). Its signature is the start's to check: a start that refuses it fails
 * with ERR_STORE_FREED naming the cause, never with a silent gap.
 */
export async function readSnapshotSize(dir: string, origin: string): Promise<{ size: number; root: Uint8Array } | null> {
  try {
    const bytes = await readFile(snapshotPath(dir));
    const s = JSON.parse(fromUtf8(bytes.subarray(bytes.indexOf(0x0a) + 1))) as { format?: string; origin?: string; size?: number; root?: string };
    if (s.format !== START_SNAPSHOT_FORMAT || s.origin !== origin || !Number.isSafeInteger(s.size) || s.size! < 1 || typeof s.root !== 'string') return null;
    return { size: s.size!, root: fromBase64(s.root) };
  } catch {
    return null;
  }
}

export interface FreeResult {
  /** The new base, or null when nothing could be freed. */
  base: number | null;
  freedBytes: number;
}

/** One retention step for the live log `dir`. */
export async function freeCosignedSegments(o: {
  dir: string;
  origin: string;
  /** The shipper's tree (based at the current base, holding every entry up to the cosigned size). */
  tree: BasedTree;
  /** The checkpoint with the collector's cosignature lines. */
  cosignedNote: string;
  collectorKey: VerifierKey;
  /** The log key certification sent in WRITER_OPEN. */
  certification: unknown;
}): Promise<FreeResult> {
  const none = { base: null, freedBytes: 0 };
  // Checked again here: only a collector-key cosignature of this log's own root frees anything.
  verifyCosignature(o.cosignedNote, o.collectorKey);
  const cp = parseCheckpointText(parseNote(o.cosignedNote).text);
  if (cp.origin !== o.origin || cp.size > o.tree.size || !equalBytes(o.tree.root(cp.size), cp.root)) return none;
  if (o.certification === null || o.certification === undefined) return none;
  const snap = await readSnapshotSize(o.dir, o.origin);
  if (!snap) return none;
  const limit = Math.floor(Math.min(cp.size, snap.size - 1) / TILE_WIDTH) * TILE_WIDTH;
  const segs = await listSegments(o.dir);
  // The new base: the latest segment start at or below the limit (the last segment, the one being
  // appended, is never deleted: only segments before the base are).
  const base = segs.map((s) => s.firstIndex).filter((f) => f <= limit).at(-1) ?? 0;
  if (base <= o.tree.base) return none;
  // Only now the costlier checks: the snapshot is of this log, and the base only moves forward.
  if (snap.size > o.tree.size || !equalBytes(o.tree.root(snap.size), snap.root)) return none;
  if (base <= ((await readLogBase(o.dir, o.origin))?.base ?? 0)) return none;
  const edges = o.tree.tileEdges(base);
  await writeLogBase(o.dir, { format: LOG_BASE_FORMAT, origin: o.origin, base, edges: BasedTree.edgesToBase64(edges), checkpoint: o.cosignedNote, trust: [o.certification] });
  return { base, freedBytes: await deleteSegmentsBelow(o.dir, base) };
}
