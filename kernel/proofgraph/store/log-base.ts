// <dir>/log-base.json (docs/spec/store.md §10): the log's entries below `base` were freed after a
// collector cosigned a checkpoint covering them. The record keeps what readers of the rest need:
// the tile edges at the base (a Merkle tree from the base on: BasedTree), the cosigned checkpoint
// note that covers the base, and the trust events of the freed entries that the tail's readers
// still ask for (the log key's certification). Written before any segment is deleted, so a crash
// in between leaves a log that opens (segments wholly below the base are then ignored, and a
// writer deletes them).
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { equalBytes } from '../../crypto/bytes.js';
import { parseNote } from '../../crypto/note.js';
import type { CryptoSuite } from '../../crypto/suite.js';
import { BasedTree, tileEdgeShape } from '../based-tree.js';
import { parseCheckpointText } from '../checkpoint.js';
import { corrupt, errnoCode, ioError, StoreError } from './errors.js';
import { fsyncDir, readTextIfExists, writeFileAtomic } from './durable-fs.js';
import { parseSegmentFileName } from './format.js';

export const LOG_BASE_FILE = 'log-base.json';
export const LOG_BASE_FORMAT = 'helm.log-base/v1';

export interface LogBase {
  format: typeof LOG_BASE_FORMAT;
  origin: string;
  /** Index of the first entry kept: every segment starts at or after it. */
  base: number;
  /** Tile edges at `base`, per tlog-tiles level (base64 hashes; BasedTree). */
  edges: string[][];
  /** A checkpoint note of size ≥ base with the collector's cosignature: what vouches for the freed entries. */
  checkpoint: string;
  /** Trust events (DSSE envelopes) recorded in the freed entries that readers of the tail still need. */
  trust: unknown[];
}

/** The checkpoint a base record names: its size and root. */
export function baseCheckpoint(b: LogBase): { size: number; root: Uint8Array } {
  const cp = parseCheckpointText(parseNote(b.checkpoint).text);
  return { size: cp.size, root: cp.root };
}

/** The log's base record, or null when the log was never freed. Refuses a malformed one. */
export async function readLogBase(dir: string, origin: string): Promise<LogBase | null> {
  const path = join(dir, LOG_BASE_FILE);
  const text = await readTextIfExists(path);
  if (text === null) return null;
  let b: LogBase;
  try {
    b = JSON.parse(text) as LogBase;
  } catch {
    throw corrupt(path, 0, `${LOG_BASE_FILE} is not valid JSON`);
  }
  const bad = (why: string): never => {
    throw corrupt(path, 0, `${LOG_BASE_FILE}: ${why}`);
  };
  if (b?.format !== LOG_BASE_FORMAT) bad(`format must be ${LOG_BASE_FORMAT}`);
  if (b.origin !== origin) bad(`origin ${JSON.stringify(b.origin)} is not the log's ${JSON.stringify(origin)}`);
  if (!Number.isSafeInteger(b.base) || b.base < 1) bad('base must be an integer ≥ 1');
  const shape = tileEdgeShape(b.base);
  if (!Array.isArray(b.edges) || b.edges.length !== shape.length || shape.some((s, l) => !Array.isArray(b.edges[l]) || b.edges[l]!.length !== s.count)) bad(`edges must hold the tile edges at ${b.base} (${shape.map((s) => s.count).join(', ')} hashes)`);
  if (!Array.isArray(b.trust)) bad('trust must be an array');
  let cp: { size: number; root: Uint8Array } | undefined;
  try {
    cp = baseCheckpoint(b);
    if (parseCheckpointText(parseNote(b.checkpoint).text).origin !== origin) bad('checkpoint is of another origin');
  } catch (e) {
    if (e instanceof StoreError) throw e;
    bad(`checkpoint is not a checkpoint note: ${(e as Error).message}`);
  }
  if (cp!.size < b.base) bad(`checkpoint of size ${cp!.size} does not cover the base ${b.base}`);
  return b;
}

export async function writeLogBase(dir: string, b: LogBase): Promise<void> {
  await writeFileAtomic(join(dir, LOG_BASE_FILE), `${JSON.stringify(b)}\n`);
}

export function baseTree(suite: CryptoSuite, b: LogBase): BasedTree {
  return BasedTree.fromBase64(suite, b.base, b.edges);
}

/** Refuses a base whose tree, with the entries read after it, does not give its checkpoint's root. */
export function checkBaseRoot(dir: string, b: LogBase, rootAt: (size: number) => Uint8Array, size: number): void {
  const cp = baseCheckpoint(b);
  if (size < cp.size) throw corrupt(join(dir, LOG_BASE_FILE), 0, `the log holds ${size} entries, fewer than the base checkpoint's ${cp.size}`);
  if (!equalBytes(rootAt(cp.size), cp.root)) throw corrupt(join(dir, LOG_BASE_FILE), 0, `the tile edges at ${b.base} and the entries after it do not give the root of the base checkpoint (size ${cp.size})`);
}

/** The error of a reader asked for entries below the base. */
export function freedError(dir: string, b: LogBase, from: number): StoreError {
  return new StoreError(
    'ERR_STORE_FREED',
    `${dir}: entries 0..${b.base - 1} of ${b.origin} were freed from this volume after the fleet collector cosigned them (${LOG_BASE_FILE}); reading from index ${from} needs them. Export the fleet evidence pack from the bucket instead (helmctl export --bucket …), or read from index ${b.base} on`,
    { dir, base: b.base, from },
  );
}

/**
 * Deletes the segments that lie wholly below `base` (the next segment starts at or before it),
 * lowest first, then syncs the directory. Returns the bytes freed. Run only after the base record
 * is durable.
 */
export async function deleteSegmentsBelow(dir: string, base: number): Promise<number> {
  const segs = (await readdir(dir))
    .map((name) => ({ name, first: parseSegmentFileName(name) }))
    .filter((s): s is { name: string; first: number } => s.first !== null)
    .sort((a, b) => a.first - b.first);
  let freed = 0;
  for (let i = 0; i + 1 < segs.length && segs[i + 1]!.first <= base; i++) {
    const path = join(dir, segs[i]!.name);
    try {
      freed += (await stat(path)).size;
      await unlink(path);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw ioError('unlink', path, err);
    }
  }
  if (freed > 0) await fsyncDir(dir);
  return freed;
}
