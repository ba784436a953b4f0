import { appendFileSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { equalBytes, toHex } from '../../kernel/crypto/bytes.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { MerkleTree } from '../../kernel/proofgraph/merkle.js';
import { LogWriter, readLog, segmentFileName } from '../../kernel/proofgraph/store/index.js';
import { entry, sha256Hex, storeError, useTempDir } from './support.js';

const ORIGIN = 'helm.test/recovery';
const SEGMENT_MAX = 1024;

/** A closed log of `n` entries spread over several segments; returns its segment file names. */
async function makeLog(dir: string, n = 40): Promise<string[]> {
  const w = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: SEGMENT_MAX });
  await Promise.all(Array.from({ length: n }, (_, i) => w.append(entry(i))));
  await w.appendCheckpoint('cp-1');
  await w.appendCheckpoint('cp-2');
  await w.close();
  return readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();
}

function flip(bytes: Buffer, offset: number, mask: number): void {
  bytes.writeUInt8(bytes.readUInt8(offset) ^ mask, offset);
}

function record(payload: Uint8Array, hash = Buffer.from(sha256Hex(payload), 'hex')): Buffer {
  const head = Buffer.alloc(36);
  head.writeUInt32BE(payload.length, 0);
  hash.copy(head, 4);
  return Buffer.concat([head, payload]);
}

const tornKinds: Array<[string, () => Buffer, RegExp]> = [
  ['short record header', () => record(entry(1000)).subarray(0, 20), /short record header \(20 of 36 bytes\)/],
  ['short record body', () => record(entry(1000)).subarray(0, 50), /short record body/],
  ['hash mismatch in the final record', () => record(entry(1000), Buffer.alloc(32, 0xab)), /record hash mismatch in the final record/],
  ['zero-filled tail', () => Buffer.alloc(4096), /zero-filled tail \(4096 bytes\)/],
];

describe('recovery of a torn tail', () => {
  const tmp = useTempDir();

  it.each(tornKinds)('%s: the reader leaves it out, the writer truncates and reports it', async (_kind, garbage, reason) => {
    const dir = join(tmp(), 'w');
    const segs = await makeLog(dir);
    const lastName = segs.at(-1)!;
    const last = join(dir, lastName);
    const cleanSize = statSync(last).size;
    const bad = garbage();
    appendFileSync(last, bad);

    const read = await readLog(dir);
    expect(read.entries).toHaveLength(40);
    expect(read.tornTail).toMatchObject({ segment: lastName, offset: cleanSize, truncatedBytes: bad.length });
    expect(read.tornTail!.reason).toMatch(reason);
    expect(statSync(last).size).toBe(cleanSize + bad.length); // the reader changes nothing

    const w = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: SEGMENT_MAX });
    expect(w.recovery.entries).toBe(40);
    expect(w.recovery.segments).toBe(segs.length);
    expect(w.recovery.tornTail).toMatchObject({ segment: lastName, offset: cleanSize, truncatedBytes: bad.length });
    expect(w.recovery.tornTail!.reason).toMatch(reason);
    expect(w.recovery.checkpointsTornTail).toBeNull();
    expect(statSync(last).size).toBe(cleanSize);
    expect(await w.append(entry(40))).toBe(40);
    await w.close();

    const after = await readLog(dir);
    expect(after.tornTail).toBeNull();
    expect(after.entries).toHaveLength(41);
    after.entries.forEach((e, i) => expect(equalBytes(e, entry(i))).toBe(true));
    const reopened = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: SEGMENT_MAX });
    expect(reopened.recovery.tornTail).toBeNull();
    const t = new MerkleTree(nodeSuite);
    after.entries.forEach((e) => t.appendEntry(e));
    expect(toHex(reopened.tree.root())).toBe(toHex(t.root()));
    await reopened.close();
  });

  it('a new last segment with a cut-short header holds no records and is rewritten', async () => {
    const dir = join(tmp(), 'w');
    await makeLog(dir);
    const name = segmentFileName(40);
    writeFileSync(join(dir, name), Buffer.from('HELMPGS'));
    expect((await readLog(dir)).tornTail).toMatchObject({ segment: name, offset: 0, truncatedBytes: 7 });
    const w = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: SEGMENT_MAX });
    expect(w.recovery.tornTail).toMatchObject({ segment: name, offset: 0, truncatedBytes: 7, reason: 'short segment header (7 of 16 bytes)' });
    expect(await w.append(entry(40))).toBe(40);
    await w.close();
    const log = await readLog(dir);
    expect(log.tornTail).toBeNull();
    expect(log.entries).toHaveLength(41);
    expect(readFileSync(join(dir, name)).subarray(0, 8).toString('latin1')).toBe('HELMPGS1');
  });

  it('a torn tail of the checkpoints file is truncated and reported', async () => {
    const dir = join(tmp(), 'w');
    await makeLog(dir);
    const path = join(dir, 'checkpoints');
    const clean = statSync(path).size;
    appendFileSync(path, record(Buffer.from('cp-3')).subarray(0, 30));
    expect((await readLog(dir)).checkpoints).toEqual(['cp-1', 'cp-2']);
    const w = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: SEGMENT_MAX });
    expect(w.recovery.checkpointsTornTail).toEqual({ offset: clean, truncatedBytes: 30 });
    expect(w.recovery.tornTail).toBeNull();
    expect(w.checkpoints()).toEqual(['cp-1', 'cp-2']);
    expect(statSync(path).size).toBe(clean);
    await w.appendCheckpoint('cp-3');
    await w.close();
    expect((await readLog(dir)).checkpoints).toEqual(['cp-1', 'cp-2', 'cp-3']);
  });
});

