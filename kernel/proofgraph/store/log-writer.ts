// The single writer of one ProofGraph log directory: assigns indexes, keeps the Merkle tree of
// accepted entries, and acknowledges an append only once its bytes are fsync'ed (group commit).
import { join } from 'node:path';
import { nodeSuite } from '../../crypto/node.js';
import type { CryptoSuite } from '../../crypto/suite.js';
import { leafHash } from '../merkle.js';
import type { LogTree } from '../resumed-tree.js';
import { AppendFile } from './append-file.js';
import { encodeEntryRecord, encodeRecord } from './codec.js';
import { CommitQueue } from './commit-queue.js';
import { mkdirDurable } from './durable-fs.js';
import { StoreError, describeError, errnoCode } from './errors.js';
import { DEFAULT_SEGMENT_MAX_BYTES, FILE_HEADER_BYTES, MAX_PAYLOAD_BYTES, SEGMENT_MAGIC, fileHeader, segmentFileName } from './format.js';
import { WriterLock } from './lock.js';
import type { TornTail } from './recovery.js';
import { recoverLog, type RecoveredLog, type TreeResume } from './writer-open.js';

export interface LogWriterOptions {
  /** This writer's subdirectory; created if missing (and its parent fsync'ed). */
  dir: string;
  /** Log origin, stored in <dir>/LOG on creation; reopening with another origin is refused. */
  origin: string;
  /** Rotate before a segment would exceed this many bytes (a segment holds at least one record). */
  segmentMaxBytes?: number;
  /** Hashing for the Merkle tree; default nodeSuite. */
  suite?: CryptoSuite;
  /** A start-up snapshot's tree frontier: segments before it are not read (refused if the log does not fit it). */
  resume?: TreeResume;
}

export interface RecoveryReport {
  entries: number;
  segments: number;
  tornTail: null | TornTail;
  checkpointsTornTail: null | { offset: number; truncatedBytes: number };
}

export interface LogWriterStats {
  /** Entries accepted by append() since open. */
  appends: number;
  /** Entry batches committed (one writev + one datasync each, two when a batch spans a rotation). */
  batches: number;
  /** fdatasync calls completed on segment files since open (including new-segment headers). */
  syncs: number;
}

interface PendingRecord {
  index: number;
  record: Buffer;
  /** This record starts a new segment. */
  rotate: boolean;
}

interface PendingNote {
  note: string;
  record: Buffer;
}

function checkOptions(opts: LogWriterOptions): number {
  if (typeof opts.dir !== 'string' || opts.dir === '') throw new RangeError('LogWriter: dir must be a non-empty path');
  if (typeof opts.origin !== 'string' || opts.origin === '' || opts.origin.includes('\n')) {
    throw new RangeError('LogWriter: origin must be a non-empty single-line string');
  }
  const max = opts.segmentMaxBytes ?? DEFAULT_SEGMENT_MAX_BYTES;
  if (!Number.isSafeInteger(max) || max <= FILE_HEADER_BYTES) throw new RangeError(`LogWriter: segmentMaxBytes must be an integer > ${FILE_HEADER_BYTES}`);
  return max;
}

export class LogWriter {
  readonly origin: string;
  readonly dir: string;
  readonly recovery: RecoveryReport;
  readonly tree: LogTree;
  /** The size the open resumed the tree from (0: every segment was read). */
  readonly resumedAt: number;

  private readonly suite: CryptoSuite;
  private readonly segmentMaxBytes: number;
  private readonly lock: WriterLock;
  private readonly entryQueue: CommitQueue<PendingRecord>;
  private readonly noteQueue: CommitQueue<PendingNote>;
  private readonly notes: string[];
  private readonly checkpointsFile: AppendFile;
  /** Segment the commit side writes to. */
  private active: AppendFile;
  private retiredSyncs = 0;
  private accepted: number;
  private durable: number;
  private appends = 0;
  /** Accept-side layout of the current segment, to decide rotation synchronously in append(). */
  private segmentBytes: number;
  private segmentRecords: number;
  private last: Uint8Array | null;
  private failure: StoreError | null = null;
  private closing: Promise<void> | null = null;

