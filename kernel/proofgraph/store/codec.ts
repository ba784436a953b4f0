// Record framing shared by segments and the checkpoints file: u32 BE length, SHA-256(payload),
// payload. Decoding classifies the first bad record so recovery can tell a torn tail from damage.
import { hash } from 'node:crypto';
import { MAX_PAYLOAD_BYTES, RECORD_HEADER_BYTES } from './format.js';

export function encodeRecord(payload: Uint8Array): Buffer {
  const rec = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  rec.writeUInt32BE(payload.length, 0);
  rec.set(hash('sha256', payload, 'buffer'), 4);
  rec.set(payload, RECORD_HEADER_BYTES);
  return rec;
}

/**
 * Encodes an entry record and also returns its RFC 6962 leaf hash SHA-256(0x00 || entry). The
 * byte just before the entry (the last hash byte) is briefly set to 0x00 so the leaf prefix and
 * the entry are hashed in place: no second copy of the entry on the append hot path. `digest`,
 * when given, must be SHA-256(entry) computed by the caller from these same bytes.
 */
export function encodeEntryRecord(entry: Uint8Array, digest?: Uint8Array): { record: Buffer; leaf: Buffer } {
  const rec = Buffer.allocUnsafe(RECORD_HEADER_BYTES + entry.length);
  rec.set(entry, RECORD_HEADER_BYTES);
  rec[RECORD_HEADER_BYTES - 1] = 0;
  const leaf = hash('sha256', rec.subarray(RECORD_HEADER_BYTES - 1), 'buffer');
  // The frame hash is SHA-256(entry): the node's entry hash, which its encoder already computed.
  rec.set(digest ?? hash('sha256', rec.subarray(RECORD_HEADER_BYTES), 'buffer'), 4);
  rec.writeUInt32BE(entry.length, 0);
  return { record: rec, leaf };
}

export interface RecordProblem {
  offset: number;
  reason: string;
  /** The shape a crash mid-append leaves; acceptable only at the end of the last file. */
  tornShape: boolean;
}

function zeroFrom(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Walks the records of `buf` from byte `from`, calling `visit` with a view of each valid payload.
 * Stops at the first invalid record and describes it; `end` is where the valid records end.
 */
export function scanRecords(
  buf: Buffer,
  from: number,
  visit: (payload: Uint8Array, offset: number) => void,
): { end: number; count: number; problem: RecordProblem | null } {
  let o = from;
  let count = 0;
  const bad = (reason: string, tornShape: boolean) => {
    if (zeroFrom(buf, o)) return { end: o, count, problem: { offset: o, reason: `zero-filled tail (${buf.length - o} bytes)`, tornShape: true } };
    return { end: o, count, problem: { offset: o, reason, tornShape } };
  };
  while (o < buf.length) {
    const left = buf.length - o;
    if (left < RECORD_HEADER_BYTES) return bad(`short record header (${left} of ${RECORD_HEADER_BYTES} bytes)`, true);
    const len = buf.readUInt32BE(o);
    if (len > MAX_PAYLOAD_BYTES) return bad(`record length ${len} exceeds ${MAX_PAYLOAD_BYTES}`, false);
    const end = o + RECORD_HEADER_BYTES + len;
    if (end > buf.length) return bad(`short record body (${left - RECORD_HEADER_BYTES} of ${len} bytes)`, true);
    const payload = buf.subarray(o + RECORD_HEADER_BYTES, end);
    if (!hash('sha256', payload, 'buffer').equals(buf.subarray(o + 4, o + RECORD_HEADER_BYTES))) {
      // A mismatching record that is not the last one cannot be an interrupted append.
      return bad(end === buf.length ? 'record hash mismatch in the final record' : 'record hash mismatch', end === buf.length);
    }
    visit(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength), o);
    count++;
    o = end;
  }
  return { end: o, count, problem: null };
}
