// What LogWriter.open does once it holds the lock: create or check LOG, recover the segments and
// the checkpoints file (cutting off a torn tail), rebuild the Merkle tree and open the files.
import { join } from 'node:path';
import type { CryptoSuite } from '../../crypto/suite.js';
import { MerkleTree, leafHash, type Hash } from '../merkle.js';
import { ResumedTree, type LogTree } from '../resumed-tree.js';
import { AppendFile } from './append-file.js';
import { StoreError, corrupt } from './errors.js';
import { CHECKPOINTS_FILE, CHECKPOINTS_MAGIC, LOG_FILE, SEGMENT_MAGIC, fileHeader, segmentFileName } from './format.js';
import { createLogMeta, readLogMeta } from './log-meta.js';
import { baseTree, checkBaseRoot, deleteSegmentsBelow, readLogBase, type LogBase } from './log-base.js';
import { listSegments, scanCheckpoints, scanSegments, type SegmentsScan } from './recovery.js';
import type { RecoveryReport } from './log-writer.js';

export interface RecoveredLog {
  tree: LogTree;
  /** The snapshot size the scan resumed from (0: the whole log was read). */
  resumedAt: number;
  recovery: RecoveryReport;
  /** The last segment, open for appending after its valid records. */
  active: AppendFile;
  activeRecords: number;
  checkpointsFile: AppendFile;
  notes: string[];
  lastEntry: Uint8Array | null;
}

async function checkOrCreateLog(dir: string, origin: string): Promise<void> {
  let meta = await readLogMeta(dir);
  if (!meta) {
    const segments = await listSegments(dir);
    const ckpts = await scanCheckpoints(dir, 'read');
    if (segments.length > 0 || ckpts.exists) throw corrupt(join(dir, LOG_FILE), 0, 'LOG file is missing but the directory holds log data');
    meta = await createLogMeta(dir, origin);
  }
  if (meta.origin !== origin) {
    throw new StoreError('ERR_STORE_ORIGIN_MISMATCH', `${dir} holds the log of origin ${JSON.stringify(meta.origin)}, not ${JSON.stringify(origin)}`, {
      dir,
      stored: meta.origin,
      requested: origin,
    });
  }
}

/** Where a start-up snapshot lets the scan begin: the tree's frontier at `size` and the leaf before it. */
export interface TreeResume {
  size: number;
  frontier: Hash[];
  lastLeaf: Hash;
}

/**
 * Resumes the tree from a snapshot's frontier, reading only the segments from the one holding
 * entry size - 1 on. The log must still hold that entry with the snapshot's leaf hash (so a
 * truncated, replaced or shorter log is noticed); otherwise null, and the caller scans it all.
 */
async function scanFromResume(dir: string, suite: CryptoSuite, leaf: (e: Uint8Array) => Hash, r: TreeResume, base: number): Promise<{ tree: ResumedTree; segs: SegmentsScan } | null> {
  if (r.size - 1 < base) return null; // the snapshot's last entry was freed: start from the base
  const tree = ResumedTree.of(suite, r.size, r.frontier, r.lastLeaf);
  let matched = false;
  const segs = await scanSegments(dir, 'repair', (entry, index) => {
    if (index >= r.size) tree.appendLeafHash(leaf(entry));
    else if (index === r.size - 1) matched = Buffer.from(leaf(entry)).equals(Buffer.from(r.lastLeaf));
  }, r.size - 1, base);
  return matched && segs.entries >= r.size ? { tree, segs } : null;
}

/** The tree of a log freed below its base (§10), from the base's tile edges, checked against its checkpoint. */
async function scanFromBase(dir: string, suite: CryptoSuite, leaf: (e: Uint8Array) => Hash, b: LogBase): Promise<{ tree: ResumedTree; segs: SegmentsScan }> {
  const based = baseTree(suite, b);
  const tree = ResumedTree.of(suite, b.base, based.frontierAt(b.base).hashes(), null);
  const segs = await scanSegments(dir, 'repair', (entry) => tree.appendLeafHash(leaf(entry)), 0, b.base);
  checkBaseRoot(dir, b, (n) => tree.root(n), tree.size);
  return { tree, segs };
}

/** Must run under the writer lock: it repairs files in place. Closes what it opened on failure. */
export async function recoverLog(dir: string, origin: string, suite: CryptoSuite, resume?: TreeResume): Promise<RecoveredLog> {
  await checkOrCreateLog(dir, origin);
  const leaf = (e: Uint8Array) => leafHash(suite, e);
  const base = await readLogBase(dir, origin);
  // A free interrupted between the base record and the deletes: finish it (we hold the lock).
  if (base) await deleteSegmentsBelow(dir, base.base);
  const resumed = resume && resume.size > 0 ? await scanFromResume(dir, suite, leaf, resume, base?.base ?? 0) : null;
  let tree: LogTree;
  let segs: SegmentsScan;
  if (resumed) ({ tree, segs } = resumed);
  else if (base) ({ tree, segs } = await scanFromBase(dir, suite, leaf, base));
  else {
    const full = new MerkleTree(suite);
    segs = await scanSegments(dir, 'repair', (entry) => full.appendLeafHash(leaf(entry)));
    tree = full;
  }
  const active = segs.last
    ? await AppendFile.openAt(join(dir, segs.last.name), segs.last.bytes)
    : await AppendFile.create(join(dir, segmentFileName(0)), fileHeader(SEGMENT_MAGIC, 0));
  try {
    const ck = await scanCheckpoints(dir, 'repair');
    const ckPath = join(dir, CHECKPOINTS_FILE);
    const checkpointsFile = ck.exists ? await AppendFile.openAt(ckPath, ck.bytes) : await AppendFile.create(ckPath, fileHeader(CHECKPOINTS_MAGIC, 0));
    return {
      tree,
      resumedAt: resumed ? resume!.size : (base?.base ?? 0),
      active,
      activeRecords: segs.last?.records ?? 0,
      checkpointsFile,
      notes: ck.notes,
      lastEntry: segs.lastEntry,
      recovery: {
        entries: segs.entries,
        segments: segs.segments,
        tornTail: segs.tornTail,
        checkpointsTornTail: ck.tornTail ? { offset: ck.tornTail.offset, truncatedBytes: ck.tornTail.truncatedBytes } : null,
      },
    };
  } catch (err) {
    await active.close().catch(() => undefined);
    throw err;
  }
}
