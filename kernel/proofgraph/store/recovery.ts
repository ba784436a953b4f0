// Scans a log directory's segments and checkpoints file, validating framing, hashes and index
// contiguity. The same scan serves the reader (report a torn tail, change nothing) and the
// writer (cut the torn tail off durably before appending after it).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanRecords, type RecordProblem } from './codec.js';
import { corrupt, errnoCode, ioError } from './errors.js';
import {
  CHECKPOINTS_FILE,
  CHECKPOINTS_MAGIC,
  FILE_HEADER_BYTES,
  SEGMENT_MAGIC,
  fileHeader,
  isTornPrefix,
  parseSegmentFileName,
  segmentFileName,
} from './format.js';
import { truncateDurable, writeFileAtomic } from './durable-fs.js';

export type ScanMode = 'read' | 'repair';

export interface TornTail {
  segment: string;
  offset: number;
  truncatedBytes: number;
  reason: string;
}

export interface SegmentsScan {
  entries: number;
  segments: number;
  tornTail: TornTail | null;
  /** The segment appends continue in; null when the directory has none. */
  last: { name: string; firstIndex: number; bytes: number; records: number } | null;
  /** Copy of the last valid entry (not a view, so the segment buffer can be freed). */
  lastEntry: Uint8Array | null;
}

export async function listSegments(dir: string): Promise<Array<{ name: string; firstIndex: number }>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw ioError('list', dir, err);
  }
  const out: Array<{ name: string; firstIndex: number }> = [];
  for (const name of names) {
    const firstIndex = parseSegmentFileName(name);
    if (firstIndex === null) continue;
    if (!Number.isSafeInteger(firstIndex)) throw corrupt(join(dir, name), 0, 'segment first index is beyond 2^53 - 1');
    out.push({ name, firstIndex });
  }
  // Zero-padded names sort numerically.
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

async function readWhole(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw ioError('read', path, err);
  }
}

function badRecord(path: string, p: RecordProblem, isLast: boolean, fileKind: string): never {
  const why = p.tornShape && !isLast ? ` (only the last ${fileKind} may end in an interrupted append)` : '';
  throw corrupt(path, p.offset, `${p.reason}${why}`, { reason: p.reason });
}

