// BasedTree (a log whose entries below a base were freed, docs/spec/store.md §10) answers what a
// whole tree answers for every size from the base on: roots, frontiers, consistency proofs and the
// tiles a log publishes as it grows; and refuses a hash it no longer has.
import { nodeSuite } from '../../kernel/crypto/node.js';
import { newTiles, tileHashes } from '../../kernel/fleet/tiles.js';
import { BasedTree } from '../../kernel/proofgraph/based-tree.js';
import { MerkleTree } from '../../kernel/proofgraph/merkle.js';

const entry = (i: number): Uint8Array => new TextEncoder().encode(`entry ${i}`);
const b64 = (hs: Uint8Array[]): string[] => hs.map((h) => Buffer.from(h).toString('base64'));

describe('BasedTree', () => {
  const N = 65_800; // crosses a level-2 tile boundary (65,536)
  const full = new MerkleTree(nodeSuite);
  for (let i = 0; i < N; i++) full.appendEntry(entry(i));
  const whole = new BasedTree(nodeSuite, 0, []);
  for (let i = 0; i < N; i++) whole.appendEntry(entry(i));

  // Small bases are checked on a small prefix (sizes up to 1,200), the level-2 ones up to N.
  it.each([
    [1, 1200],
    [256, 1200],
    [300, 1200],
    [65_535, N],
    [65_700, N],
  ])('based at %i: roots, frontiers, consistency proofs and new tiles equal the whole tree (up to %i)', (base, top) => {
    const t = new BasedTree(nodeSuite, base, whole.tileEdges(base));
    expect(b64(t.frontierAt(base).hashes())).toEqual(b64(full.frontierAt(base).hashes()));
    for (let i = base; i < top; i++) t.appendEntry(entry(i));
    const sizes = [base, base + 1, base + 257, top].filter((s) => s <= top);
    for (const m of sizes) {
      expect(Buffer.from(t.root(m)).equals(Buffer.from(full.root(m)))).toBe(true);
      for (const n of sizes.filter((x) => x >= m)) {
        expect(b64(t.consistencyProof(m, n))).toEqual(b64(full.consistencyProof(m, n)));
        for (const tile of newTiles(m, n)) expect(b64(tileHashes(t, tile))).toEqual(b64(tileHashes(full, tile)));
      }
    }
    // Tile edges at a later size come out the same from the based tree (a second free), and rebased.
    expect(t.tileEdges(top).map(b64)).toEqual(whole.tileEdges(top).map(b64));
    expect(b64([t.rebased(top).root()])).toEqual(b64([full.root(top)]));
  });

  it('refuses hashes below the base that the tile edges do not keep, and edges of the wrong shape', () => {
    const t = new BasedTree(nodeSuite, 65_700, whole.tileEdges(65_700));
    expect(() => t.subtreeRoot(0, 256)).toThrow(/below the base 65700/);
    expect(() => t.consistencyProof(60_000)).toThrow(/based at 65700/);
    expect(() => new BasedTree(nodeSuite, 300, [[]])).toThrow(/tile edges of base 300/);
  });
});