describe('corruption is refused', () => {
  const tmp = useTempDir();

  async function expectCorrupt(dir: string, file: string, offset: number, problem: RegExp): Promise<void> {
    for (const attempt of [() => readLog(dir), () => LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: SEGMENT_MAX })]) {
      const err = await storeError(attempt());
      expect(err.code).toBe('ERR_STORE_CORRUPT');
      expect(err.message).toContain(join(dir, file));
      expect(err.message).toContain(`byte offset ${offset}`);
      expect(err.message).toMatch(problem);
      expect(err.details).toMatchObject({ file: join(dir, file), offset });
    }
    // The refused writer released its lock.
    expect(readdirSync(dir)).not.toContain('LOCK');
  }

  it('a flipped byte in an early record (first segment)', async () => {
    const dir = join(tmp(), 'w');
    const segs = await makeLog(dir);
    const path = join(dir, segs[0]!);
    const bytes = readFileSync(path);
    const second = 16 + 36 + bytes.readUInt32BE(16);
    flip(bytes, second + 36 + 3, 0x01); // inside the second record's entry
    writeFileSync(path, bytes);
    await expectCorrupt(dir, segs[0]!, second, /record hash mismatch/);
  });

  it('a flipped byte in a record of the last segment that is followed by more records', async () => {
    const dir = join(tmp(), 'w');
    const segs = await makeLog(dir);
    const path = join(dir, segs.at(-1)!);
    const bytes = readFileSync(path);
    expect(bytes.length).toBeGreaterThan(16 + 36 + bytes.readUInt32BE(16));
    flip(bytes, 16 + 4, 0x80); // the first record's stored hash
    writeFileSync(path, bytes);
    await expectCorrupt(dir, segs.at(-1)!, 16, /record hash mismatch$/);
  });

  it('a missing middle segment', async () => {
    const dir = join(tmp(), 'w');
    const segs = await makeLog(dir);
    expect(segs.length).toBeGreaterThanOrEqual(3);
    rmSync(join(dir, segs[1]!));
    await expectCorrupt(dir, segs[2]!, 0, new RegExp(`missing segment ${segs[1]!.replace('.', '\\.')}`));
  });

  it('a missing first segment', async () => {
    const dir = join(tmp(), 'w');
    const segs = await makeLog(dir);
    rmSync(join(dir, segs[0]!));
    await expectCorrupt(dir, segs[1]!, 0, /first segment starts at index \d+, expected 0/);
  });

  it('a torn-looking tail in a segment that is not the last', async () => {
    const dir = join(tmp(), 'w');
    const segs = await makeLog(dir);
    const path = join(dir, segs[1]!);
    const size = statSync(path).size;
    truncateSync(path, size - 5);
    const bytes = readFileSync(path);
    let o = 16;
    while (o + 36 + bytes.readUInt32BE(o) <= bytes.length) o += 36 + bytes.readUInt32BE(o);
    await expectCorrupt(dir, segs[1]!, o, /short record body .*only the last segment may end in an interrupted append/);
  });

  it('a bad segment header', async () => {
    const dir = join(tmp(), 'w');
    const segs = await makeLog(dir);
    const path = join(dir, segs[1]!);
    const bytes = readFileSync(path);
    flip(bytes, 15, 0x01); // first index in the header no longer matches the file name
    writeFileSync(path, bytes);
    await expectCorrupt(dir, segs[1]!, 0, /bad segment header/);
  });

  it('an impossible record length', async () => {
    const dir = join(tmp(), 'w');
    const segs = await makeLog(dir);
    const path = join(dir, segs.at(-1)!);
    const bytes = readFileSync(path);
    bytes.writeUInt32BE(0x00ff0000, 16);
    writeFileSync(path, bytes);
    await expectCorrupt(dir, segs.at(-1)!, 16, /record length 16711680 exceeds 65535/);
  });

  it('a flipped byte in an early checkpoint', async () => {
    const dir = join(tmp(), 'w');
    await makeLog(dir);
    const path = join(dir, 'checkpoints');
    const bytes = readFileSync(path);
    flip(bytes, 16 + 36, 0x01);
    writeFileSync(path, bytes);
    await expectCorrupt(dir, 'checkpoints', 16, /record hash mismatch/);
  });

  it('segments without a LOG file', async () => {
    const dir = join(tmp(), 'w');
    await makeLog(dir);
    rmSync(join(dir, 'LOG'));
    await expectCorrupt(dir, 'LOG', 0, /no LOG file|LOG file is missing but the directory holds log data/);
  });
});
