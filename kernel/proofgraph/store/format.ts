// On-disk constants and file naming of the ProofGraph store (normative: docs/spec/store.md).

export const LOG_FORMAT = 1;
export const LOG_FILE = 'LOG';
export const LOCK_FILE = 'LOCK';
export const CHECKPOINTS_FILE = 'checkpoints';

export const SEGMENT_MAGIC = 'HELMPGS1';
export const CHECKPOINTS_MAGIC = 'HELMCKP1';
export const FILE_HEADER_BYTES = 16;
/** u32 big-endian payload length, then SHA-256 of the payload. */
export const RECORD_HEADER_BYTES = 36;
/** Entries (and checkpoint notes) are < 64 KiB, the tlog-tiles entry limit. */
export const MAX_PAYLOAD_BYTES = 65535;
export const DEFAULT_SEGMENT_MAX_BYTES = 64 * 1024 * 1024;

const SEGMENT_NAME = /^(\d{20})\.seg$/;

export function segmentFileName(firstIndex: number): string {
  return `${String(firstIndex).padStart(20, '0')}.seg`;
}

/** First index encoded in a segment file name, or null when `name` is not a segment file. */
export function parseSegmentFileName(name: string): number | null {
  const m = SEGMENT_NAME.exec(name);
  return m ? Number(m[1]) : null;
}

/** Magic (8 ASCII bytes) then u64 big-endian first index (0 for the checkpoints file). */
export function fileHeader(magic: string, firstIndex: number): Buffer {
  const h = Buffer.alloc(FILE_HEADER_BYTES);
  h.write(magic, 0, 'latin1');
  h.writeBigUInt64BE(BigInt(firstIndex), 8);
  return h;
}

/** Bytes that a crash while writing `expected` could have left: a prefix of it, or zeros. */
export function isTornPrefix(actual: Uint8Array, expected: Uint8Array): boolean {
  if (actual.length >= expected.length) return false;
  const prefix = actual.every((b, i) => b === expected[i]);
  return prefix || actual.every((b) => b === 0);
}
