import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { jcs, jcsSigned, assertSignedProfile } from '../../kernel/crypto/jcs.js';
import { describeWithVectors, vectorsDir } from '../support/shared.js';

describeWithVectors('RFC 8785 vectors (cyberphone)', () => {
  const dir = join(vectorsDir, 'jcs');
  const names = readdirSync(join(dir, 'input')).filter((n) => n.endsWith('.json'));
  it('has the six upstream cases', () => expect(names.length).toBe(6));
  it.each(names)('%s canonicalizes byte for byte', (name) => {
    const input = JSON.parse(readFileSync(join(dir, 'input', name), 'utf8'));
    const expected = readFileSync(join(dir, 'output', name));
    expect(Buffer.from(jcs(input)).equals(expected)).toBe(true);
  });
});

describe('signed-payload profile (I-JSON, integers only)', () => {
  it('refuses floats, unsafe integers, lone surrogates, undefined and non-plain objects', () => {
    expect(() => assertSignedProfile({ a: 1.5 })).toThrow(/not a safe integer at \.a/);
    expect(() => assertSignedProfile({ a: 2 ** 53 })).toThrow(/safe integer/);
    expect(() => assertSignedProfile(['\ud800'])).toThrow(/lone surrogate/);
    expect(() => assertSignedProfile({ a: undefined })).toThrow(/undefined/);
    expect(() => assertSignedProfile({ d: new Date(0) })).toThrow(/plain object/);
    expect(() => assertSignedProfile({ n: NaN })).toThrow();
  });
  it('agrees with the canonicalize package on generated I-JSON (I5)', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const gen = (d: number): unknown => {
      const r = rnd();
      if (d > 3 || r < 0.3) return Math.floor(rnd() * 2 ** 40) - 2 ** 39;
      if (r < 0.45) return String.fromCodePoint(...Array.from({ length: 5 }, () => 32 + Math.floor(rnd() * 0x2000)));
      if (r < 0.55) return rnd() < 0.5;
      if (r < 0.75) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(d + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, () => [String.fromCodePoint(0x20 + Math.floor(rnd() * 0x3000)), gen(d + 1)]));
    };
    for (let i = 0; i < 300; i++) {
      const v = gen(0);
      expect(Buffer.from(jcsSigned(v)).toString('utf8')).toBe(canonicalize(v));
    }
  });
});
