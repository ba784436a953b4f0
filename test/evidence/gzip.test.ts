import { gunzipSync, gzipSync } from 'node:zlib';
import { gunzipNode, gzipDeterministic } from '../../kernel/evidence/gzip-node.js';
import { gunzip as gunzipPortable } from '../../kernel/evidence/gzip-portable.js';
import { crc32 } from '../../kernel/evidence/crc32.js';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { PackError } from '../../kernel/evidence/pack-error.js';

async function codeOf(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (e instanceof PackError) return e.code;
    throw e;
  }
  return 'no error';
}

const data = new Uint8Array(300_001).map((_, i) => (i * 7919) % 251);

it('portable CRC-32 agrees with zlib', async () => {
  for (const n of [0, 1, 7, 8, 9, 1000, data.length]) expect(crc32(data.subarray(0, n))).toBe(zlibCrc32(data.subarray(0, n)));
});

// Both readers must accept and refuse exactly the same inputs, with the same codes.
describe.each([
  ['portable (fflate)', gunzipPortable],
  ['node:zlib', gunzipNode],
] as Array<[string, (b: Uint8Array, max: number) => Uint8Array | Promise<Uint8Array>]>)('gunzip: %s', (_name, gunzip) => {

  it('writes a fixed header (mtime 0, XFL 0, OS 255) that zlib and the portable reader both accept', async () => {
    const gz = gzipDeterministic(data);
    expect([...gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(await gunzip(gz, 1 << 20)).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(gzipDeterministic(data)).equals(Buffer.from(gz))).toBe(true);
  });

  it('reads gzip files written by other tools, including a file name and a header CRC', async () => {
    expect(Buffer.from(await gunzip(gzipSync(data), 1 << 20)).equals(Buffer.from(data))).toBe(true);
    const name = Buffer.from('pack.tar\0', 'latin1');
    const head = Buffer.concat([Buffer.of(0x1f, 0x8b, 8, 8 | 2, 1, 2, 3, 4, 0, 3), name]);
    const hcrc = Buffer.alloc(2);
    hcrc.writeUInt16LE(zlibCrc32(head) & 0xffff);
    const plain = gzipDeterministic(data);
    const withName = Buffer.concat([head, hcrc, plain.subarray(10)]);
    expect(Buffer.from(await gunzip(withName, 1 << 20)).equals(Buffer.from(data))).toBe(true);
    withName[head.length] = withName[head.length]! ^ 1;
    await expect(codeOf(() => gunzip(withName, 1 << 20))).resolves.toBe('ERR_PACK_MALFORMED');
  });

  it('refuses a gzip bomb without inflating it, even with a lying ISIZE', async () => {
    const bomb = gzipSync(new Uint8Array(64 << 20));
    expect(bomb.length).toBeLessThan(100_000);
    await expect(codeOf(() => gunzip(bomb, 1 << 20))).resolves.toBe('ERR_PACK_LIMIT');
    const lying = Uint8Array.from(bomb);
    new DataView(lying.buffer).setUint32(lying.length - 4, 10, true);
    await expect(codeOf(() => gunzip(lying, 1 << 20))).resolves.toBe('ERR_PACK_MALFORMED');
  });

  it('refuses trailing data, a second member, a bad CRC or ISIZE, truncation, and non-gzip bytes', async () => {
    const gz = gzipDeterministic(data);
    const body = gz.subarray(0, gz.length - 8);
    const trailer = gz.subarray(gz.length - 8);
    await expect(codeOf(() => gunzip(Buffer.concat([gz, gz]), 1 << 22))).resolves.toBe('ERR_PACK_MALFORMED');
    await expect(codeOf(() => gunzip(Buffer.concat([gz, Buffer.of(0)]), 1 << 22))).resolves.toBe('ERR_PACK_MALFORMED');
    await expect(codeOf(() => gunzip(Buffer.concat([body, Buffer.of(1, 2, 3), trailer]), 1 << 22))).resolves.toBe('ERR_PACK_MALFORMED');
    const crc = Uint8Array.from(gz);
    crc[crc.length - 8] = crc[crc.length - 8]! ^ 1;
    await expect(codeOf(() => gunzip(crc, 1 << 22))).resolves.toBe('ERR_PACK_MALFORMED');
    const isize = Uint8Array.from(gz);
    isize[isize.length - 4] = isize[isize.length - 4]! ^ 1;
    await expect(codeOf(() => gunzip(isize, 1 << 22))).resolves.toBe('ERR_PACK_MALFORMED');
    await expect(codeOf(() => gunzip(gz.subarray(0, gz.length - 30), 1 << 22))).resolves.toBe('ERR_PACK_MALFORMED');
    await expect(codeOf(() => gunzip(new TextEncoder().encode('ustar archive, not gzip'), 1 << 22))).resolves.toBe('ERR_PACK_NOT_GZIP');
  });
});
