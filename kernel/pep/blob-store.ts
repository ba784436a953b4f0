// Content-addressed blobs (canonical decision inputs and policy bundles) that decisions reference
// by SHA-256, so a pack can carry what replay needs. One append-only file in the writer's log
// directory, same discipline as the ProofGraph store: framed records, group commit with
// fdatasync, a torn tail cut off on open, damage before the tail refused. It lives under the
// writer's LOCK, so only the PEP of that writer appends to it. Format: docs/spec/pep.md §7.
import { open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { toHex } from '../crypto/bytes.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { AppendFile } from '../proofgraph/store/append-file.js';
import { BoundedMap } from './bounded.js';
import { CommitQueue } from '../proofgraph/store/commit-queue.js';
import { fsyncDir, truncateDurable } from '../proofgraph/store/durable-fs.js';
import { StoreError, corrupt, describeError, errnoCode, ioError } from '../proofgraph/store/errors.js';

export const BLOB_FILE = 'pep-blobs';
export const BLOB_MAGIC = 'HELMBLB1';
const HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 36;
/** Bundle texts are at most 4 MiB; their JCS bytes fit comfortably. */
export const MAX_BLOB_BYTES = 16 * 1024 * 1024;

interface Located {
  offset: number;
  length: number;
  /** A policy bundle: kept in the index (decision inputs past the cap are forgotten, oldest first). */
  pinned?: boolean;
}

/**
 * Decision inputs the in-memory index keeps (for deduplication only: nothing reads an input back
 * through the store); policy bundles are always kept. A blob not in the index is found by a scan
 * of the file (a bundle indexed before a restart and since forgotten).
 */
export const MAX_INDEXED_BLOBS = 10_000;

interface Pending {
  hex: string;
  record: Buffer;
  pin?: boolean;
}

function header(): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.write(BLOB_MAGIC, 0, 'latin1');
  return h;
}

function encode(payload: Uint8Array, hex: string): Buffer {
  const rec = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  rec.writeUInt32BE(payload.length, 0);
  rec.write(hex, 4, 32, 'hex');
  rec.set(payload, RECORD_HEADER_BYTES);
  return rec;
}

export interface BlobScan {
  /** hex SHA-256 -> where its payload starts and how long it is. */
  index: Map<string, Located>;
  /** Byte offset where the valid records end. */
  end: number;
  /** Set when the file ends in an interrupted append (which a writer cuts off). */
  tornTail: { offset: number; reason: string } | null;
}

/**
 * Validates the header and every record. A record whose bytes run past the end of the file, or
 * the final record with a wrong hash, is a torn tail; anything else wrong is corruption.
 */
export function scanBlobFile(buf: Buffer, path: string, suite: CryptoSuite): BlobScan {
  if (buf.length < HEADER_BYTES) {
    if (buf.every((b, i) => b === 0 || b === header()[i])) return { index: new Map(), end: 0, tornTail: { offset: 0, reason: 'short header' } };
    throw corrupt(path, 0, 'not a PEP blob file (short header)');
  }
  if (!buf.subarray(0, HEADER_BYTES).equals(header())) throw corrupt(path, 0, `not a PEP blob file (expected magic ${BLOB_MAGIC})`);
  const index = new Map<string, Located>();
  let o = HEADER_BYTES;
  while (o < buf.length) {
    const left = buf.length - o;
    const torn = (reason: string) => ({ index, end: o, tornTail: { offset: o, reason } });
    if (left < RECORD_HEADER_BYTES) return torn(`short record header (${left} bytes)`);
    const len = buf.readUInt32BE(o);
    if (len > MAX_BLOB_BYTES) {
      if (buf.subarray(o).every((b) => b === 0)) return torn('zero-filled tail');
      throw corrupt(path, o, `blob length ${len} exceeds ${MAX_BLOB_BYTES}`);
    }
    const end = o + RECORD_HEADER_BYTES + len;
    if (end > buf.length) return torn(`short record body (${left - RECORD_HEADER_BYTES} of ${len} bytes)`);
    const payload = buf.subarray(o + RECORD_HEADER_BYTES, end);
    const digest = suite.sha256(payload);
    if (!Buffer.from(digest).equals(buf.subarray(o + 4, o + RECORD_HEADER_BYTES))) {
      if (end === buf.length) return torn('hash mismatch in the final record');
      throw corrupt(path, o, 'blob hash mismatch before the end of the file');
    }
    index.set(toHex(digest), { offset: o + RECORD_HEADER_BYTES, length: len });
    o = end;
  }
  return { index, end: o, tornTail: null };
}

/**
 * The blobs of a log directory (read-only, no lock; a torn tail is left out), all or those `wanted`
 * selects; null when the directory has no blob file.
 */
export async function readBlobs(logDir: string, suite: CryptoSuite, wanted?: (hex: string) => boolean): Promise<Map<string, Uint8Array> | null> {
  const path = join(logDir, BLOB_FILE);
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw ioError('read', path, err);
  }
  const scan = scanBlobFile(buf, path, suite);
  const out = new Map<string, Uint8Array>();
  for (const [hex, at] of scan.index) if (!wanted || wanted(hex)) out.set(hex, new Uint8Array(buf.subarray(at.offset, at.offset + at.length)));
  return out;
}

export class BlobStore {
  private readonly pending = new Map<string, Promise<void>>();
  private readonly queue: CommitQueue<Pending>;
  private failure: StoreError | null = null;
  private closed = false;

  private readonly index: BoundedMap<string, Located>;

