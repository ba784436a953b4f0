// The PEP blob file: content addressed, durable on acknowledgement, a torn tail cut off on open,
// damage before the tail refused.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { toHex } from '../../kernel/crypto/bytes.js';
import { BLOB_FILE, BlobStore, readBlobs } from '../../kernel/pep/index.js';
import { tempDir } from '../evidence/fixtures.js';

const enc = new TextEncoder();
const hex = (s: string) => toHex(nodeSuite.sha256(enc.encode(s)));

describe('BlobStore', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('helm-blobs-')));
  afterEach(() => cleanup());

  it('stores by SHA-256, deduplicates, and reads back after reopening', async () => {
    const s = await BlobStore.open(dir, nodeSuite);
    const a = s.put(enc.encode('{"a":1}'));
    const again = s.put(enc.encode('{"a":1}'));
    expect(a.hex).toBe(hex('{"a":1}'));
    expect(again.hex).toBe(a.hex);
    await Promise.all([a.durable, again.durable, s.put(enc.encode('{"b":2}')).durable]);
    expect(new TextDecoder().decode((await s.get(a.hex))!)).toBe('{"a":1}');
    await s.close();
    const r = await BlobStore.open(dir, nodeSuite);
    expect(r.has(a.hex) && r.has(hex('{"b":2}'))).toBe(true);
    expect(readFileSync(join(dir, BLOB_FILE)).length).toBe(16 + 2 * (36 + 7));
    await r.close();
    expect([...(await readBlobs(dir, nodeSuite))!.keys()].sort()).toEqual([a.hex, hex('{"b":2}')].sort());
  });

  it('cuts off a torn tail (an interrupted append) on open', async () => {
    const s = await BlobStore.open(dir, nodeSuite);
    await s.put(enc.encode('{"kept":true}')).durable;
    await s.close();
    const path = join(dir, BLOB_FILE);
    const good = readFileSync(path).length;
    appendFileSync(path, Buffer.from([0, 0, 0, 40, 1, 2, 3]));
    expect((await readBlobs(dir, nodeSuite))!.size).toBe(1);
    const r = await BlobStore.open(dir, nodeSuite);
    expect(r.recovered?.reason).toMatch(/short record header/);
    expect(readFileSync(path).length).toBe(good);
    await r.put(enc.encode('{"after":1}')).durable;
    await r.close();
    expect((await readBlobs(dir, nodeSuite))!.size).toBe(2);
  });

  it('refuses a file whose records are damaged before the tail', async () => {
    const s = await BlobStore.open(dir, nodeSuite);
    await Promise.all([s.put(enc.encode('{"x":1}')).durable, s.put(enc.encode('{"y":2}')).durable]);
    await s.close();
    const path = join(dir, BLOB_FILE);
    const b = readFileSync(path);
    b[16 + 36] = b[16 + 36]! ^ 1;
    writeFileSync(path, b);
    await expect(BlobStore.open(dir, nodeSuite)).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
  });

  it('has no blob file until the first open', async () => {
    expect(await readBlobs(dir, nodeSuite)).toBeNull();
  });
});
