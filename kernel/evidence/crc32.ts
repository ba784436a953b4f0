// CRC-32 (IEEE 802.3, reflected, as gzip uses it). Portable; the node side uses zlib.crc32.
const TABLE = (() => {
  const t = new Uint32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  // Slicing-by-8 tables: eight bytes per step instead of one.
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
})();

/** Continues a CRC-32 over `data` from `crc` (0 for a fresh one). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  let i = 0;
  const n8 = data.length - (data.length % 8);
  for (; i < n8; i += 8) {
    const lo = (c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    c =
      TABLE[7 * 256 + (lo & 0xff)]! ^
      TABLE[6 * 256 + ((lo >>> 8) & 0xff)]! ^
      TABLE[5 * 256 + ((lo >>> 16) & 0xff)]! ^
      TABLE[4 * 256 + (lo >>> 24)]! ^
      TABLE[3 * 256 + data[i + 4]!]! ^
      TABLE[2 * 256 + data[i + 5]!]! ^
      TABLE[256 + data[i + 6]!]! ^
      TABLE[data[i + 7]!]!;
  }
  for (; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
