// Generated gzip bombs: tiny packs that decompress to far more than the pack reader holds.
// Built by streaming zeros through zlib, so the test never has the decompressed bytes in memory.
import { createGzip } from 'node:zlib';
import { rawMember } from './variants.js';

/** A ustar header (no data) for a regular file of `size` bytes. */
export function fileHeader(path: string, size: number): Uint8Array {
  const h = rawMember(path, '0', new Uint8Array(0)).subarray(0, 512);
  const out = Uint8Array.from(h);
  out.set(new TextEncoder().encode(size.toString(8).padStart(11, '0') + '\0'), 124);
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of out) sum += b;
  out.set(new TextEncoder().encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
  return out;
}

export type BombPart = Uint8Array | { zeros: number };

/** gzip (level 9) of the parts in order; `{zeros: n}` streams n zero bytes. */
export function gzipParts(parts: readonly BombPart[]): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const z = createGzip({ level: 9 });
    const out: Buffer[] = [];
    z.on('data', (c: Buffer) => out.push(c));
    z.on('end', () => resolve(new Uint8Array(Buffer.concat(out))));
    z.on('error', reject);
    const zero = Buffer.alloc(1 << 20);
    const items = [...parts];
    let left = 0;
    const pump = (): void => {
      for (;;) {
        if (left === 0) {
          const p = items.shift();
          if (p === undefined) return void z.end();
          if (p instanceof Uint8Array) {
            if (!z.write(p)) return void z.once('drain', pump);
            continue;
          }
          left = p.zeros;
        }
        const n = Math.min(left, zero.length);
        left -= n;
        if (!z.write(zero.subarray(0, n))) return void z.once('drain', pump);
      }
    };
    pump();
  });
}
