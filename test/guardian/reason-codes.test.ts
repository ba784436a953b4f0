// The reason-code registry: the published JSON and Markdown match the TS table, and no source
// file uses a code in a verdict that is not registered.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REASON_CODE_PATTERN, REASON_CODES, reasonCodesDocument, reasonCodesMarkdown, VERDICTS } from '../../kernel/guardian/reason-codes.js';
import { repoRoot } from '../support/shared.js';

const JSON_PATH = join(repoRoot, 'docs', 'spec', 'reason-codes.json');
const MD_PATH = join(repoRoot, 'docs', 'spec', 'reason-codes.md');
const generatedJson = `${JSON.stringify(reasonCodesDocument(), null, 2)}\n`;
const generatedMd = reasonCodesMarkdown();
if (process.env.HELM_WRITE_SPEC === '1') {
  writeFileSync(JSON_PATH, generatedJson);
  writeFileSync(MD_PATH, generatedMd);
}

const VERDICT_WORDS = new Set<string>(VERDICTS);
const LITERAL = /['"`]([A-Z][A-Z0-9_]{2,63})['"`]/g;
/** Calls whose literal argument becomes a verdict's reason code. */
const CALL = /\b(?:deny|escalate|allow|denial|fail)\(\s*(?:[A-Za-z_$][\w$.]*\s*,\s*)?['"`]([A-Z][A-Z0-9_]{2,63})['"`]/g;

/** Reason-code-like literals in verdict contexts: a line about reasonCode, or a deny(...)-style call. */
export function reasonCodeLiterals(source: string): string[] {
  const found: string[] = [];
  for (const line of source.split('\n')) {
    if (/\breasonCode\b/.test(line)) for (const m of line.matchAll(LITERAL)) found.push(m[1]!);
    for (const m of line.matchAll(CALL)) found.push(m[1]!);
  }
  return found.filter((c) => !VERDICT_WORDS.has(c));
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'node_modules' ? [] : sourceFiles(p);
    return /\.(ts|mts|js)$/.test(n) && !n.endsWith('.d.ts') ? [p] : [];
  });
}

describe('reason-code registry', () => {
  it('docs/spec/reason-codes.json is generated from kernel/guardian/reason-codes.ts', () => {
    expect(readFileSync(JSON_PATH, 'utf8')).toBe(generatedJson);
  });

  it('docs/spec/reason-codes.md agrees with the JSON registry', () => {
    expect(readFileSync(MD_PATH, 'utf8')).toBe(generatedMd);
    const json = JSON.parse(readFileSync(JSON_PATH, 'utf8')) as { codes: Array<{ code: string; verdict: string }> };
    const mdRows = [...readFileSync(MD_PATH, 'utf8').matchAll(/^\| `([A-Z0-9_]+)` \| (\w+) \|/gm)].map((m) => [m[1], m[2]]);
    expect(mdRows).toEqual(json.codes.map((c) => [c.code, c.verdict]));
  });

  it('every entry is well formed, including the upstream vocabulary and an ALLOW code', () => {
    for (const [code, e] of Object.entries(REASON_CODES)) {
      expect(code).toMatch(REASON_CODE_PATTERN);
      expect(VERDICTS).toContain(e.verdict);
      expect(e.summary.length).toBeGreaterThan(10);
    }
    const codes = Object.keys(REASON_CODES);
    for (const c of ['POLICY_VIOLATION', 'NO_POLICY_DEFINED', 'PRG_EVALUATION_ERROR', 'MISSING_REQUIREMENT', 'PDP_DENY', 'PDP_ERROR', 'BUDGET_EXCEEDED', 'BUDGET_ERROR', 'ENVELOPE_INVALID', 'SCHEMA_VIOLATION', 'TEMPORAL_THROTTLE', 'SANDBOX_VIOLATION', 'VERIFICATION_FAILURE', 'DATA_EGRESS_BLOCKED', 'APPROVAL_REQUIRED', 'APPROVAL_TIMEOUT', 'ERR_TOOL_ARGS_UNKNOWN_FIELD', 'ERR_TOOL_ARGS_MISSING_REQUIRED', 'ERR_TOOL_ARGS_TYPE_MISMATCH', 'ERR_CONNECTOR_CONTRACT_DRIFT', 'ERR_COMPUTE_GAS_EXHAUSTED', 'ERR_COMPUTE_TIME_EXHAUSTED', 'ERR_COMPUTE_MEMORY_EXHAUSTED']) {
      expect(codes).toContain(c);
    }
    expect(Object.values(REASON_CODES).some((e) => e.verdict === 'ALLOW')).toBe(true);
  });

  it('the scanner finds codes in verdict contexts (and would flag an unregistered one)', () => {
    const sample = [
      "return { verdict: 'DENY', reasonCode: 'NOT_A_REAL_CODE' };",
      "return deny(base, 'ALSO_FAKE', 'x');",
      "fail('THIRD_FAKE', 'msg', null);",
      "const x = { code: 'ERR_SOMETHING_ELSE' };",
    ].join('\n');
    expect(reasonCodeLiterals(sample)).toEqual(['NOT_A_REAL_CODE', 'ALSO_FAKE', 'THIRD_FAKE']);
  });

  it('kernel/, sidecar/, operator/ and cli/ use only registered reason codes', () => {
    const offenders: string[] = [];
    let scanned = 0;
    for (const top of ['kernel', 'sidecar', 'operator', 'cli']) {
      for (const file of sourceFiles(join(repoRoot, top))) {
        scanned += 1;
        for (const code of reasonCodeLiterals(readFileSync(file, 'utf8'))) {
          if (!Object.hasOwn(REASON_CODES, code)) offenders.push(`${relative(repoRoot, file)}: ${code}`);
        }
      }
    }
    expect(scanned).toBeGreaterThan(10);
    expect(offenders).toEqual([]);
  });

  it('the guardian itself uses a good share of the registry', () => {
    const used = new Set(sourceFiles(join(repoRoot, 'kernel', 'guardian')).flatMap((f) => reasonCodeLiterals(readFileSync(f, 'utf8'))));
    for (const c of ['PRG_EVALUATION_ERROR', 'ENVELOPE_INVALID', 'TOOL_NOT_DECLARED', 'BUDGET_ERROR', 'NO_POLICY_DEFINED']) expect(used).toContain(c);
  });
});
