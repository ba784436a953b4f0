// The CEL dialect of rule expressions: @bufbuild/cel's standard library plus its string
// extensions, over a fixed set of input variables. @bufbuild/cel resolves names only at run time,
// so a static pass here turns unknown variables, unknown functions and message construction into
// compile errors (a bundle lint error) instead of a DENY on the first call that reaches them.
import { CelScalar, celEnv, celFunc, isCelError, parse, plan, type CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { Expr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { JsonValue } from './bundle-types.js';
import { normalisedText, pathUnder } from './paths.js';
import { decimalAdd, decimalDivide, decimalMultiply, decimalSubtract, numberProblem } from './decimal.js';

/** The variables a rule expression may read (documented in docs/spec/policy-bundle.md). */
export const CEL_VARIABLES = ['principal', 'tool', 'args', 'context', 'budget', 'request'] as const;

/** Operators the planner implements itself rather than through the function table. */
const SPECIAL_FUNCTIONS = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '_[?_]', '_?._', '@not_strictly_false', '__not_strictly_false__']);
/** Type names usable as values, e.g. `type(x) == int`. */
const TYPE_IDENTS = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type']);
/** Calls whose result is never a bool: a rule that is one of these cannot be a requirement. */
const NON_BOOL_CALLS = new Set(['_+_', '_-_', '_*_', '_/_', '_%_', '-_', 'size', 'int', 'uint', 'double', 'string', 'bytes', 'timestamp', 'duration', 'type', 'dyn']);

const { BOOL, DOUBLE, INT, STRING } = CelScalar;
/**
 * Double arithmetic is exact decimal arithmetic (decimal.ts): these replace the standard overloads
 * (same ids), so 0.1 + 0.2 == 0.3 holds and a result beyond the decimal limits is an error.
 */
function safeNumber(i: bigint): number {
  if (i > BigInt(Number.MAX_SAFE_INTEGER) || i < -BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`exact decimal: int ${i} is outside ±(2^53−1)`);
  return Number(i);
}

const exactDecimal = [
  celFunc('_+_', [DOUBLE, DOUBLE], DOUBLE, decimalAdd),
  celFunc('_-_', [DOUBLE, DOUBLE], DOUBLE, decimalSubtract),
  celFunc('_*_', [DOUBLE, DOUBLE], DOUBLE, decimalMultiply),
  celFunc('_/_', [DOUBLE, DOUBLE], DOUBLE, decimalDivide),
  // 100.00 arrives as the JSON integer 100 (a CEL int): mixing it with a decimal is exact too.
  ...([['_+_', decimalAdd], ['_-_', decimalSubtract], ['_*_', decimalMultiply], ['_/_', decimalDivide]] as const).flatMap(([op, f]) => [
    celFunc(op, [INT, DOUBLE], DOUBLE, (a: bigint, b: number) => f(safeNumber(a), b)),
    celFunc(op, [DOUBLE, INT], DOUBLE, (a: number, b: bigint) => f(a, safeNumber(b))),
  ]),
];

/** Path helpers (paths.ts): an unsafe path is an evaluation error, never false. */
const pathFuncs = [celFunc('pathUnder', [STRING, STRING], BOOL, pathUnder), celFunc('normalizePath', [STRING], STRING, normalisedText)];

const env = celEnv({ funcs: [...strings, ...exactDecimal, ...pathFuncs] });

export interface CelProgram {
  readonly source: string;
  evaluate(bindings: Record<string, CelInput>): CelOutcome;
}

export type CelOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };
export type CelCompileResult = { readonly ok: true; readonly program: CelProgram } | { readonly ok: false; readonly message: string };

export interface CelCompileOptions {
  /** Variables in scope (default CEL_VARIABLES). */
  readonly variables?: readonly string[];
  /** Reject expressions that can never yield a bool (rule requirements). */
  readonly requireBool?: boolean;
}

