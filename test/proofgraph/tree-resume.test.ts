// Start-up reads only the tail (issue 10 item 8): a start-up snapshot carries the Merkle frontier at
// its size and the leaf before it, so the writer's open reads only the segments from that entry on.
// The whole log stays the check: with snapshots off the open reads (and refuses) every segment.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toBase64 } from '../../kernel/crypto/bytes.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { ChainFold } from '../../kernel/proofgraph/chain-state.js';
import { Frontier } from '../../kernel/proofgraph/frontier.js';
import { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { MerkleTree } from '../../kernel/proofgraph/merkle.js';
import { ResumedTree } from '../../kernel/proofgraph/resumed-tree.js';
import { saveStartSnapshot, snapshotPath, START_SNAPSHOT_FORMAT } from '../../kernel/proofgraph/start-snapshot.js';
import { checkStaticIdentity } from '../../sidecar/identity/static-check.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { makeKeys, publishEvent, tempDir, TestClock } from '../evidence/fixtures.js';

const ORIGIN = 'helm.test/tree-resume';
const keys = makeKeys([ORIGIN]);
const k = keys.logs[ORIGIN]!;

function treeOf(entries: readonly Uint8Array[]): MerkleTree {
  const t = new MerkleTree(nodeSuite);
  for (const e of entries) t.appendEntry(e);
  return t;
}

describe('Merkle frontier', () => {
  const t = treeOf(Array.from({ length: 77 }, (_, i) => Uint8Array.of(i, i >> 8)));
  it('the frontier at every size gives the RFC 6962 root there, and a resumed tree gives the same roots', () => {
    for (let n = 1; n <= 77; n++) expect(toBase64(t.frontierAt(n).root())).toBe(toBase64(t.root(n)));
    for (const base of [1, 13, 32, 64, 76]) {
      const r = ResumedTree.of(nodeSuite, base, t.frontierAt(base).hashes(), t.leaf(base - 1));
      for (let i = base; i < 77; i++) r.appendLeafHash(t.leaf(i));
      for (let n = base; n <= 77; n++) expect([base, n, toBase64(r.root(n))]).toEqual([base, n, toBase64(t.root(n))]);
      expect(() => r.root(base - 1)).toThrow(/no frontier of size/);
    }
  });
  it('refuses a frontier of the wrong shape for its size', () => {
    expect(() => Frontier.of(nodeSuite, 5, t.frontierAt(4).hashes())).toThrow(/has 2 subtree roots, not 1/);
    expect(() => Frontier.of(nodeSuite, 1, [new Uint8Array(31)])).toThrow(/31 bytes/);
  });
});

describe('writer open from a start-up snapshot', () => {
  let dir: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('helm-tree-resume-');
  });
  afterEach(() => dir.cleanup());

  const open = (clock: TestClock, startSnapshot: boolean) =>
    ProofGraphWriter.open({ root: dir.dir, writerId: 'w', origin: ORIGIN, nodeKey: k.node, logKey: k.log, clock: clock.read, trustEvents: [publishEvent(keys, ORIGIN)], checkpointEvery: 50, segmentMaxBytes: 4096, startSnapshot });

  /** A log of ~300 nodes over many segments, and a snapshot at size 200 (with or without its tree). */
  async function logWithSnapshot(o: { lastLeaf?: Uint8Array } = {}) {
    const clock = new TestClock();
    const w = await open(clock, false);
    for (let i = 0; i < 300; i++) {
      clock.advance(10);
      await w.heartbeat('periodic');
    }
    const S = 200;
    const tree = w.treeAt(S);
    await w.close();
    const entries = (await readLog(join(dir.dir, 'w'))).entries;
    const chain = new ChainFold(nodeSuite);
    for (const e of entries.slice(0, S)) chain.apply(e);
    await saveStartSnapshot(join(dir.dir, 'w'), {
      format: START_SNAPSHOT_FORMAT,
      origin: ORIGIN,
      size: S,
      root: tree.root,
      chain: chain.snapshot(),
      pep: null,
      tree: { frontier: tree.frontier, lastLeaf: o.lastLeaf ? toBase64(o.lastLeaf) : tree.lastLeaf },
    }, k.node);
    return { clock, S, entries };
  }

  it('reads no segment wholly before the snapshot, and continues the same tree', async () => {
    const { clock, S, entries } = await logWithSnapshot();
    const logDir = join(dir.dir, 'w');
    const segs = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
    expect(segs.length).toBeGreaterThan(5);
    // Garbage in the first segment's first record: only a reader of that segment would notice.
    const first = join(logDir, segs[0]!);
    const bytes = readFileSync(first);
    bytes[60] = bytes[60]! ^ 0xff;
    writeFileSync(first, bytes);

    const w = await open(clock, true);
    expect(w.treeResumedAt).toBe(S);
    expect(w.startSnapshot.rejected).toBeNull();
    expect(w.startSnapshot.snapshot?.size).toBe(S);
    clock.advance(10);
    await w.heartbeat('periodic');
    const size = w.size;
    const root = toBase64(w.rootAt(size));
    await w.close();
    // The same root as a tree over every original entry and what this run appended.
    const tail = (await readLog(logDir, { from: entries.length })).entries;
    expect(root).toBe(toBase64(treeOf([...entries, ...tail]).root(size)));

    // The whole-log open stays the check: it reads the first segment and refuses it.
    await expect(open(clock, false)).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
  });

  it('the static identity check decodes only the tail after a snapshot signed by the node key', async () => {
    await logWithSnapshot();
    const logDir = join(dir.dir, 'w');
    const first = join(logDir, readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort()[0]!);
    const bytes = readFileSync(first);
    bytes[60] = bytes[60]! ^ 0xff;
    writeFileSync(first, bytes);
    const check = () => checkStaticIdentity({ suite: nodeSuite, nodeKey: k.node, logKey: k.log, origin: ORIGIN, trustEvents: [], logDir });
    await expect(check()).resolves.toBeUndefined();
    // Without the snapshot it must read the whole log (here unreadable), and finds no publication.
    rmSync(snapshotPath(logDir));
    await expect(check()).rejects.toMatchObject({ code: 'ERR_SIDECAR_IDENTITY' });
  });

  it('the static identity check reads the whole log when the log is shorter than the snapshot', async () => {
    await logWithSnapshot();
    const logDir = join(dir.dir, 'w');
    const segs = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
    // Cut the log back below the snapshot's size by removing its later segments.
    for (const name of segs.slice(Math.floor(segs.length / 3))) rmSync(join(logDir, name));
    expect((await readLog(logDir)).entries.length).toBeLessThan(200);
    await expect(checkStaticIdentity({ suite: nodeSuite, nodeKey: k.node, logKey: k.log, origin: ORIGIN, trustEvents: [], logDir })).resolves.toBeUndefined();
  });

  it('a snapshot whose last leaf the log does not have makes the open read every segment', async () => {
    const { clock, S } = await logWithSnapshot({ lastLeaf: new Uint8Array(32).fill(9) });
    const w = await open(clock, true);
    expect(w.treeResumedAt).toBe(0);
    // Its root and chain still match the log, so the folds still start from it.
    expect(w.startSnapshot.snapshot?.size).toBe(S);
    await w.close();
  });
});