  private constructor(
    readonly path: string,
    private readonly file: AppendFile,
    scanned: Map<string, Located>,
    private readonly suite: CryptoSuite,
    readonly recovered: BlobScan['tornTail'],
    maxIndexed = MAX_INDEXED_BLOBS,
  ) {
    this.index = new BoundedMap<string, Located>(maxIndexed, (at) => at.pinned !== true);
    // In file order, so the newest inputs stay indexed.
    for (const [hex, at] of scanned) this.index.set(hex, at);
    this.queue = new CommitQueue(
      (items) => this.commit(items),
      (err) => this.fail(err),
    );
  }

  /** Opens (or creates) the blob file of a log directory the caller holds the writer lock of. */
  static async open(logDir: string, suite: CryptoSuite, o: { maxIndexed?: number } = {}): Promise<BlobStore> {
    const path = join(logDir, BLOB_FILE);
    let buf: Buffer | null;
    try {
      buf = await readFile(path);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw ioError('read', path, err);
      buf = null;
    }
    if (buf === null) return new BlobStore(path, await AppendFile.create(path, header()), new Map(), suite, null, o.maxIndexed);
    const scan = scanBlobFile(buf, path, suite);
    if (scan.end === 0) {
      // A crash while creating the file left a partial header: start it again.
      await truncateDurable(path, 0);
      const file = await AppendFile.openAt(path, 0);
      await file.append([header()], HEADER_BYTES);
      await fsyncDir(logDir);
      return new BlobStore(path, file, new Map(), suite, scan.tornTail, o.maxIndexed);
    }
    if (scan.tornTail) await truncateDurable(path, scan.end);
    return new BlobStore(path, await AppendFile.openAt(path, scan.end), scan.index, suite, scan.tornTail, o.maxIndexed);
  }

  /** Blobs in the in-memory index (diagnostics). */
  get indexSize(): number {
    return this.index.size;
  }

  get failed(): StoreError | null {
    return this.failure;
  }

  has(hex: string): boolean {
    return this.index.has(hex) || this.pending.has(hex);
  }

  /**
   * Stores `bytes` under its SHA-256 (hex). The address is fixed now; the promise resolves once
   * the blob is durable. Storing the same bytes again costs a hash and a map lookup. A caller that
   * has just hashed these very bytes may pass the digest to skip hashing them again (the hot path
   * hashes each decision input once); recovery re-checks every stored hash on open.
   */
  put(bytes: Uint8Array, sha256Hex?: string, o: { pin?: boolean } = {}): { hex: string; durable: Promise<void> } {
    const hex = sha256Hex ?? toHex(this.suite.sha256(bytes));
    const known = this.index.get(hex);
    if (known) {
      if (o.pin) known.pinned = true;
      return { hex, durable: Promise.resolve() };
    }
    const inflight = this.pending.get(hex);
    if (inflight) return { hex, durable: inflight };
    if (this.failure) return { hex, durable: Promise.reject(this.failure) };
    if (this.closed) return { hex, durable: Promise.reject(new StoreError('ERR_STORE_CLOSED', `blob store ${this.path} is closed`)) };
    if (bytes.length > MAX_BLOB_BYTES) return { hex, durable: Promise.reject(new StoreError('ERR_ENTRY_TOO_LARGE', `blob is ${bytes.length} bytes; the limit is ${MAX_BLOB_BYTES}`)) };
    // The batch promise is shared and already guarded against unhandled rejection.
    const durable = this.queue.enqueue({ hex, record: encode(bytes, hex), ...(o.pin ? { pin: true } : {}) });
    this.pending.set(hex, durable);
    return { hex, durable };
  }

  /** The durable blob with this address, or null. */
  async get(hex: string): Promise<Uint8Array | null> {
    const at = this.index.get(hex);
    if (!at) {
      // Forgotten by the bounded index (or never stored): look in the file itself.
      const found = await readBlobs(dirname(this.path), this.suite, (h) => h === hex);
      const bytes = found?.get(hex);
      if (!bytes) return null;
      return bytes;
    }
    const fh = await open(this.path, 'r');
    try {
      const out = Buffer.alloc(at.length);
      const { bytesRead } = await fh.read(out, 0, at.length, at.offset);
      if (bytesRead !== at.length) throw corrupt(this.path, at.offset, `short read of blob ${hex}`);
      if (toHex(this.suite.sha256(out)) !== hex) throw corrupt(this.path, at.offset, `blob ${hex} no longer matches its hash`);
      return new Uint8Array(out);
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.settled().catch(() => undefined);
    await this.file.close();
  }

  private async commit(items: Pending[]): Promise<void> {
    let bytes = 0;
    let offset = this.file.bytes;
    const located: Array<[string, Located]> = [];
    for (const it of items) {
      located.push([it.hex, { offset: offset + RECORD_HEADER_BYTES, length: it.record.length - RECORD_HEADER_BYTES, ...(it.pin ? { pinned: true } : {}) }]);
      offset += it.record.length;
      bytes += it.record.length;
    }
    await this.file.append(
      items.map((it) => it.record),
      bytes,
    );
    for (const [hex, at] of located) {
      this.index.set(hex, at);
      this.pending.delete(hex);
    }
  }

  private fail(err: unknown): StoreError {
    this.failure ??= new StoreError('ERR_STORE_FAILED', `blob store ${this.path} failed and refuses further blobs: ${describeError(err)}`, { path: this.path, cause: err });
    return this.failure;
  }
}
