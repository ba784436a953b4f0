// C2SP tlog-tiles layout (kernel/fleet/tiles.ts): paths and bundles from the spec text, and the
// tiles themselves cross-checked with Go's reference golang.org/x/mod/sumdb/tlog (NewTiles +
// ReadTileData, height 8) when Go is installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concat, toBase64, utf8 } from '../../kernel/crypto/bytes.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { MerkleTree } from '../../kernel/proofgraph/merkle.js';
import {
  decodeEntryBundle,
  encodeEntryBundle,
  encodeTileIndex,
  entryBundlePath,
  newBundles,
  newTiles,
  rootFromLeaves,
  tileHashes,
  tilePath,
  TileError,
} from '../../kernel/fleet/tiles.js';
import { describeWithGo, goPath } from '../interop/go-support.js';

const goDir = join(dirname(fileURLToPath(import.meta.url)), 'go-tiles');

function treeOf(n: number): { tree: MerkleTree; entries: Uint8Array[] } {
  const tree = new MerkleTree(nodeSuite);
  const entries = Array.from({ length: n }, (_, i) => utf8(`e${i}`));
  for (const e of entries) tree.appendEntry(e);
  return { tree, entries };
}

describe('tlog-tiles paths (c2sp.org/tlog-tiles)', () => {
  it('encodes indexes as 3-digit elements with x prefixes, as in the spec example', () => {
    expect(encodeTileIndex(1234067)).toBe('x001/x234/067');
    expect(encodeTileIndex(0)).toBe('000');
    expect(encodeTileIndex(999)).toBe('999');
    expect(encodeTileIndex(1000)).toBe('x001/000');
  });
  it('names full and partial tiles and bundles', () => {
    expect(tilePath(0, 1234067)).toBe('tile/0/x001/x234/067');
    expect(tilePath(1, 2, 7)).toBe('tile/1/002.p/7');
    expect(entryBundlePath(3)).toBe('tile/entries/003');
    expect(entryBundlePath(3, 255)).toBe('tile/entries/003.p/255');
    expect(() => tilePath(0, 1, 0)).toThrow(TileError);
    expect(() => tilePath(0, -1)).toThrow(TileError);
  });
});

describe('entry bundles', () => {
  it('round-trips u16 length-prefixed entries, including empty ones', () => {
    const entries = [utf8('a'), new Uint8Array(0), new Uint8Array(300).fill(7)];
    const b = encodeEntryBundle(entries);
    expect(b.length).toBe(2 + 1 + 2 + 2 + 300);
    expect(decodeEntryBundle(b, 3)).toEqual(entries);
  });
  it('refuses truncated bundles and a width that does not match the path', () => {
    const b = encodeEntryBundle([utf8('abc'), utf8('de')]);
    expect(() => decodeEntryBundle(b.subarray(0, b.length - 1))).toThrow(/truncated inside entry 1/);
    expect(() => decodeEntryBundle(b.subarray(0, 6))).toThrow(/truncated inside the length prefix/);
    expect(() => decodeEntryBundle(b, 3)).toThrow(/holds 2 entries, its path says 3/);
    expect(() => encodeEntryBundle([new Uint8Array(65536)])).toThrow(TileError);
  });
});

describe('tile sets and roots', () => {
  it('lists completed full tiles and the right edge of every level', () => {
    expect(newTiles(0, 3)).toEqual([{ level: 0, index: 0, width: 3 }]);
    expect(newTiles(3, 256)).toEqual([{ level: 0, index: 0, width: 256 }, { level: 1, index: 0, width: 1 }]);
    expect(newTiles(256, 256)).toEqual([]);
    expect(newBundles(250, 600)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 0, index: 1, width: 256 },
      { level: 0, index: 2, width: 88 },
    ]);
  });
  it('recomputes the RFC 6962 root from leaf hashes for sizes 0..300', () => {
    const { tree } = treeOf(300);
    for (let n = 0; n <= 300; n++) {
      const leaves = Array.from({ length: n }, (_, i) => tree.leaf(i));
      expect(toBase64(rootFromLeaves(nodeSuite, leaves))).toBe(toBase64(tree.root(n)));
    }
  });
  it('level-0 tile hashes are the leaf hashes of the bundle entries', () => {
    const { tree, entries } = treeOf(300);
    const hashes = tileHashes(tree, { level: 0, index: 1, width: 44 });
    const bundle = decodeEntryBundle(encodeEntryBundle(entries.slice(256, 300)), 44);
    expect(hashes.map(toBase64)).toEqual(bundle.map((e) => toBase64(nodeSuite.sha256(concat(Uint8Array.of(0), e)))));
  });
});

describeWithGo('tlog-tiles cross-checked with Go golang.org/x/mod/sumdb/tlog', () => {
  let bin: string;
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'helm-tiles-'));
    bin = join(work, 'helm-tiles-interop');
    const r = spawnSync('go', ['build', '-o', bin, '.'], { cwd: goDir, env: { ...process.env, GO111MODULE: 'off', GOPATH: goPath, GOCACHE: join(work, 'cache'), GOFLAGS: '' }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`go build failed: ${r.stderr}`);
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('our tiles for each growth step are the tiles Go publishes, byte for byte', () => {
    const N = 66_000; // past 256^2, so level-2 tiles appear
    const { tree, entries } = treeOf(N);
    const steps: Array<[number, number]> = [[0, 1], [0, 300], [1, 256], [255, 257], [300, 65_536], [65_535, 65_537], [1000, N]];
    const r = spawnSync(bin, [], { input: JSON.stringify({ entries: entries.map(toBase64), steps }), encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(r.status).toBe(0);
    const goTiles = JSON.parse(r.stdout) as Array<Array<{ path: string; data: string }> | null>;
    steps.forEach(([a, b], k) => {
      // Go also lists the intermediate partial widths of the edge tile; a publisher writes the widest.
      const widest = new Map<string, { path: string; data: string }>();
      for (const t of goTiles[k] ?? []) {
        const path = t.path.replace(/^tile\/8\//, 'tile/');
        const base = path.replace(/\.p\/\d+$/, '');
        const width = /\.p\/(\d+)$/.exec(path)?.[1];
        const prev = widest.get(base);
        const prevWidth = prev ? Number(/\.p\/(\d+)$/.exec(prev.path)?.[1] ?? 256) : 0;
        if (Number(width ?? 256) >= prevWidth) widest.set(base, { path, data: t.data });
      }
      const ours = newTiles(a, b).map((t) => ({ path: tilePath(t.level, t.index, t.width), data: toBase64(concat(...tileHashes(tree, t))) }));
      expect(ours.sort((x, y) => (x.path < y.path ? -1 : 1))).toEqual([...widest.values()].sort((x, y) => (x.path < y.path ? -1 : 1)));
    });
  });
});
