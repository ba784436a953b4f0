// Hostile JSON texts for the fuzz tests of every surface: deep nesting, duplicate keys, huge
// strings, invalid UTF-8, lone surrogates, numbers outside I-JSON, wrong types, truncation and
// byte flips. Deterministic: a seeded generator, so a failure names a case that reproduces.

// One seeded generator (mulberry32) for the tests and `npm run harden`.
import { pick, seeded, type Rng } from '../../scripts/harden/rng.js';

export { pick, type Rng };
export const rng = seeded;

export const deep = (n: number, open = '[', close = ']', leaf = '') => `${open.repeat(n)}${leaf}${close.repeat(n)}`;

/** A JSON value text that is hostile in one way (or, sometimes, harmless). */
export function hostileValue(r: Rng): { text: string; kind: string } {
  const kinds: Array<[string, () => string]> = [
    ['deep-array', () => deep(pick(r, [65, 129, 5000, 20_000, 100_000]))],
    ['deep-object', () => deep(pick(r, [65, 129, 5000, 20_000]), '{"a":', '}', '1')],
    ['duplicate-key', () => pick(r, ['{"q":"DROP TABLE users","q":"SELECT 1"}', '{"a":{"b":1,"b":2}}', '[{"x":1,"\\u0078":2}]'])],
    ['lone-surrogate', () => pick(r, ['"\\ud800"', '{"\\udc00":1}', '["a\\ud83d"]'])],
    // Raw in the JS string: an HTTP client encodes it as U+FFFD, so it arrives harmless.
    ['raw-surrogate', () => '"\ud800"'],
    ['number-range', () => pick(r, ['9007199254740993', '-1e999', '1e400', '1e-400', '123456789012345678901234567890'])],
    ['huge-string', () => JSON.stringify('x'.repeat(pick(r, [70_000, 300_000, 1_500_000])))],
    ['wrong-type', () => pick(r, ['null', '1', '"x"', '{}', '[]', 'true', '[null]', '{"role":5}'])],
    ['syntax', () => pick(r, ['{', '[1,]', '{"a" 1}', 'NaN', '"\\x"', "{'a':1}", '01', '{"a":1}}'])],
    ['harmless', () => pick(r, ['{"customerId":"cus_12345678"}', '"hello"', '42', '[1,2,3]'])],
  ];
  const [kind, make] = pick(r, kinds);
  return { text: make(), kind };
}

/** Text, or bytes with invalid UTF-8 spliced into a string of it. */
export function withInvalidUtf8(r: Rng, text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  const at = bytes.indexOf(0x22, Math.floor(r() * bytes.length));
  const pos = at < 0 ? bytes.indexOf(0x22) : at;
  const bad = Buffer.from(pick(r, [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]));
  return new Uint8Array(Buffer.concat([bytes.subarray(0, pos + 1), bad, bytes.subarray(pos + 1)]));
}

/** Flips a few bytes of `text`. */
export function flipped(r: Rng, text: string): Uint8Array {
  const b = Buffer.from(text, 'utf8');
  for (let i = 0; i < 1 + Math.floor(r() * 3); i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
  return new Uint8Array(b);
}
