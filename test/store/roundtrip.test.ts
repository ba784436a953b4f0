import { readFileSync, readdirSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { equalBytes, toHex } from '../../kernel/crypto/bytes.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { portableSuite } from '../../kernel/crypto/portable.js';
import { MerkleTree } from '../../kernel/proofgraph/merkle.js';
import { LogWriter, readLog, readStore, segmentFileName } from '../../kernel/proofgraph/store/index.js';
import { entry, storeError, useTempDir } from './support.js';

const ORIGIN = 'helm.test/writer-a';

function treeOf(entries: Uint8Array[]): MerkleTree {
  const t = new MerkleTree(nodeSuite);
  for (const e of entries) t.appendEntry(e);
  return t;
}

describe('LogWriter round trip', () => {
  const tmp = useTempDir();

  it('creates the directory and LOG, appends contiguously, and reopens with the same tree', async () => {
    const dir = join(tmp(), 'store', 'writer-a');
    const w = await LogWriter.open({ dir, origin: ORIGIN });
    expect(readFileSync(join(dir, 'LOG'), 'utf8')).toBe(`{"origin":"${ORIGIN}","format":1}\n`);
    expect(w.size).toBe(0);
    expect(w.lastEntry()).toBeNull();
    expect(w.recovery).toEqual({ entries: 0, segments: 0, tornTail: null, checkpointsTornTail: null });

    const sequential: number[] = [];
    for (let i = 0; i < 10; i++) sequential.push(await w.append(entry(i)));
    const concurrent = await Promise.all(Array.from({ length: 90 }, (_, k) => w.append(entry(10 + k))));
    expect([...sequential, ...concurrent]).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(w.size).toBe(100);
    expect(w.durableSize).toBe(100);
    expect(equalBytes(w.lastEntry()!, entry(99))).toBe(true);
    const root = w.tree.root();
    await w.close();

    const log = await readLog(dir);
    expect(log).toMatchObject({ writerId: 'writer-a', dir, origin: ORIGIN, checkpoints: [], tornTail: null });
    expect(log.entries).toHaveLength(100);
    log.entries.forEach((e, i) => expect(equalBytes(e, entry(i))).toBe(true));
    expect(toHex(treeOf(log.entries).root())).toBe(toHex(root));

    const again = await LogWriter.open({ dir, origin: ORIGIN });
    expect(again.recovery).toEqual({ entries: 100, segments: 1, tornTail: null, checkpointsTornTail: null });
    expect(again.size).toBe(100);
    expect(again.durableSize).toBe(100);
    expect(toHex(again.tree.root())).toBe(toHex(root));
    expect(equalBytes(again.lastEntry()!, entry(99))).toBe(true);
    expect(await again.append(entry(100))).toBe(100);
    await again.close();
    expect((await readLog(dir)).entries).toHaveLength(101);
  });

  it('assigns the index and updates the tree synchronously, before durability', async () => {
    const w = await LogWriter.open({ dir: join(tmp(), 'w'), origin: ORIGIN });
    const p = w.append(entry(0));
    expect(w.size).toBe(1);
    expect(w.durableSize).toBe(0);
    expect(toHex(w.tree.root())).toBe(toHex(treeOf([entry(0)]).root()));
    expect(equalBytes(w.lastEntry()!, entry(0))).toBe(true);
    await p;
    expect(w.durableSize).toBe(1);
    await w.close();
  });

  it('copies the entry, so the caller may reuse its buffer right away', async () => {
    const dir = join(tmp(), 'w');
    const w = await LogWriter.open({ dir, origin: ORIGIN });
    const buf = Uint8Array.from(entry(1));
    const p = w.append(buf);
    buf.fill(0);
    await p;
    await w.close();
    expect(equalBytes((await readLog(dir)).entries[0]!, entry(1))).toBe(true);
  });

  it('reads only the tail from an index: segments wholly before it are not opened', async () => {
    const dir = join(tmp(), 'tail');
    const w = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: 1024 });
    const all: Uint8Array[] = [];
    for (let i = 0; i < 80; i++) all.push(entry(i));
    await Promise.all(all.map((e) => w.append(e)));
    await w.close();
    const segs = readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();
    expect(segs.length).toBeGreaterThan(3);
    for (const from of [0, 1, 37, 79, 80, 500]) {
      const tail = await readLog(dir, { from });
      expect(tail.first).toBe(Math.min(from, 80));
      expect(tail.entries.map((e) => toHex(e))).toEqual(all.slice(from).map((e) => toHex(e)));
    }
    // Proof that skipped segments are not read: garbage in the first segment's records goes
    // unnoticed by a tail read from the last segment, while a whole read still refuses it.
    const firstSeg = join(dir, segs[0]!);
    const bytes = readFileSync(firstSeg);
    bytes[20] = bytes[20]! ^ 0xff;
    writeFileSync(firstSeg, bytes);
    const lastFirst = Number(readFileSync(join(dir, segs.at(-1)!)).readBigUInt64BE(8));
    expect((await readLog(dir, { from: lastFirst })).entries.length).toBe(80 - lastFirst);
    // (The writer's open still scans every segment in repair mode, so it refuses this log.)
    expect((await storeError(readLog(dir))).code).toBe('ERR_STORE_CORRUPT');
  });

  it('rotates across several segments and keeps every byte', async () => {
    const dir = join(tmp(), 'w');
    const max = 1024;
    const w = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: max });
    const big = new Uint8Array(3000).fill(7); // larger than a segment: gets one to itself
    const all: Uint8Array[] = [];
    const ps: Promise<number>[] = [];
    for (let i = 0; i < 60; i++) {
      const e = i === 25 ? big : entry(i);
      all.push(e);
      ps.push(w.append(e));
    }
    await Promise.all(ps);
    await w.close();

    const segs = readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();
    expect(segs.length).toBeGreaterThan(4);
    let first = 0;
    for (const name of segs) {
      const bytes = readFileSync(join(dir, name));
      expect(name).toBe(segmentFileName(first));
      expect(bytes.subarray(0, 8).toString('latin1')).toBe('HELMPGS1');
      expect(bytes.readBigUInt64BE(8)).toBe(BigInt(first));
      let o = 16;
      let n = 0;
      while (o < bytes.length) {
        o += 36 + bytes.readUInt32BE(o);
        n++;
      }
      expect(o).toBe(bytes.length);
      expect(n).toBeGreaterThanOrEqual(1);
      if (n > 1) expect(bytes.length).toBeLessThanOrEqual(max);
      first += n;
    }
    expect(first).toBe(60);
    expect(statSync(join(dir, segmentFileName(25))).size).toBe(16 + 36 + 3000);

    const log = await readLog(dir);
    expect(log.entries).toHaveLength(60);
    log.entries.forEach((e, i) => expect(equalBytes(e, all[i]!)).toBe(true));

    const again = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: max });
    expect(again.recovery.segments).toBe(segs.length);
    expect(toHex(again.tree.root())).toBe(toHex(treeOf(all).root()));
    await again.close();
  });

  it('stores checkpoint notes durably and in order', async () => {
    const dir = join(tmp(), 'w');
    const w = await LogWriter.open({ dir, origin: ORIGIN });
    await w.append(entry(0));
    const notes = ['helm.test/writer-a\n1\nAAAA\n\n— sig ✓\n', 'second'];
    await Promise.all(notes.map((n) => w.appendCheckpoint(n)));
    expect(w.checkpoints()).toEqual(notes);
    await w.close();
    expect((await readLog(dir)).checkpoints).toEqual(notes);
    const again = await LogWriter.open({ dir, origin: ORIGIN });
    expect(again.checkpoints()).toEqual(notes);
    await again.appendCheckpoint('third');
    await again.close();
    expect((await readLog(dir)).checkpoints).toEqual([...notes, 'third']);
  });

  it('gives the same tree with the portable crypto suite', async () => {
    const dir = join(tmp(), 'w');
    const w = await LogWriter.open({ dir, origin: ORIGIN, suite: portableSuite });
    await Promise.all(Array.from({ length: 20 }, (_, i) => w.append(entry(i))));
    await w.close();
    const log = await readLog(dir);
    expect(toHex(w.tree.root())).toBe(toHex(treeOf(log.entries).root()));
    const again = await LogWriter.open({ dir, origin: ORIGIN, suite: portableSuite });
    expect(toHex(again.tree.root())).toBe(toHex(w.tree.root()));
    await again.close();
  });

  it('refuses oversized entries without accepting them, and accepts 65535 bytes', async () => {
    const w = await LogWriter.open({ dir: join(tmp(), 'w'), origin: ORIGIN });
    const err = await storeError(w.append(new Uint8Array(65536)));
    expect(err.code).toBe('ERR_ENTRY_TOO_LARGE');
    expect(w.size).toBe(0);
    expect(await w.append(new Uint8Array(65535))).toBe(0);
    expect(await w.append(new Uint8Array(0))).toBe(1);
    expect((await storeError(w.appendCheckpoint('x'.repeat(65536)))).code).toBe('ERR_ENTRY_TOO_LARGE');
    await w.close();
  });

  it('refuses another origin and appends after close', async () => {
    const dir = join(tmp(), 'w');
    const w = await LogWriter.open({ dir, origin: ORIGIN });
    await w.close();
    expect((await storeError(w.append(entry(0)))).code).toBe('ERR_STORE_CLOSED');
    expect((await storeError(w.appendCheckpoint('n'))).code).toBe('ERR_STORE_CLOSED');
    const err = await storeError(LogWriter.open({ dir, origin: 'helm.test/other' }));
    expect(err.code).toBe('ERR_STORE_ORIGIN_MISMATCH');
    expect(err.message).toContain(ORIGIN);
    // The refused open released its lock.
    await (await LogWriter.open({ dir, origin: ORIGIN })).close();
  });
});

