// Reads a live ProofGraph log directory from the side, as the shipper needs it: new entries in
// index order, without locking and without rereading what it has seen. It relies on the store's
// guarantees (docs/spec/store.md §4): segments only grow, a new one appears after the previous one
// is complete. A record still being written (torn tail) is left for the next read.
import { hash } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FILE_HEADER_BYTES, RECORD_HEADER_BYTES, segmentFileName } from '../../kernel/proofgraph/store/format.js';

export class SegmentTailError extends Error {
  readonly code = 'ERR_SHIP_SEGMENT';
}

export class SegmentTail {
  /** Index of the next entry to read. */
  next = 0;
  /** Bytes of segment files consumed so far (headers and records). */
  bytesRead = 0;
  private segment = 0;
  private offset = FILE_HEADER_BYTES;

  constructor(readonly dir: string) {}

  /** The segment being read (its first index) and the byte offset reached in it. */
  get position(): { segment: number; offset: number } {
    return { segment: this.segment, offset: this.offset };
  }

  /** Starts reading at `index`, the first index of a segment (a log freed below that base). */
  startAt(index: number): void {
    if (this.next !== 0 || this.bytesRead !== 0) throw new SegmentTailError('a tail starts at a base only before it has read anything');
    this.next = this.segment = index;
    this.offset = FILE_HEADER_BYTES;
    this.bytesRead = FILE_HEADER_BYTES;
  }

  /** Entries from `next` on, up to `limit` (exclusive index); fewer when the log is shorter. */
  async read(limit: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    while (this.next < limit) {
      const got = await this.readSegment(limit, out);
      if (got) continue;
      // The current segment is exhausted: move on only if the next one exists.
      const following = segmentFileName(this.next);
      const names = await readdir(this.dir);
      if (this.next !== this.segment && names.includes(following)) {
        this.bytesRead += FILE_HEADER_BYTES;
        this.segment = this.next;
        this.offset = FILE_HEADER_BYTES;
        continue;
      }
      break;
    }
    return out;
  }

  /** Reads records of the current segment; true when it read at least one. */
  private async readSegment(limit: number, out: Uint8Array[]): Promise<boolean> {
    const path = join(this.dir, segmentFileName(this.segment));
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    try {
      const size = (await fh.stat()).size;
      if (this.bytesRead === 0 && size >= FILE_HEADER_BYTES) this.bytesRead = FILE_HEADER_BYTES;
      if (size <= this.offset) return false;
      const buf = Buffer.alloc(size - this.offset);
      await fh.read(buf, 0, buf.length, this.offset);
      let at = 0;
      let read = false;
      while (this.next < limit && at + RECORD_HEADER_BYTES <= buf.length) {
        const len = buf.readUInt32BE(at);
        if (at + RECORD_HEADER_BYTES + len > buf.length) break;
        const payload = buf.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + len);
        if (!hash('sha256', payload, 'buffer').equals(buf.subarray(at + 4, at + RECORD_HEADER_BYTES))) {
          // Below the durable size a bad record is damage, not a torn tail.
          throw new SegmentTailError(`${path} offset ${this.offset + at}: record ${this.next} does not match its SHA-256`);
        }
        out.push(Uint8Array.from(payload));
        at += RECORD_HEADER_BYTES + len;
        this.next++;
        read = true;
      }
      this.offset += at;
      this.bytesRead += at;
      return read;
    } finally {
      await fh.close();
    }
  }
}

