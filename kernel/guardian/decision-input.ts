// The DecisionInput: everything a verdict depends on, including the clock reading and the
// budget/rate state, so evaluation is a pure function and can be replayed from a record. The
// canonical form fills defaults; inputDigest hashes its JCS.
import type { ValidateFunction } from 'ajv/dist/2020.js';
import * as compiledInput from './decision-input-validator.gen.js';
import { toHex, utf8 } from '../crypto/bytes.js';
import { jcsString } from '../crypto/jcs.js';
import { DecimalPrecisionError, jcsDecisionString } from './decision-jcs.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { HashRef } from './bundle-parse.js';
import { SURFACES, type JsonObject, type Surface } from './bundle-types.js';

export interface PrincipalInput {
  id: string;
  roles: string[];
  attributes: JsonObject;
}

/** Usage of one budget in its current window, as the state store last committed it. */
export interface BudgetCounter {
  /** The scope key the counter belongs to (see limitKey). */
  key: string;
  /** Start of the window the counts belong to, RFC 3339 UTC with milliseconds. */
  windowStart: string;
  calls: number;
  cost: number;
}

/** A token bucket as the state store last committed it. */
export interface BucketState {
  key: string;
  tokens: number;
  updatedAt: string;
}

export interface LimitState {
  budgets: Record<string, BudgetCounter>;
  rates: Record<string, BucketState>;
}

export interface DecisionInput {
  callId: string;
  surface: Surface;
  principal: PrincipalInput;
  tool: string;
  args: JsonObject;
  /** The connector (e.g. MCP server) the call would be routed through, if any. */
  connector: string | null;
  /** The sandbox profile the executor would run the call in, if any. */
  sandbox: string | null;
  /** Caller-supplied attributes (session, tenant, labels); read by rules as `context`. */
  context: JsonObject;
  /** The injected clock reading: RFC 3339 UTC with milliseconds. */
  time: string;
  /** The contentHash of the bundle the caller evaluates against. */
  policyDigest: HashRef;
  /** Budget counters and token buckets for the limits that apply to this call. */
  state: LimitState;
}

/** What callers pass: optional fields default as in canonicalDecisionInput. */
export type DecisionInputDraft = Omit<DecisionInput, 'principal' | 'connector' | 'sandbox' | 'context' | 'state'> & {
  principal: { id: string; roles?: string[]; attributes?: JsonObject };
  connector?: string | null;
  sandbox?: string | null;
  context?: JsonObject;
  state?: { budgets?: Record<string, BudgetCounter>; rates?: Record<string, BucketState> };
};

/** An intent entry must fit in a 64 KiB log entry, so a larger input can never be recorded. */
export const MAX_INPUT_BYTES = 49152;
/**
 * Deepest nesting of arrays and objects in a DecisionInput (the input object is level 1). Checked
 * iteratively before anything recursive runs: otherwise whether an input canonicalizes would depend
 * on the stack left in the process deciding it, and a replay could decide differently.
 */
export const MAX_INPUT_DEPTH = 128;

interface DepthFrame {
  readonly v: object;
  readonly depth: number;
  readonly parent: DepthFrame | null;
  readonly key: string;
}

/** The JSON pointer of the first container nested deeper than `max`, or null. Iterative. */
export function tooDeep(root: unknown, max: number): string | null {
  if (typeof root !== 'object' || root === null) return null;
  // Only containers are pushed, and the pointer is built only for the one that fails (building a
  // path for every key was most of the check's cost on every decision).
  const stack: DepthFrame[] = [{ v: root, depth: 1, parent: null, key: '' }];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (f.depth > max) return pointerOf(f) || '/';
    if (Array.isArray(f.v)) {
      for (let i = f.v.length - 1; i >= 0; i--) {
        const x: unknown = f.v[i];
        if (typeof x === 'object' && x !== null) stack.push({ v: x, depth: f.depth + 1, parent: f, key: String(i) });
      }
    } else {
      for (const k in f.v) {
        if (!Object.hasOwn(f.v, k)) continue;
        const x: unknown = (f.v as Record<string, unknown>)[k];
        if (typeof x === 'object' && x !== null) stack.push({ v: x, depth: f.depth + 1, parent: f, key: k });
      }
    }
  }
  return null;
}

