// Runs the simple part of the CEL conformance suite (from @bufbuild/cel-spec) through the
// Guardian's CEL wrapper: expressions without bindings, type environments or containers whose
// expected result is a value of a JSON-like type or an evaluation error.
import { isCelList, isCelUint, type CelValue } from '@bufbuild/cel';
import { getConformanceSuite, type IncrementalTest, type IncrementalTestSuite } from '@bufbuild/cel-spec/testdata/tests.js';
import { compileCel } from '../../kernel/guardian/cel.js';

export const CONFORMANCE_SECTIONS = ['basic', 'comparisons', 'conversions', 'fp_math', 'integer_math', 'lists', 'logic', 'macros', 'parse', 'string', 'string_ext', 'timestamps'];

export interface ConformanceCase {
  readonly name: string;
  readonly expr: string;
  readonly expect: { kind: 'value'; value: unknown } | { kind: 'error' };
}

type ProtoValue = { kind: { case: string | undefined; value?: unknown } };

/** Expected values we can compare: scalars and lists of them; anything else is left out. */
function expected(v: ProtoValue): { ok: true; value: unknown } | { ok: false } {
  const k = v.kind;
  switch (k.case) {
    case 'boolValue':
    case 'stringValue':
    case 'doubleValue':
      return { ok: true, value: k.value };
    case 'int64Value':
      return { ok: true, value: BigInt(k.value as bigint) };
    case 'uint64Value':
      return { ok: true, value: { uint: BigInt(k.value as bigint) } };
    case 'nullValue':
      return { ok: true, value: null };
    case 'bytesValue':
      return { ok: true, value: { bytes: Array.from(k.value as Uint8Array) } };
    case 'listValue': {
      const out: unknown[] = [];
      for (const e of (k.value as { values: ProtoValue[] }).values) {
        const x = expected(e);
        if (!x.ok) return x;
        out.push(x.value);
      }
      return { ok: true, value: out };
    }
    default:
      return { ok: false };
  }
}

/** Our result in the same shape as `expected`. */
export function actual(v: unknown): unknown {
  if (typeof v === 'bigint' || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'number' || v === null) return v;
  if (isCelUint(v as CelValue)) return { uint: (v as { value: bigint }).value };
  if (v instanceof Uint8Array) return { bytes: Array.from(v) };
  if (isCelList(v as CelValue)) return Array.from(v as Iterable<unknown>, actual);
  return { unsupported: Object.prototype.toString.call(v) };
}

export function conformanceCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  const walk = (s: IncrementalTestSuite, path: string) => {
    for (const t of s.tests) pick(t, `${path}/${t.name}`);
    for (const c of s.suites) walk(c, `${path}/${c.name}`);
  };
  const pick = (t: IncrementalTest, name: string) => {
    const o = t.original;
    if (Object.keys(o.bindings).length || o.typeEnv.length || o.container || o.disableMacros || o.checkOnly) return;
    const m = o.resultMatcher;
    if (m.case === 'evalError') out.push({ name, expr: o.expr, expect: { kind: 'error' } });
    else if (m.case === 'value') {
      const e = expected(m.value as unknown as ProtoValue);
      if (e.ok) out.push({ name, expr: o.expr, expect: { kind: 'value', value: e.value } });
    }
  };
  for (const section of getConformanceSuite().suites) if (CONFORMANCE_SECTIONS.includes(section.name)) walk(section, section.name);
  return out;
}

/**
 * 'restricted': our dialect refused an expression the suite evaluates, on purpose (unknown
 * variables and functions, protobuf message construction and double literals beyond the decimal
 * limits are compile errors in rule expressions; double arithmetic is exact decimal arithmetic,
 * which refuses NaN, infinities and inexact results instead of rounding).
 */
export type ConformanceOutcome = 'pass' | 'fail' | 'restricted';
const RESTRICTIONS = /^(unknown variable|unknown function|message construction|double literal)/;
const RUNTIME_RESTRICTIONS = /^exact decimal /;

export function runCase(c: ConformanceCase): { outcome: ConformanceOutcome; got: unknown } {
  const compiled = compileCel(c.expr, { variables: [] });
  if (!compiled.ok) return { outcome: c.expect.kind === 'error' ? 'pass' : RESTRICTIONS.test(compiled.message) ? 'restricted' : 'fail', got: `compile: ${compiled.message}` };
  const r = compiled.program.evaluate({});
  if (!r.ok) return { outcome: c.expect.kind === 'error' ? 'pass' : RUNTIME_RESTRICTIONS.test(r.message) ? 'restricted' : 'fail', got: `error: ${r.message}` };
  if (c.expect.kind === 'error') return { outcome: 'fail', got: actual(r.value) };
  const got = actual(r.value);
  const want = c.expect.value;
  const same = typeof want === 'number' && typeof got === 'number' ? Object.is(want, got) || want === got : JSON.stringify(got, big) === JSON.stringify(want, big);
  return { outcome: same ? 'pass' : 'fail', got };
}

function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}
