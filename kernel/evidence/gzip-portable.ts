// Portable gunzip for untrusted packs, on fflate's streaming inflater. Input is fed in small chunks
// and output is counted and handed on as it appears (never collected), so a gzip bomb is refused
// after at most one chunk's worth of expansion. Exactly one gzip member is accepted: the deflate stream must end exactly at the
// 8-byte trailer (no trailing garbage, no second member), and CRC-32 and ISIZE must match.
import { Inflate } from 'fflate';
import { concat } from '../crypto/bytes.js';
import { crc32 } from './crc32.js';
import { PackError } from './pack-error.js';

const AT = '<gzip>';
// A deflate stream expands at most ~1032x, so one 8 KiB push yields at most ~8.3 MiB.
const CHUNK = 8 * 1024;
const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

function malformed(message: string): PackError {
  return new PackError('ERR_PACK_MALFORMED', message, AT);
}

function skipZeroTerminated(b: Uint8Array, off: number, what: string): number {
  const end = b.indexOf(0, off);
  if (end < 0) throw malformed(`gzip ${what} is not terminated`);
  return end + 1;
}

/** Returns the offset of the deflate data after an RFC 1952 member header. */
export function parseGzipHeader(b: Uint8Array): number {
  if (b.length < 2 || b[0] !== 0x1f || b[1] !== 0x8b) throw new PackError('ERR_PACK_NOT_GZIP', 'not a gzip file (bad magic bytes)', AT);
  if (b.length < 18) throw malformed('gzip file is truncated');
  if (b[2] !== 8) throw malformed(`gzip compression method ${b[2]} is not deflate`);
  const flg = b[3]!;
  if (flg & 0xe0) throw malformed('gzip header has reserved flag bits set');
  let off = 10;
  if (flg & FEXTRA) {
    if (off + 2 > b.length) throw malformed('gzip extra field is truncated');
    off += 2 + (b[off]! | (b[off + 1]! << 8));
  }
  if (flg & FNAME) off = skipZeroTerminated(b, off, 'file name');
  if (flg & FCOMMENT) off = skipZeroTerminated(b, off, 'comment');
  if (flg & FHCRC) {
    if (off + 2 > b.length) throw malformed('gzip header CRC is truncated');
    const want = b[off]! | (b[off + 1]! << 8);
    if ((crc32(b.subarray(0, off)) & 0xffff) !== want) throw malformed('gzip header CRC mismatch');
    off += 2;
  }
  if (off + 8 > b.length) throw malformed('gzip file is truncated');
  return off;
}

// fflate does not expose how much input the deflate stream used; its inflater keeps the unread
// input in `p` and the bit offset into p[0] in `s.p`. We read both (pinned fflate 0.8) and fail
// closed if their shape ever changes, because without them trailing data would go unnoticed.
interface InflateInternals {
  p?: unknown;
  s?: { p?: unknown; f?: unknown; l?: unknown };
}

function unusedInput(inf: Inflate): number {
  const x = inf as unknown as InflateInternals;
  if (!(x.p instanceof Uint8Array) || typeof x.s?.p !== 'number' || !x.s.f || x.s.l) {
    throw malformed('cannot tell where the deflate stream ends (unexpected inflater state)');
  }
  return x.p.length - (x.s.p & 7 ? 1 : 0);
}

/** Receives decompressed bytes as they appear; it may throw (a PackError) to stop inflation. */
export type InflateSink = (chunk: Uint8Array) => void;

/**
 * A streaming gunzip: the portable one below, or node:zlib's (gzip-node.ts), same rules and codes.
 * It hands the output to `sink` chunk by chunk and never holds it, so memory does not grow with
 * the decompressed size; more than `maxOutput` bytes is ERR_PACK_LIMIT.
 */
export type GunzipStream = (bytes: Uint8Array, maxOutput: number, sink: InflateSink) => void | Promise<void>;

/** A whole-buffer gunzip (tests and tools); the verifier streams (GunzipStream). */
export type Gunzip = (bytes: Uint8Array, maxOutput: number) => Uint8Array;

/** How much output a stream may give before it is refused, and which error that is. */
export function outputCap(maxOutput: number, isize: number): { cap: number; over: () => PackError } {
  // Below 4 GiB ISIZE is the exact length of any valid stream: with ISIZE under the cap, more
  // output than ISIZE is malformed; otherwise (a bomb, or a lying trailer) more than the cap is
  // over the limit.
  if (maxOutput < 0x100000000 && isize <= maxOutput) return { cap: isize, over: () => malformed('decompressed data is longer than the gzip trailer says') };
  return { cap: maxOutput, over: () => new PackError('ERR_PACK_LIMIT', `decompressed data exceeds ${maxOutput} bytes`, AT) };
}

/** Checks after the deflate stream ended: nothing but the trailer follows, and ISIZE and CRC-32 match. */
export function checkTrailer(rest: number, produced: number, crc: number, isize: number, wantCrc: number): void {
  if (rest < 8) throw malformed('gzip trailer is missing or overlaps the deflate data');
  if (rest > 8) throw malformed(`${rest - 8} bytes after the gzip trailer (trailing data or a second member)`);
  if (produced % 0x100000000 !== isize) throw malformed(`decompressed ${produced} bytes but the gzip trailer says ${isize}`);
  if (crc !== wantCrc) throw malformed('gzip CRC-32 mismatch');
}

/**
 * Streams a single-member gzip file into `sink`, at most `maxOutput` bytes. Throws PackError:
 * ERR_PACK_NOT_GZIP (no gzip magic), ERR_PACK_MALFORMED, ERR_PACK_LIMIT, or what the sink threw.
 */
export function gunzipTo(bytes: Uint8Array, maxOutput: number, sink: InflateSink): void {
  const start = parseGzipHeader(bytes);
  const tv = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 8);
  const wantCrc = tv.getUint32(0, true);
  const isize = tv.getUint32(4, true);
  const { cap, over } = outputCap(maxOutput, isize);
  let produced = 0;
  let crc = 0;
  const inf = new Inflate((chunk) => {
    if (chunk.length === 0) return;
    if (produced + chunk.length > cap) throw over();
    produced += chunk.length;
    crc = crc32(chunk, crc);
    sink(chunk);
  });
  try {
    for (let off = start; off < bytes.length; off += CHUNK) {
      const end = Math.min(off + CHUNK, bytes.length);
      inf.push(bytes.subarray(off, end), end === bytes.length);
    }
  } catch (e) {
    if (e instanceof PackError) throw e;
    throw malformed(`deflate stream: ${(e as Error).message}`);
  }
  checkTrailer(unusedInput(inf), produced, crc, isize, wantCrc);
}

/** Collects a GunzipStream's output into one buffer (for tests and tools, not for untrusted packs). */
export function collect(stream: (sink: InflateSink) => void): Uint8Array {
  const chunks: Uint8Array[] = [];
  stream((c) => {
    chunks.push(Uint8Array.from(c));
  });
  return concat(...chunks);
}

/** Decompresses a single-member gzip file of at most `maxOutput` bytes into one buffer. */
export function gunzip(bytes: Uint8Array, maxOutput: number): Uint8Array {
  return collect((sink) => gunzipTo(bytes, maxOutput, sink));
}
