// Lock-free reading of log directories, safe next to a live writer: segments only grow, a new
// segment appears only after the previous one is complete, and a record still being written
// shows up as a torn tail, which is left out and reported.
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { corrupt, errnoCode, ioError } from './errors.js';
import { LOG_FILE } from './format.js';
import { readLogMeta } from './log-meta.js';
import { scanCheckpoints, scanSegments } from './recovery.js';
import { nodeSuite } from '../../crypto/node.js';
import { baseTree, checkBaseRoot, freedError, readLogBase, type LogBase } from './log-base.js';
import type { RecoveryReport } from './log-writer.js';

export interface StoredLog {
  /** Name of the writer's subdirectory. */
  writerId: string;
  dir: string;
  origin: string;
  /** Entries from index `first` on (0 unless the read started later: readLog's `from`). */
  entries: Uint8Array[];
  first: number;
  checkpoints: string[];
  tornTail: RecoveryReport['tornTail'];
  /** The log's base record when entries below it were freed (§10); entries then start at or after it. */
  base: LogBase | null;
}

/**
 * Reads one writer's log without locking; corruption before the tail throws ERR_STORE_CORRUPT.
 * With `from`, only entries from that index on are returned (`first` = from), and segments that
 * end before it are not read at all: a start that resumes from a snapshot reads only the tail.
 */
export async function readLog(dir: string, o: { from?: number; fromBase?: boolean } = {}): Promise<StoredLog> {
  const meta = await readLogMeta(dir);
  if (!meta) throw corrupt(join(dir, LOG_FILE), 0, `no ${LOG_FILE} file: not a ProofGraph log directory`);
  // A log freed below a base (§10) is read from the base on, and only when the caller asks for that.
  const base = await readLogBase(dir, meta.origin);
  const from = Math.max(o.fromBase ? (base?.base ?? 0) : 0, o.from ?? 0);
  if (base && from < base.base) throw freedError(dir, base, from);
  const entries: Uint8Array[] = [];
  const tree = base && from === base.base ? baseTree(nodeSuite, base) : null;
  const segs = await scanSegments(dir, 'read', (entry, index) => {
    if (index >= from) entries.push(entry);
    tree?.appendEntry(entry);
  }, from, base?.base ?? 0);
  if (base && tree) checkBaseRoot(dir, base, (n) => tree.root(n), tree.size);
  const ck = await scanCheckpoints(dir, 'read');
  return { writerId: basename(dir), dir, origin: meta.origin, entries, first: Math.min(from, segs.entries), checkpoints: ck.notes, tornTail: segs.tornTail, base };
}

async function hasLogFile(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, LOG_FILE))).isFile();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw ioError('stat', join(dir, LOG_FILE), err);
  }
}

/** Every writer log under `root` (subdirectories holding a LOG file), sorted by writerId. */
export async function readStore(root: string): Promise<StoredLog[]> {
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    throw ioError('list', root, err);
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const logs: StoredLog[] = [];
  for (const name of names) {
    const dir = join(root, name);
    if (await hasLogFile(dir)) logs.push(await readLog(dir));
  }
  return logs;
}
