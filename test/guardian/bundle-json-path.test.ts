// Bundle text that is JSON (what the operator distributes: bundle.json) is parsed by the kernel's
// strict JSON reader instead of the YAML parser (most of a bundle load's time). JSON is YAML 1.2,
// so the document must be the one the YAML parser gives: compared here over hostile and ordinary
// JSON texts, and every text the JSON path refuses still gets the YAML parser's verdict.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBundleText, parseBundleYaml } from '../../kernel/guardian/bundle-parse.js';
import { repoRoot } from '../support/shared.js';

const outcome = (f: () => unknown): unknown => {
  try {
    return { value: f() };
  } catch (e) {
    return { error: (e as { code?: string }).code };
  }
};

const example = JSON.stringify(parseBundleText(readFileSync(join(repoRoot, 'examples/bundles/support-desk.yaml'), 'utf8')));

const TEXTS: string[] = [
  example,
  JSON.stringify(JSON.parse(example), null, 2),
  JSON.stringify(JSON.parse(example), null, '\t'),
  '{"a": 1.0, "b": -0, "c": 1e2, "d": 0.1, "e": 12345678901234567890, "f": 1e400, "g": -1.5e-7}',
  '{"s": "\\u00e9\\/\\b\\f\\n\\r\\t\\"\\\\", "emoji": "\\ud83d\\ude00", "lone": "\\ud800", "nul": "\\u0000"}',
  '{"__proto__": {"polluted": true}, "constructor": 1}',
  `{"${'k'.repeat(1100)}": 1}`,
  '{"a": 1, "a": 2}',
  '{"a": [1, 2, {"b": [[], {}]}], "c": null, "d": true, "e": false}',
  '  \n {"a": 1} \n ',
  '[1, 2]',
  '"just a string"',
  '{"a": 1,}',
  '\ufeff{"a": 1}',
  `${'['.repeat(100)}${']'.repeat(100)}`,
  '{"a": "# not a comment", "b": "key: value", "c": "- item", "d": "&anchor *alias"}',
  '{"yes": "no", "on": "off", "y": "n", "date": "2026-12-03", "oct": "0o17", "hex": "0x1F", "inf": ".inf"}',
];

describe('bundle text: JSON fast path', () => {
  it.each(TEXTS.map((t) => [t.length > 60 ? `${t.slice(0, 57)}...` : t, t]))('%s: same document or verdict as the YAML parser', (_n, text) => {
    expect(outcome(() => parseBundleText(text))).toEqual(outcome(() => parseBundleYaml(text)));
  });

});
