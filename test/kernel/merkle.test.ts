import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromBase64 } from '../../kernel/crypto/bytes.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { MerkleTree, rootFromRange, verifyConsistency, verifyInclusion } from '../../kernel/proofgraph/merkle.js';
import { describeWithVectors, vectorsDir } from '../support/shared.js';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.json') ? [p] : [];
  });
}
const b64 = (s: string | null | undefined) => (s ? fromBase64(s) : new Uint8Array(0));
const rel = (p: string) => p.slice(vectorsDir.length + 1);

describeWithVectors('RFC 6962 vectors (transparency-dev)', () => {
  const inclusion = walk(join(vectorsDir, 'merkle', 'inclusion'));
  const consistency = walk(join(vectorsDir, 'merkle', 'consistency'));
  it('found the vector files', () => {
    expect(inclusion.length).toBeGreaterThan(80);
    expect(consistency.length).toBeGreaterThan(80);
  });
  it.each(inclusion.map((p) => [rel(p), p]))('inclusion %s', (_n, p) => {
    const v = JSON.parse(readFileSync(p, 'utf8'));
    const ok = verifyInclusion(nodeSuite, v.leafIdx, v.treeSize, b64(v.leafHash), (v.proof ?? []).map(b64), b64(v.root));
    expect(ok).toBe(!v.wantErr);
  });
  it.each(consistency.map((p) => [rel(p), p]))('consistency %s', (_n, p) => {
    const v = JSON.parse(readFileSync(p, 'utf8'));
    const ok = verifyConsistency(nodeSuite, v.size1, v.size2, b64(v.root1), b64(v.root2), (v.proof ?? []).map(b64));
    expect(ok).toBe(!v.wantErr);
  });
});

describe('proof generation round-trips for every size 1..64', () => {
  const tree = new MerkleTree(nodeSuite);
  const enc = new TextEncoder();
  for (let i = 0; i < 64; i++) tree.appendEntry(enc.encode(`entry ${i}`));
  it('inclusion, consistency and range proofs verify, and tampering fails', () => {
    for (let n = 1; n <= 64; n++) {
      const root = tree.root(n);
      for (let i = 0; i < n; i++) {
        const proof = tree.inclusionProof(i, n);
        expect(verifyInclusion(nodeSuite, i, n, tree.leaf(i), proof, root)).toBe(true);
        if (proof.length) {
          const bad = proof.map((h) => Uint8Array.from(h));
          bad[0]![0]! ^= 1;
          expect(verifyInclusion(nodeSuite, i, n, tree.leaf(i), bad, root)).toBe(false);
        }
      }
      for (let m = 1; m <= n; m++) {
        expect(verifyConsistency(nodeSuite, m, n, tree.root(m), root, tree.consistencyProof(m, n))).toBe(true);
        if (m < n) expect(verifyConsistency(nodeSuite, m, n, tree.root(m), tree.root(n - 1 >= m ? n - 1 : n), tree.consistencyProof(m, n))).toBe(n - 1 < m);
      }
      for (const [a, b] of [[0, n], [0, 1], [n - 1, n], [Math.floor(n / 3), Math.floor((2 * n) / 3)]] as const) {
        const leaves = Array.from({ length: b - a }, (_, k) => tree.leaf(a + k));
        expect(Buffer.from(rootFromRange(nodeSuite, n, a, leaves, tree.rangeProof(a, b, n))).equals(Buffer.from(root))).toBe(true);
      }
    }
  });
  it('the O(log n) frontier root equals the recursive definition', () => {
    expect(Buffer.from(tree.root()).equals(Buffer.from(tree.subtreeRoot(0, 64)))).toBe(true);
    const t2 = new MerkleTree(nodeSuite);
    for (let i = 0; i < 37; i++) {
      t2.appendEntry(enc.encode(`entry ${i}`));
      expect(Buffer.from(t2.root()).equals(Buffer.from(tree.root(i + 1)))).toBe(true);
    }
  });
});