export function compileCel(source: string, options: CelCompileOptions = {}): CelCompileResult {
  let parsed;
  try {
    parsed = parse(source);
  } catch (e) {
    return { ok: false, message: `syntax: ${(e as Error).message}` };
  }
  const problems: string[] = [];
  checkExpr(parsed.expr, new Set(options.variables ?? CEL_VARIABLES), problems);
  if (options.requireBool) {
    const why = nonBoolReason(parsed.expr);
    if (why) problems.push(`expression ${why}, not a bool`);
  }
  if (problems.length) return { ok: false, message: problems[0]! };
  let fn: (ctx?: Record<string, CelInput>) => unknown;
  try {
    fn = plan(env, parsed) as typeof fn;
  } catch (e) {
    return { ok: false, message: `plan: ${(e as Error).message}` };
  }
  const program: CelProgram = {
    source,
    evaluate(bindings) {
      try {
        const r = fn(bindings);
        if (isCelError(r)) return { ok: false, message: r.message };
        return { ok: true, value: r };
      } catch (e) {
        // run()/plan() promise not to throw; if a future version does, it is still a DENY.
        return { ok: false, message: `evaluator threw: ${(e as Error).message}` };
      }
    },
  };
  return { ok: true, program };
}

function checkExpr(e: Expr | undefined, scope: ReadonlySet<string>, problems: string[]): void {
  if (!e) return;
  const k = e.exprKind;
  switch (k.case) {
    case 'constExpr':
      if (k.value.constantKind.case === 'doubleValue') {
        const problem = numberProblem(k.value.constantKind.value);
        if (problem) problems.push(`double literal: ${problem}`);
      }
      return;
    case 'identExpr':
      if (!scope.has(k.value.name) && !TYPE_IDENTS.has(k.value.name)) problems.push(`unknown variable ${k.value.name} (variables: ${[...scope].filter((v) => !v.startsWith('@')).join(', ')})`);
      return;
    case 'selectExpr':
      checkExpr(k.value.operand, scope, problems);
      return;
    case 'callExpr':
      if (!SPECIAL_FUNCTIONS.has(k.value.function) && env.funcs.find(k.value.function) === undefined) problems.push(`unknown function ${k.value.function}`);
      checkExpr(k.value.target, scope, problems);
      for (const a of k.value.args) checkExpr(a, scope, problems);
      return;
    case 'listExpr':
      for (const el of k.value.elements) checkExpr(el, scope, problems);
      return;
    case 'structExpr':
      if (k.value.messageName !== '') {
        problems.push(`message construction ${k.value.messageName}{} is not supported`);
        return;
      }
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === 'mapKey') checkExpr(entry.keyKind.value, scope, problems);
        checkExpr(entry.value, scope, problems);
      }
      return;
    case 'comprehensionExpr': {
      const c = k.value;
      checkExpr(c.iterRange, scope, problems);
      checkExpr(c.accuInit, scope, problems);
      const inner = new Set(scope);
      for (const v of [c.iterVar, c.iterVar2, c.accuVar]) if (v) inner.add(v);
      checkExpr(c.loopCondition, inner, problems);
      checkExpr(c.loopStep, inner, problems);
      const result = new Set(scope);
      if (c.accuVar) result.add(c.accuVar);
      checkExpr(c.result, result, problems);
      return;
    }
    default:
      problems.push('unsupported expression');
  }
}

function nonBoolReason(e: Expr): string | null {
  const k = e.exprKind;
  if (k.case === 'constExpr') return k.value.constantKind.case === 'boolValue' ? null : `is a ${k.value.constantKind.case ?? 'constant'} constant`;
  if (k.case === 'listExpr') return 'is a list';
  if (k.case === 'structExpr') return 'is a map';
  if (k.case === 'callExpr' && NON_BOOL_CALLS.has(k.value.function)) return `is a call of ${k.value.function}`;
  if (k.case === 'callExpr' && k.value.function === '_?_:_') {
    const [, a, b] = k.value.args;
    return (a && nonBoolReason(a)) ?? (b && nonBoolReason(b)) ?? null;
  }
  return null;
}

/**
 * JSON to CEL values: integers become CEL ints (bigint), so `args.n % 2` and `args.n + 1 == 3`
 * behave as integers; decimals become CEL doubles, whose arithmetic here is exact; objects become
 * maps (no prototype properties are reachable).
 */
export function toCel(v: JsonValue): CelInput {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(toCel);
  const m = new Map<string, CelInput>();
  for (const [key, val] of Object.entries(v)) m.set(key, toCel(val));
  return m as unknown as CelInput;
}

/** A google.protobuf.Timestamp value for CEL from epoch milliseconds. */
export function celTimestamp(ms: number): CelInput {
  return timestampFromMs(ms) as unknown as CelInput;
}
