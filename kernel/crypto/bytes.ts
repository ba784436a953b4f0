// Byte helpers that run anywhere (Node and browsers): the offline verifier imports this file,
// so it must not import from node:.

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
// Node's Buffer codecs are several times faster than TextEncoder and the base64 loops below for
// the ~1 KB strings of the receipt hot path; browsers use the portable code. Output is identical.
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

export function utf8(s: string): Uint8Array {
  return NodeBuffer ? NodeBuffer.from(s, 'utf8') : encoder.encode(s);
}

/** Bytes of `s` in UTF-8 (a lone surrogate counts as U+FFFD's 3, as the encoders write it). */
export function utf8ByteLength(s: string): number {
  return NodeBuffer ? NodeBuffer.byteLength(s, 'utf8') : portableUtf8ByteLength(s);
}

/** utf8ByteLength without Buffer (browsers); exported for the test that compares the two. */
export function portableUtf8ByteLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: 2 units, 4 bytes
      i++;
    } else n += 2;
  }
  return n;
}

/** Decodes UTF-8, throwing on invalid sequences instead of substituting U+FFFD. */
export function fromUtf8(b: Uint8Array): string {
  return strictDecoder.decode(b);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

const HEX = '0123456789abcdef';
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
  return s;
}

export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new Error(`invalid hex string of length ${s.length}`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

// Strict decoding re-checks Buffer's lenient base64 decoder by re-encoding.
/** Standard base64 (RFC 4648 §4) with padding. */
export function toBase64(b: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    s += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i]! << 16;
    s += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8);
    s += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + '=';
  }
  return s;
}

/**
 * Strict standard base64: padding required, no whitespace, and non-zero trailing bits rejected,
 * so every byte string has exactly one accepted encoding (signed data must not be malleable).
 */
export function fromBase64(s: string): Uint8Array {
  if (s.length % 4 !== 0) throw new Error('invalid base64: length is not a multiple of 4');
  if (NodeBuffer) {
    const b = NodeBuffer.from(s, 'base64');
    if (b.toString('base64') === s) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    // Not the unique canonical encoding: fall through for a precise error message.
  }
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const v = [0, 0, 0, 0];
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      if (last && c === 61 /* = */ && j >= 4 - pad) continue;
      const x = c < 128 ? B64_INDEX[c]! : -1;
      if (x < 0) throw new Error(`invalid base64 character at offset ${i + j}`);
      v[j] = x;
    }
    const n = (v[0]! << 18) | (v[1]! << 12) | (v[2]! << 6) | v[3]!;
    if (last && pad === 2 && (n & 0xffff) !== 0) throw new Error('invalid base64: non-zero padding bits');
    if (last && pad === 1 && (n & 0xff) !== 0) throw new Error('invalid base64: non-zero padding bits');
    out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
