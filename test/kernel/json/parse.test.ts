// The strict parser: agrees with JSON.parse + JCS on ordinary JSON (the RFC 8785 vectors), and
// refuses, with a code and a path, what two parsers could read differently or what would blow a
// recursive walker later.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, checkJsonValue, parseStrictJson, type JsonErrorCode } from '../../../kernel/json/index.js';
import { describeWithVectors, vectorsDir } from '../../support/shared.js';

function refused(text: string | Uint8Array, code: JsonErrorCode, path?: string, limits = {}) {
  const r = parseStrictJson(text, limits);
  if (r.ok) throw new Error(`accepted ${String(text).slice(0, 60)}`);
  expect(r.error.code).toBe(code);
  if (path !== undefined) expect(r.error.path).toBe(path);
  expect(r.error.message.length).toBeGreaterThan(10);
  return r.error;
}

describeWithVectors('strict parser on the RFC 8785 vectors', () => {
  const dir = join(vectorsDir, 'jcs');
  const names = readdirSync(join(dir, 'input')).filter((n) => n.endsWith('.json'));
  it.each(names)('%s parses (bytes) and canonicalizes byte for byte', (name) => {
    const bytes = readFileSync(join(dir, 'input', name));
    const r = canonicalJson(new Uint8Array(bytes));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value).toEqual(JSON.parse(bytes.toString('utf8')));
    expect(Buffer.from(r.canonical, 'utf8').equals(readFileSync(join(dir, 'output', name)))).toBe(true);
  });
});

describe('strict parser', () => {
  it('parses every JSON value like JSON.parse', () => {
    for (const t of ['0', '1.5e3', '"a\\u00e9\\ud83d\\ude02\\n"', 'true', 'false', 'null', '[]', '{}', ' [1, {"a": [null, "x"]}] ', '{"__proto__": {"x": 1}}', '9007199254740991', '-9007199254740991', '1E30', '5e-324']) {
      const r = parseStrictJson(t);
      if (!r.ok) throw new Error(`${t}: ${r.error.message}`);
      expect(r.value).toEqual(JSON.parse(t));
    }
    expect(Object.is((parseStrictJson('-0') as { value: unknown }).value, 0)).toBe(true);
    const proto = parseStrictJson('{"__proto__": {"polluted": true}}');
    expect(proto.ok && Object.getPrototypeOf(proto.value)).toBe(Object.prototype);
    expect(proto.ok && Object.keys(proto.value as object)).toEqual(['__proto__']);
  });

  it('refuses duplicate keys at any depth, naming the path', () => {
    refused('{"query":"DROP TABLE users","query":"SELECT 1"}', 'duplicate_key', '/query');
    refused('{"a":[{"b":{"c":1,"c":2}}]}', 'duplicate_key', '/a/0/b/c');
    refused('{"a":1,"\\u0061":2}', 'duplicate_key', '/a');
    refused('{"x/y~":{"k":1,"k":1}}', 'duplicate_key', '/x~1y~0/k');
  });

  it('refuses lone surrogates, escaped or raw, and invalid UTF-8 bytes', () => {
    refused('{"q":"\\ud800"}', 'invalid_unicode', '/q');
    refused('{"q":"\\udc00\\ud800"}', 'invalid_unicode');
    refused('{"\\ud800":1}', 'invalid_unicode');
    refused('["\ud800"]', 'invalid_unicode', '/0');
    refused(new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22]), 'invalid_unicode');
    refused(new Uint8Array([0x22, 0xff, 0x22]), 'invalid_unicode');
    expect(parseStrictJson('"\\ud83d\\ude02"')).toEqual({ ok: true, value: '😂' });
  });

  it('refuses numbers outside I-JSON', () => {
    refused('{"n":9007199254740992}', 'number_range', '/n');
    refused('[-9007199254740992]', 'number_range', '/0');
    refused('1e400', 'number_range');
    refused('-1e400', 'number_range');
    refused('1e-400', 'number_range');
    refused('123456789012345678901234567890', 'number_range');
  });

  it('refuses syntax JSON.parse refuses, and more (BOM, trailing text)', () => {
    for (const t of ['', '{', '{"a"}', '{"a":1,}', '[1,]', '01', '1.', '.5', '+1', 'NaN', 'tru', '"\t"', '"\\x"', '{"a":1}x', "{'a':1}", '[1 2]']) {
      refused(t, 'syntax');
    }
    refused(new Uint8Array([0xef, 0xbb, 0xbf, 0x31]), 'syntax');
  });

  it('enforces size and depth limits with a path', () => {
    refused('[1,2,3]', 'too_large', '', { maxLength: 5 });
    refused(new Uint8Array(6).fill(0x20), 'too_large', '', { maxLength: 5 });
    refused('[[[1]]]', 'too_deep', '/0/0', { maxDepth: 2 });
    refused('{"a":{"b":{}}}', 'too_deep', '/a/b', { maxDepth: 2 });
    expect(parseStrictJson('[[1]]', { maxDepth: 2 }).ok).toBe(true);
  });

  it('survives 100,000 levels of nesting without recursion (limit raised past it, and at the default)', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const e = refused(deep, 'too_deep');
    expect(e.path.length).toBeLessThanOrEqual(256);
    const deepObj = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    refused(deepObj, 'too_deep');
    const r = parseStrictJson(deep, { maxDepth: 200_000, maxLength: 1e7 });
    expect(r.ok).toBe(true);
    expect(checkJsonValue(r.ok ? r.value : null)?.code).toBe('too_deep');
  });

  it('checkJsonValue applies the limits to a value another parser produced', () => {
    expect(checkJsonValue({ a: [1, 'x', null, { b: true }] })).toBeNull();
    expect(checkJsonValue({ a: ['\udc00'] })).toMatchObject({ code: 'invalid_unicode', path: '/a/0' });
    expect(checkJsonValue({ a: 2 ** 60 })).toMatchObject({ code: 'number_range', path: '/a' });
    expect(checkJsonValue({ a: Infinity })).toMatchObject({ code: 'number_range' });
    expect(checkJsonValue([[[]]], { maxDepth: 2 })).toMatchObject({ code: 'too_deep', path: '/0/0' });
  });

  it('canonicalJson gives the JCS of exactly the parsed value', () => {
    const r = canonicalJson('{ "b": 1.50, "a": "\\u00e9" }');
    expect(r).toEqual({ ok: true, value: { b: 1.5, a: 'é' }, canonical: '{"a":"é","b":1.5}' });
  });
});