  private constructor(opts: LogWriterOptions, segmentMaxBytes: number, lock: WriterLock, o: RecoveredLog) {
    this.dir = opts.dir;
    this.origin = opts.origin;
    this.suite = opts.suite ?? nodeSuite;
    this.segmentMaxBytes = segmentMaxBytes;
    this.lock = lock;
    this.tree = o.tree;
    this.resumedAt = o.resumedAt;
    this.recovery = o.recovery;
    this.active = o.active;
    this.checkpointsFile = o.checkpointsFile;
    this.notes = o.notes;
    this.accepted = this.durable = o.recovery.entries;
    this.segmentBytes = o.active.bytes;
    this.segmentRecords = o.activeRecords;
    this.last = o.lastEntry;
    this.entryQueue = new CommitQueue((items) => this.commitRecords(items), (err) => this.fail(err));
    this.noteQueue = new CommitQueue((items) => this.commitNotes(items), (err) => this.fail(err));
  }

  /** Takes the writer lock, recovers the log (cutting off a torn tail) and loads its leaf hashes. */
  static async open(opts: LogWriterOptions): Promise<LogWriter> {
    const segmentMaxBytes = checkOptions(opts);
    await mkdirDurable(opts.dir);
    const lock = await WriterLock.acquire(opts.dir);
    try {
      return new LogWriter(opts, segmentMaxBytes, lock, await recoverLog(opts.dir, opts.origin, opts.suite ?? nodeSuite, opts.resume));
    } catch (err) {
      await lock.release().catch(() => undefined);
      throw err;
    }
  }

  get size(): number {
    return this.accepted;
  }

  get durableSize(): number {
    return this.durable;
  }

  get failed(): StoreError | null {
    return this.failure;
  }

  get stats(): LogWriterStats {
    return { appends: this.appends, batches: this.entryQueue.batches, syncs: this.retiredSyncs + this.active.syncs };
  }

  /** Bytes of the last accepted entry (a copy), or null for an empty log. */
  lastEntry(): Uint8Array | null {
    return this.last ? this.last.slice() : null;
  }

