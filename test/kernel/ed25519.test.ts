import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from '../../kernel/crypto/bytes.js';
import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { portableSigner, portableSuite } from '../../kernel/crypto/portable.js';
import { describeWithVectors, vectorsDir } from '../support/shared.js';

interface WycheproofCase { tcId: number; comment: string; msg: string; sig: string; result: 'valid' | 'invalid' | 'acceptable' }
interface WycheproofGroup { publicKey: { pk: string }; tests: WycheproofCase[] }

describeWithVectors('Wycheproof Ed25519 (151 cases) with both implementations', () => {
  const file = JSON.parse(readFileSync(join(vectorsDir, 'ed25519', 'wycheproof_ed25519_test.json'), 'utf8'));
  const cases: Array<[number, string, WycheproofCase, Uint8Array]> = [];
  for (const g of file.testGroups as WycheproofGroup[]) {
    for (const t of g.tests) cases.push([t.tcId, t.comment, t, fromHex(g.publicKey.pk)]);
  }
  it('has all 151 cases, none "acceptable"', () => {
    expect(cases.length).toBe(151);
    expect(cases.filter(([, , t]) => t.result === 'acceptable')).toHaveLength(0);
  });
  for (const suite of [nodeSuite, portableSuite]) {
    it.each(cases)(`${suite.name}: case %i (%s)`, (_id, _c, t, pk) => {
      let sig: Uint8Array;
      try {
        sig = fromHex(t.sig);
      } catch {
        sig = new Uint8Array(0);
      }
      expect(suite.verifyEd25519(pk, fromHex(t.msg), sig)).toBe(t.result === 'valid');
    });
  }
});

describe('the two Ed25519 implementations interoperate', () => {
  it('a signature by one verifies under the other, and both are deterministic', () => {
    for (let i = 0; i < 20; i++) {
      const seed = new Uint8Array(32).fill(i + 1);
      const a = nodeSigner(seed);
      const b = portableSigner(seed);
      expect(Buffer.from(a.publicKey).equals(Buffer.from(b.publicKey))).toBe(true);
      const msg = new TextEncoder().encode(`message ${i}`);
      const sa = a.sign(msg);
      const sb = b.sign(msg);
      expect(Buffer.from(sa).equals(Buffer.from(sb))).toBe(true);
      expect(portableSuite.verifyEd25519(a.publicKey, msg, sa)).toBe(true);
      expect(nodeSuite.verifyEd25519(b.publicKey, msg, sb)).toBe(true);
      const bad = Uint8Array.from(sa);
      bad[0]! ^= 1;
      expect(portableSuite.verifyEd25519(a.publicKey, msg, bad)).toBe(false);
      expect(nodeSuite.verifyEd25519(a.publicKey, msg, bad)).toBe(false);
    }
  });
});
