// Turns whatever a surface hands the PEP into (a) an intent body that always satisfies the intent
// schema, so even a garbage request leaves a signed trace, and (b) the raw DecisionInput draft the
// Guardian judges. Nothing here decides: a malformed request is denied by the evaluation
// (ENVELOPE_INVALID) or, for the PEP-only field idempotencyKey, by the PEP's request check.
import { toHex, utf8 } from '../crypto/bytes.js';
import { jcsString } from '../crypto/jcs.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { HashRef } from '../contracts/node.js';
import { SURFACES, type Surface } from '../guardian/bundle-types.js';

export interface IntentBody {
  surface: Surface;
  callId: string;
  tool: string;
  principal: string;
  argsDigest: HashRef;
  idempotencyKey?: string;
}

export interface ReadRequest {
  intent: IntentBody;
  /** The request's fields as DecisionInput fields, not yet validated (time, policyDigest, state added later). */
  draft: Record<string, unknown>;
  principalId: string | null;
  toolName: string | null;
  idempotencyKey: string | null;
  /** Set when a PEP-only field is malformed (the Guardian does not see it). */
  problem: string | null;
}

const MAX_ID = 256;
const REQUEST_FIELDS = ['callId', 'surface', 'principal', 'tool', 'args', 'connector', 'sandbox', 'context', 'idempotencyKey'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function digestOf(suite: CryptoSuite, v: unknown): HashRef {
  let text = '';
  try {
    text = jcsString(v);
  } catch {
    text = '';
  }
  return `sha256:${toHex(suite.sha256(utf8(text)))}`;
}

const okString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max && v.isWellFormed();

/**
 * Never throws. Fields the intent schema would refuse are replaced by placeholders that cannot be
 * mistaken for real values: `invalid:<sha256 of the request>` for a callId, `(invalid)` otherwise.
 */
export function readRequest(raw: unknown, suite: CryptoSuite, fallbackSurface: Surface): ReadRequest {
  const r = isObject(raw) ? raw : {};
  const p = isObject(r.principal) ? r.principal : null;
  const principalId = p && okString(p.id, 512) ? p.id : null;
  const toolName = okString(r.tool, 512) ? r.tool : null;
  const surface = typeof r.surface === 'string' && (SURFACES as readonly string[]).includes(r.surface) ? (r.surface as Surface) : fallbackSurface;
  const callId = okString(r.callId, MAX_ID) ? r.callId : `invalid:${digestOf(suite, raw).slice(7)}`;
  let idempotencyKey: string | null = null;
  let problem: string | null = null;
  const unknown = Object.keys(r).filter((k) => !REQUEST_FIELDS.includes(k));
  if (unknown.length > 0) problem = `unknown request field ${JSON.stringify(unknown[0])}`;
  if (r.idempotencyKey !== undefined && r.idempotencyKey !== null) {
    if (okString(r.idempotencyKey, MAX_ID)) idempotencyKey = r.idempotencyKey;
    else problem = 'idempotencyKey must be a string of 1 to 256 characters';
  }
  const intent: IntentBody = {
    surface,
    callId,
    tool: toolName ?? '(invalid)',
    principal: principalId ?? '(invalid)',
    argsDigest: digestOf(suite, r.args),
    ...(idempotencyKey !== null ? { idempotencyKey } : {}),
  };
  // Only the DecisionInput fields go to the Guardian; a request that is not an object keeps its
  // garbage visible (as an unknown field) so the evaluation refuses it rather than a default.
  const draft: Record<string, unknown> = isObject(raw)
    ? { callId: r.callId, surface: r.surface, principal: r.principal, tool: r.tool, args: r.args, connector: r.connector, sandbox: r.sandbox, context: r.context }
    : { request: raw ?? null };
  for (const k of Object.keys(draft)) if (draft[k] === undefined) delete draft[k];
  return { intent, draft, principalId, toolName, idempotencyKey, problem };
}

/**
 * The identity that links a retried call to its approval ceremony or an earlier allow: the
 * principal's idempotency key when it gives one, else principal, tool and arguments.
 */
export function callKey(principal: string, tool: string, argsDigest: HashRef, idempotencyKey: string | null): string {
  return idempotencyKey !== null ? JSON.stringify(['key', principal, idempotencyKey]) : JSON.stringify(['args', principal, tool, argsDigest]);
}