describe('readStore', () => {
  const tmp = useTempDir();

  it('reads every writer subdirectory that has a LOG, sorted by writer id', async () => {
    const root = tmp();
    const ids = ['w-c', 'w-a', 'w-b'];
    for (const [k, id] of ids.entries()) {
      const w = await LogWriter.open({ dir: join(root, id), origin: `helm.test/${id}`, segmentMaxBytes: 512 });
      await Promise.all(Array.from({ length: 5 + k * 10 }, (_, i) => w.append(entry(i))));
      await w.appendCheckpoint(`cp ${id}`);
      await w.close();
    }
    mkdirSync(join(root, 'not-a-log'));
    writeFileSync(join(root, 'stray-file'), 'x');
    const logs = await readStore(root);
    expect(logs.map((l) => l.writerId)).toEqual(['w-a', 'w-b', 'w-c']);
    expect(logs.map((l) => l.origin)).toEqual(['helm.test/w-a', 'helm.test/w-b', 'helm.test/w-c']);
    expect(logs.map((l) => l.entries.length)).toEqual([15, 25, 5]);
    expect(logs.map((l) => l.checkpoints)).toEqual([['cp w-a'], ['cp w-b'], ['cp w-c']]);
    expect(equalBytes(logs[1]!.entries[24]!, entry(24))).toBe(true);
  });

  it('reads a log while its writer is open and appending', async () => {
    const dir = join(tmp(), 'live');
    const w = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: 2048 });
    const ps: Promise<number>[] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 20; i++) ps.push(w.append(entry(round * 20 + i)));
      const durableBefore = w.durableSize;
      const log = await readLog(dir);
      expect(log.entries.length).toBeGreaterThanOrEqual(durableBefore);
      expect(log.entries.length).toBeLessThanOrEqual(w.size);
      log.entries.forEach((e, i) => expect(equalBytes(e, entry(i))).toBe(true));
    }
    await Promise.all(ps);
    const seen = await readLog(dir);
    expect(seen.entries.length).toBe(400);
    await w.close();
  });

  it('rejects a directory without a LOG file', async () => {
    expect((await storeError(readLog(tmp()))).code).toBe('ERR_STORE_CORRUPT');
  });
});