export async function scanSegments(
  dir: string,
  mode: ScanMode,
  onEntry: (entry: Uint8Array, index: number) => void,
  /**
   * Segments that end at or before this index are not read (a start that resumes from a snapshot).
   * The last segment, the only one that may end in a torn append, is always read.
   */
  skipBelow = 0,
  /** The log's base (log-base.json, §10): segments wholly below it are left over from a free and ignored. */
  base = 0,
): Promise<SegmentsScan> {
  const listed = await listSegments(dir);
  const segs = base > 0 ? listed.filter((_, i) => !((listed[i + 1]?.firstIndex ?? Infinity) <= base)) : listed;
  let next = base;
  let tornTail: TornTail | null = null;
  let last: SegmentsScan['last'] = null;
  let lastEntry: Uint8Array | null = null;
  for (let s = 0; s < segs.length; s++) {
    const { name, firstIndex } = segs[s]!;
    const path = join(dir, name);
    const isLast = s === segs.length - 1;
    if (firstIndex !== next) {
      const problem = s === 0
        ? base > 0
          ? `first segment starts at index ${firstIndex}, but the log base (log-base.json) is ${base} (missing segment ${segmentFileName(base)}?)`
          : `first segment starts at index ${firstIndex}, expected 0 (missing segment ${segmentFileName(0)}?; entries are freed only with a log-base.json)`
        : `segment starts at index ${firstIndex} but ${segs[s - 1]!.name} ends at index ${next} (missing segment ${segmentFileName(next)}?)`;
      throw corrupt(path, 0, problem, { expectedIndex: next, firstIndex });
    }
    const nextFirst = segs[s + 1]?.firstIndex;
    if (!isLast && nextFirst !== undefined && nextFirst > firstIndex && nextFirst <= skipBelow) {
      // Wholly below what the caller needs: its record count is implied by the next segment's name.
      next = nextFirst;
      continue;
    }
    const buf = await readWhole(path);
    const header = fileHeader(SEGMENT_MAGIC, firstIndex);
    if (buf.length < FILE_HEADER_BYTES) {
      if (!isLast || !isTornPrefix(buf, header)) throw corrupt(path, 0, `short segment header (${buf.length} of ${FILE_HEADER_BYTES} bytes)`);
      tornTail = { segment: name, offset: 0, truncatedBytes: buf.length, reason: `short segment header (${buf.length} of ${FILE_HEADER_BYTES} bytes)` };
      if (mode === 'repair') await writeFileAtomic(path, header); // a crash cut the header short: it held no records
      last = { name, firstIndex, bytes: FILE_HEADER_BYTES, records: 0 };
      continue;
    }
    if (!buf.subarray(0, FILE_HEADER_BYTES).equals(header)) {
      throw corrupt(path, 0, `bad segment header: expected "${SEGMENT_MAGIC}" and first index ${firstIndex}`);
    }
    let index = firstIndex;
    const scan = scanRecords(buf, FILE_HEADER_BYTES, (entry) => {
      onEntry(entry, index++);
      lastEntry = entry;
    });
    if (scan.problem) {
      if (!isLast || !scan.problem.tornShape) badRecord(path, scan.problem, isLast, 'segment');
      tornTail = { segment: name, offset: scan.end, truncatedBytes: buf.length - scan.end, reason: scan.problem.reason };
      if (mode === 'repair') await truncateDurable(path, scan.end);
    }
    next = index;
    last = { name, firstIndex, bytes: scan.end, records: scan.count };
  }
  const tail = lastEntry as Uint8Array | null;
  return { entries: next, segments: segs.length, tornTail, last, lastEntry: tail ? tail.slice() : null };
}

export interface CheckpointsScan {
  exists: boolean;
  notes: string[];
  bytes: number;
  tornTail: { offset: number; truncatedBytes: number; reason: string } | null;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export async function scanCheckpoints(dir: string, mode: ScanMode): Promise<CheckpointsScan> {
  const path = join(dir, CHECKPOINTS_FILE);
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { exists: false, notes: [], bytes: 0, tornTail: null };
    throw ioError('read', path, err);
  }
  const header = fileHeader(CHECKPOINTS_MAGIC, 0);
  if (buf.length < FILE_HEADER_BYTES) {
    if (!isTornPrefix(buf, header)) throw corrupt(path, 0, `short checkpoints header (${buf.length} of ${FILE_HEADER_BYTES} bytes)`);
    if (mode === 'repair') await writeFileAtomic(path, header); // a crash cut the header short: it held no records
    const reason = `short checkpoints header (${buf.length} of ${FILE_HEADER_BYTES} bytes)`;
    return { exists: true, notes: [], bytes: FILE_HEADER_BYTES, tornTail: { offset: 0, truncatedBytes: buf.length, reason } };
  }
  if (!buf.subarray(0, FILE_HEADER_BYTES).equals(header)) throw corrupt(path, 0, `bad checkpoints header: expected "${CHECKPOINTS_MAGIC}" and 8 zero bytes`);
  const notes: string[] = [];
  const scan = scanRecords(buf, FILE_HEADER_BYTES, (payload, offset) => {
    try {
      notes.push(strictUtf8.decode(payload));
    } catch {
      throw corrupt(path, offset, 'checkpoint note is not valid UTF-8');
    }
  });
  let tornTail: CheckpointsScan['tornTail'] = null;
  if (scan.problem) {
    if (!scan.problem.tornShape) badRecord(path, scan.problem, true, 'file');
    tornTail = { offset: scan.end, truncatedBytes: buf.length - scan.end, reason: scan.problem.reason };
    if (mode === 'repair') await truncateDurable(path, scan.end);
  }
  return { exists: true, notes, bytes: scan.end, tornTail };
}
