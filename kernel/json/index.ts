// Strict JSON for what the kernel judges: parse (iterative, limited, no duplicate keys, I-JSON)
// and the canonical text (RFC 8785 JCS) of exactly the parsed value.
import { jcsString } from '../crypto/jcs.js';
import { parseStrictJson, type JsonLimits, type StrictJson } from './parse.js';

export { DEFAULT_JSON_LIMITS, parseStrictJson, type JsonErrorCode, type JsonInputError, type JsonLimits, type StrictJson } from './parse.js';
export { checkJsonValue, depthWithin } from './walk.js';

/**
 * Parses `text` strictly and returns the value with its JCS text: what a surface delivers after a
 * decision is this text, never the input, so every executor reads exactly what was judged.
 */
export function canonicalJson(text: string | Uint8Array, limits: Partial<JsonLimits> = {}): (StrictJson & { ok: false }) | { ok: true; value: unknown; canonical: string } {
  const r = parseStrictJson(text, limits);
  if (!r.ok) return r;
  return { ok: true, value: r.value, canonical: jcsString(r.value) };
}
