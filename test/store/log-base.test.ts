// A log freed below a base (docs/spec/store.md §10): log-base.json keeps the tile edges at the base
// and the cosigned checkpoint covering it. Readers read from the base on and refuse to read below
// it naming the freed range; a writer reopens it and keeps appending with the same roots; a gap
// without the record stays corruption; a crash between the record and the deletes leaves a log
// that opens (the writer finishes the deletes); a record that does not fit the log is refused.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { signingKeyFromSeed } from '../../kernel/crypto/signing-key.js';
import { BasedTree } from '../../kernel/proofgraph/based-tree.js';
import { signCheckpoint } from '../../kernel/proofgraph/checkpoint.js';
import { LogWriter, readLog } from '../../kernel/proofgraph/store/index.js';
import { parseSegmentFileName } from '../../kernel/proofgraph/store/format.js';
import { deleteSegmentsBelow, LOG_BASE_FILE, LOG_BASE_FORMAT, writeLogBase, type LogBase } from '../../kernel/proofgraph/store/log-base.js';
import { entry, storeError, useTempDir } from './support.js';

const ORIGIN = 'helm.test/log-base';
const SEGMENT_MAX = 4096;
const N = 700; // > two tiles of 256
const logKey = signingKeyFromSeed(ORIGIN, new Uint8Array(32).fill(7), nodeSigner);

/** A closed log of N entries over many segments; the whole tree of its entries; its segment starts. */
async function makeLog(dir: string): Promise<{ tree: BasedTree; starts: number[] }> {
  const w = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: SEGMENT_MAX });
  await Promise.all(Array.from({ length: N }, (_, i) => w.append(entry(i))));
  await w.close();
  const tree = new BasedTree(nodeSuite, 0, []);
  for (let i = 0; i < N; i++) tree.appendEntry(entry(i));
  const starts = readdirSync(dir).map(parseSegmentFileName).filter((x): x is number => x !== null).sort((a, b) => a - b);
  return { tree, starts };
}

function baseRecord(tree: BasedTree, base: number, size: number, edgesAt = base): LogBase {
  const checkpoint = signCheckpoint({ origin: ORIGIN, size, root: tree.root(size), extensions: [] }, logKey);
  return { format: LOG_BASE_FORMAT, origin: ORIGIN, base, edges: BasedTree.edgesToBase64(tree.tileEdges(edgesAt)), checkpoint, trust: [] };
}

const segments = (dir: string): number[] => readdirSync(dir).map(parseSegmentFileName).filter((x): x is number => x !== null).sort((a, b) => a - b);

describe('log base (store.md §10)', () => {
  const tmp = useTempDir('helm-log-base-');

  it('reads from the base on, refuses below it naming the freed range, and a writer continues with the same roots', async () => {
    const dir = join(tmp(), 'w');
    const { tree, starts } = await makeLog(dir);
    const base = starts.find((s) => s > 300)!; // a segment start past the second tile boundary
    await writeLogBase(dir, baseRecord(tree, base, 600));
    expect(await deleteSegmentsBelow(dir, base)).toBeGreaterThan(0);
    expect(segments(dir)[0]).toBe(base);

    const below = await storeError(readLog(dir));
    expect(below.code).toBe('ERR_STORE_FREED');
    expect(below.message).toMatch(new RegExp(`entries 0\\.\\.${base - 1} of ${ORIGIN} were freed.*helmctl export --bucket`));
    const tail = await readLog(dir, { fromBase: true });
    expect([tail.first, tail.entries.length, tail.base?.base]).toEqual([base, N - base, base]);
    expect(Buffer.from(tail.entries[0]!).equals(Buffer.from(entry(base)))).toBe(true);
    expect((await readLog(dir, { from: base + 5 })).first).toBe(base + 5);

    const w = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: SEGMENT_MAX });
    expect(w.size).toBe(N);
    await w.append(entry(N));
    tree.appendEntry(entry(N));
    expect(Buffer.from(w.tree.root()).equals(Buffer.from(tree.root()))).toBe(true);
    await w.close();
  });

  it('a gap without the record is still corruption; a record that does not fit the entries is refused', async () => {
    const dir = join(tmp(), 'w');
    const { tree, starts } = await makeLog(dir);
    const base = starts[3]!;
    await writeLogBase(dir, baseRecord(tree, base, 600));
    await deleteSegmentsBelow(dir, base);
    rmSync(join(dir, LOG_BASE_FILE));
    const gap = await storeError(readLog(dir));
    expect([gap.code, gap.message]).toEqual(['ERR_STORE_CORRUPT', expect.stringMatching(/first segment starts at index \d+, expected 0/)]);
    // Edges of another size: the root of the base checkpoint does not come out.
    await writeLogBase(dir, { ...baseRecord(tree, base, 600), edges: BasedTree.edgesToBase64(tree.tileEdges(base)).map((l) => l.map(() => Buffer.alloc(32).toString('base64'))) });
    expect((await storeError(readLog(dir, { fromBase: true }))).message).toMatch(/do not give the root of the base checkpoint/);
    expect((await storeError(LogWriter.open({ dir, origin: ORIGIN }))).code).toBe('ERR_STORE_CORRUPT');
    // A checkpoint below the base vouches for nothing freed.
    await writeLogBase(dir, baseRecord(tree, base, base - 1));
    expect((await storeError(readLog(dir, { fromBase: true }))).message).toMatch(/does not cover the base/);
    // A base that is not where the segments start.
    await writeLogBase(dir, baseRecord(tree, base - 1, 600));
    expect((await storeError(readLog(dir, { fromBase: true }))).message).toMatch(/log base \(log-base\.json\) is \d+/);
  });

  it('a crash after the record and before (or during) the deletes leaves a log that opens; the writer finishes the free', async () => {
    const dir = join(tmp(), 'w');
    const { tree, starts } = await makeLog(dir);
    const base = starts[5]!;
    await writeLogBase(dir, baseRecord(tree, base, 650));
    writeFileSync(join(dir, `${LOG_BASE_FILE}.tmp`), '{"half'); // an interrupted later rewrite
    rmSync(join(dir, readdirSync(dir).find((f) => parseSegmentFileName(f) === starts[1])!)); // deletes cut short: 0, 2.. left
    // Segments wholly below the base are ignored by readers...
    const tail = await readLog(dir, { fromBase: true });
    expect([tail.first, tail.entries.length]).toEqual([base, N - base]);
    // ...and deleted by the writer's open, which holds the lock.
    const w = await LogWriter.open({ dir, origin: ORIGIN, segmentMaxBytes: SEGMENT_MAX });
    expect(w.size).toBe(N);
    await w.close();
    expect(segments(dir)[0]).toBe(base);
  });
});