  /**
   * Accepts `entry` synchronously (index assigned, tree updated) and resolves with its index once
   * it is durable. Rejects without accepting when the entry is too large or the writer is closed
   * or failed. `digest`: SHA-256(entry), when the caller already has it (the node encoder does),
   * reused as the record's frame hash instead of hashing the entry a second time.
   */
  append(entry: Uint8Array, digest?: Uint8Array): Promise<number> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    if (entry.length > MAX_PAYLOAD_BYTES) {
      return Promise.reject(
        new StoreError('ERR_ENTRY_TOO_LARGE', `entry is ${entry.length} bytes; entries must be at most ${MAX_PAYLOAD_BYTES} bytes`, {
          bytes: entry.length,
          limit: MAX_PAYLOAD_BYTES,
        }),
      );
    }
    let record: Buffer;
    let leaf: Uint8Array;
    if (this.suite === nodeSuite) {
      ({ record, leaf } = encodeEntryRecord(entry, digest));
    } else {
      record = encodeRecord(entry);
      leaf = leafHash(this.suite, entry);
    }
    const index = this.accepted;
    this.tree.appendLeafHash(leaf);
    this.accepted = index + 1;
    this.appends++;
    this.last = record.subarray(record.length - entry.length);
    let rotate = false;
    if (this.segmentRecords > 0 && this.segmentBytes + record.length > this.segmentMaxBytes) {
      rotate = true;
      this.segmentBytes = FILE_HEADER_BYTES;
      this.segmentRecords = 0;
    }
    this.segmentBytes += record.length;
    this.segmentRecords++;
    return this.entryQueue.enqueue({ index, record, rotate }).then(() => index);
  }

  /** Appends a checkpoint note to <dir>/checkpoints; resolves once it is durable. */
  appendCheckpoint(note: string): Promise<void> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    const payload = Buffer.from(note, 'utf8');
    if (payload.length > MAX_PAYLOAD_BYTES) {
      return Promise.reject(
        new StoreError('ERR_ENTRY_TOO_LARGE', `checkpoint note is ${payload.length} bytes; at most ${MAX_PAYLOAD_BYTES} are allowed`, {
          bytes: payload.length,
          limit: MAX_PAYLOAD_BYTES,
        }),
      );
    }
    return this.noteQueue.enqueue({ note, record: encodeRecord(payload) });
  }

  /** Every durable checkpoint note, oldest first. */
  checkpoints(): string[] {
    return [...this.notes];
  }

  /** Resolves when every entry and checkpoint accepted so far is durable. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return Promise.all([this.entryQueue.settled(), this.noteQueue.settled()]).then(() => undefined);
  }

  /**
   * Flushes, closes the files and releases the lock; later appends reject with ERR_STORE_CLOSED.
   * Always releases; rejects with ERR_STORE_FAILED when the writer has failed (some accepted data
   * may not be durable: reopen to recover).
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const flushed = await this.flush().then(
      () => null,
      (err: unknown) => err,
    );
    const problems: unknown[] = [];
    for (const f of [this.active, this.checkpointsFile]) await f.close().catch((err: unknown) => problems.push(err));
    await this.lock.release().catch((err: unknown) => problems.push(err));
    if (flushed) throw flushed;
    if (this.failure) throw this.failure;
    if (problems.length > 0) {
      throw new StoreError('ERR_STORE_IO', `closing ${this.dir}: ${problems.map(describeError).join('; ')}`, { dir: this.dir, problems });
    }
  }

  private refusal(): StoreError | null {
    if (this.failure) return this.failure;
    if (this.closing) return new StoreError('ERR_STORE_CLOSED', `log writer for ${this.dir} is closed`, { dir: this.dir });
    return null;
  }

  /** Fails the writer for good: nothing may be acknowledged once a write or sync has failed. */
  private fail(err: unknown): StoreError {
    if (!this.failure) {
      this.failure = new StoreError(
        'ERR_STORE_FAILED',
        `log writer for ${this.dir} failed and refuses further appends: ${describeError(err)}. ` +
          `Entries from index ${this.durable} on may not be durable; close and reopen the log to recover.`,
        { dir: this.dir, durableSize: this.durable, errno: errnoCode(err), cause: err },
      );
      this.entryQueue.abort(this.failure);
      this.noteQueue.abort(this.failure);
    }
    return this.failure;
  }

  private async commitRecords(items: PendingRecord[]): Promise<void> {
    let group: Buffer[] = [];
    let bytes = 0;
    let next = this.durable;
    for (const item of items) {
      if (item.rotate) {
        if (group.length > 0) await this.active.append(group, bytes);
        this.durable = next;
        group = [];
        bytes = 0;
        await this.rotate(item.index);
      }
      group.push(item.record);
      bytes += item.record.length;
      next = item.index + 1;
    }
    if (group.length > 0) await this.active.append(group, bytes);
    this.durable = next;
  }

  /** Starts segment `firstIndex`; the old one is complete and synced at this point. */
  private async rotate(firstIndex: number): Promise<void> {
    const next = await AppendFile.create(join(this.dir, segmentFileName(firstIndex)), fileHeader(SEGMENT_MAGIC, firstIndex));
    const old = this.active;
    this.active = next;
    this.retiredSyncs += old.syncs;
    await old.close();
  }

  private async commitNotes(items: PendingNote[]): Promise<void> {
    let bytes = 0;
    for (const it of items) bytes += it.record.length;
    await this.checkpointsFile.append(
      items.map((it) => it.record),
      bytes,
    );
    for (const it of items) this.notes.push(it.note);
  }
}
