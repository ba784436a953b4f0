// Portable gunzip for untrusted packs, on fflate's streaming inflater. Input is fed in small chunks
// and output is counted as it appears, so a gzip bomb is refused after at most one chunk's worth
// of expansion. Exactly one gzip member is accepted: the deflate stream must end exactly at the
// 8-byte trailer (no trailing garbage, no second member), and CRC-32 and ISIZE must match.
import { Inflate } from 'fflate';
import { crc32 } from './crc32.js';
import { PackError } from './pack-error.js';

const AT = '<gzip>';
// A deflate stream expands at most ~1032x, so one 32 KiB push yields at most ~33 MiB.
const CHUNK = 32 * 1024;
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

/** A gunzip implementation: the portable one below, or node:zlib's (gzip-node.ts), same rules and codes. */
export type Gunzip = (bytes: Uint8Array, maxOutput: number) => Uint8Array;

/**
 * Decompresses a single-member gzip file of at most `maxOutput` bytes. Throws PackError:
 * ERR_PACK_NOT_GZIP (no gzip magic), ERR_PACK_MALFORMED, ERR_PACK_LIMIT.
 */
export function gunzip(bytes: Uint8Array, maxOutput: number): Uint8Array {
  const start = parseGzipHeader(bytes);
  const tv = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 8);
  const wantCrc = tv.getUint32(0, true);
  const isize = tv.getUint32(4, true);
  // Below 4 GiB ISIZE is the exact length of any valid stream, so the output can be sized up
  // front. Otherwise (or when ISIZE is over the cap: a bomb, or a truncated file whose last bytes
  // are not a trailer) the output is collected in chunks and counted against the cap.
  const fixed = maxOutput < 0x100000000 && isize <= maxOutput ? new Uint8Array(isize) : null;
  const chunks: Uint8Array[] = [];
  let produced = 0;
  const inf = new Inflate((chunk) => {
    if (chunk.length === 0) return;
    if (fixed) {
      if (produced + chunk.length > fixed.length) throw malformed('decompressed data is longer than the gzip trailer says');
      fixed.set(chunk, produced);
    } else {
      if (produced + chunk.length > maxOutput) throw new PackError('ERR_PACK_LIMIT', `decompressed data exceeds ${maxOutput} bytes`, AT);
      chunks.push(chunk);
    }
    produced += chunk.length;
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
  const rest = unusedInput(inf);
  if (rest < 8) throw malformed('gzip trailer is missing or overlaps the deflate data');
  if (rest > 8) throw malformed(`${rest - 8} bytes after the gzip trailer (trailing data or a second member)`);
  let out: Uint8Array;
  if (fixed) out = fixed;
  else {
    out = new Uint8Array(produced);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
  }
  if (produced % 0x100000000 !== isize) throw malformed(`decompressed ${produced} bytes but the gzip trailer says ${isize}`);
  if (crc32(out) !== wantCrc) throw malformed('gzip CRC-32 mismatch');
  return out;
}