function pointerOf(f: DepthFrame): string {
  const keys: string[] = [];
  for (let x: DepthFrame | null = f; x?.parent; x = x.parent) keys.push(x.key.replace(/~/g, '~0').replace(/\//g, '~1'));
  return keys.reverse().map((k) => `/${k}`).join('');
}

const time = { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' } as const;
const uint = { type: 'integer', minimum: 0, maximum: 9007199254740991 } as const;
const name = { type: 'string', minLength: 1, maxLength: 512 } as const;
const idish = { type: 'string', minLength: 1, maxLength: 128 } as const;
const strict = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', additionalProperties: false, properties, required });

export const decisionInputSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.mindburn.org/schemas/decision-input.v1.json',
  title: 'Guardian decision input (canonical form)',
  ...strict(
    {
      callId: { type: 'string', minLength: 1, maxLength: 256 },
      surface: { enum: [...SURFACES] },
      principal: strict({ id: name, roles: { type: 'array', items: idish, uniqueItems: true, maxItems: 256 }, attributes: { type: 'object' } }, ['id', 'roles', 'attributes']),
      tool: name,
      args: { type: 'object' },
      connector: { anyOf: [idish, { type: 'null' }] },
      sandbox: { anyOf: [idish, { type: 'null' }] },
      context: { type: 'object' },
      time,
      policyDigest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
      state: strict(
        {
          budgets: { type: 'object', additionalProperties: strict({ key: name, windowStart: time, calls: uint, cost: uint }, ['key', 'windowStart', 'calls', 'cost']) },
          rates: { type: 'object', additionalProperties: strict({ key: name, tokens: uint, updatedAt: time }, ['key', 'tokens', 'updatedAt']) },
        },
        ['budgets', 'rates'],
      ),
    },
    ['callId', 'surface', 'principal', 'tool', 'args', 'connector', 'sandbox', 'context', 'time', 'policyDigest', 'state'],
  ),
} as const;

// Compiled at build time from decisionInputSchema (scripts/validators.ts).
const validateInput = compiledInput.validate as ((v: unknown) => boolean) & Pick<ValidateFunction, 'errors'>;

export type CanonicalInputResult =
  | { readonly ok: true; readonly input: DecisionInput; readonly jcs: string; /** UTF-8 of jcs: what inputDigest hashes. */ readonly bytes: Uint8Array }
  | { readonly ok: false; readonly message: string; /** Set when a decimal is beyond the limits; otherwise ENVELOPE_INVALID. */ readonly reasonCode?: 'DECIMAL_PRECISION_EXCEEDED' };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Fills defaults (roles [], attributes {}, connector null, sandbox null, context {}, empty state)
 * and checks the result against decisionInputSchema and the decision profile (the signed-payload
 * profile plus exact decimals, decimal.ts). Never throws.
 */
export function canonicalDecisionInput(raw: unknown): CanonicalInputResult {
  if (!isPlainObject(raw)) return { ok: false, message: 'decision input must be an object' };
  const p = raw.principal;
  const st = raw.state;
  const filled = {
    ...raw,
    principal: isPlainObject(p) ? { roles: [], attributes: {}, ...p } : p,
    connector: raw.connector ?? null,
    sandbox: raw.sandbox ?? null,
    context: raw.context ?? {},
    state: st === undefined ? { budgets: {}, rates: {} } : isPlainObject(st) ? { budgets: {}, rates: {}, ...st } : st,
  };
  const deep = tooDeep(filled, MAX_INPUT_DEPTH);
  if (deep !== null) return { ok: false, message: `decision input is nested deeper than ${MAX_INPUT_DEPTH} levels at ${deep.slice(0, 200)}` };
  let text: string;
  try {
    text = jcsDecisionString(filled);
  } catch (e) {
    const message = `decision input is not canonicalizable: ${(e as Error).message}`;
    return e instanceof DecimalPrecisionError ? { ok: false, message, reasonCode: 'DECIMAL_PRECISION_EXCEEDED' } : { ok: false, message };
  }
  if (!validateInput(filled)) {
    const err = validateInput.errors?.[0];
    return { ok: false, message: `decision input ${err?.instancePath || '/'} ${err?.message ?? 'is invalid'}` };
  }
  if (parseInstant((filled as { time?: unknown }).time as string) === null) return { ok: false, message: `time ${String((filled as { time?: unknown }).time)} is not a valid instant` };
  if (text.length > MAX_INPUT_BYTES) return { ok: false, message: `decision input exceeds ${MAX_INPUT_BYTES} bytes` };
  // Encoded once: the length check, the digest and the stored copy all use these bytes.
  const bytes = utf8(text);
  if (bytes.length > MAX_INPUT_BYTES) return { ok: false, message: `decision input exceeds ${MAX_INPUT_BYTES} bytes` };
  // The JCS text parses back to a value with no aliasing into the caller's objects, and with the
  // key order every replay of the same text sees (CEL map iteration follows it).
  return { ok: true, input: JSON.parse(text) as DecisionInput, jcs: text, bytes };
}

export function sha256Ref(suite: CryptoSuite, bytes: Uint8Array): HashRef {
  return `sha256:${toHex(suite.sha256(bytes))}`;
}

/** "sha256:" + hex(SHA-256(JCS(canonical input))). */
export function inputDigest(input: DecisionInput, suite: CryptoSuite): HashRef {
  return sha256Ref(suite, utf8(jcsDecisionString(input)));
}

/**
 * The digest recorded for an input that could not be canonicalized: the hash of its general JCS
 * text when it has one (so the record still identifies what was presented), otherwise of the
 * empty string.
 */
export function rawInputDigest(raw: unknown, suite: CryptoSuite): HashRef {
  let text = '';
  try {
    text = jcsString(raw);
  } catch {
    text = '';
  }
  return sha256Ref(suite, utf8(text));
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// One evaluation parses the same instant several times (input check, clock reading, windows).
let lastInstant = '';
let lastMs: number | null = null;

/** Epoch milliseconds of an RFC 3339 UTC millisecond timestamp, or null. */
export function parseInstant(s: string): number | null {
  if (s === lastInstant) return lastMs;
  let ms: number | null = null;
  if (INSTANT.test(s)) {
    const t = Date.parse(s);
    ms = !Number.isSafeInteger(t) || t < 0 || new Date(t).toISOString() !== s ? null : t;
  }
  lastInstant = s;
  lastMs = ms;
  return ms;
}

export function formatInstant(ms: number): string {
  return new Date(ms).toISOString();
}
