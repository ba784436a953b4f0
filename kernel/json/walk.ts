// The same limits for a value some other parser already produced (the MCP SDK parses JSON-RPC
// itself): an iterative walk, so a deep value is refused before any recursive code sees it.
// Duplicate keys cannot be seen here any more; that is why raw text goes through parseStrictJson.
import type { JsonInputError, JsonLimits } from './parse.js';
import { DEFAULT_JSON_LIMITS } from './parse.js';

/** null when `value` is plain JSON within `limits`, else the first problem found. Never throws. */
export function checkJsonValue(value: unknown, limits: Partial<Pick<JsonLimits, 'maxDepth'>> = {}): JsonInputError | null {
  const maxDepth = limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth;
  const todo: Array<{ v: unknown; depth: number; path: string }> = [{ v: value, depth: 0, path: '' }];
  const problem = (code: JsonInputError['code'], message: string, path: string): JsonInputError => ({ code, message, path: path.length > 256 ? `${path.slice(0, 255)}…` : path, offset: 0 });
  const seg = (s: string) => `/${s.toWellFormed().replace(/~/g, '~0').replace(/\//g, '~1')}`;
  while (todo.length > 0) {
    const { v, depth, path } = todo.pop()!;
    if (v === null || typeof v === 'boolean') continue;
    if (typeof v === 'string') {
      if (!v.isWellFormed()) return problem('invalid_unicode', 'a string contains a lone surrogate; send well-formed Unicode', path);
      continue;
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return problem('number_range', 'a number is not finite (I-JSON, RFC 7493)', path);
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) return problem('number_range', `the integer ${v} is beyond ±(2^53−1) (I-JSON, RFC 7493); send it as a string`, path);
      continue;
    }
    if (typeof v !== 'object') return problem('syntax', `a ${typeof v} is not a JSON value`, path);
    if (depth + 1 > maxDepth) return problem('too_deep', `nesting deeper than ${maxDepth} levels; flatten the value`, path);
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) todo.push({ v: v[i], depth: depth + 1, path: path.length > 256 ? path : `${path}/${i}` });
      continue;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return problem('syntax', 'not a plain JSON object', path);
    const entries = Object.entries(v as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, x] = entries[i]!;
      if (!k.isWellFormed()) return problem('invalid_unicode', 'a key contains a lone surrogate; send well-formed Unicode', path);
      todo.push({ v: x, depth: depth + 1, path: path.length > 256 ? path : path + seg(k) });
    }
  }
  return null;
}

/**
 * True when `value` nests objects and arrays at most `maxDepth` deep: an iterative check for a
 * value parsed leniently (a provider's answer, where lone surrogates and the like are passed on
 * but recursion on it must stay bounded).
 */
export function depthWithin(value: unknown, maxDepth: number): boolean {
  const todo: Array<[unknown, number]> = [[value, 0]];
  while (todo.length > 0) {
    const [v, d] = todo.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > maxDepth) return false;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (typeof x === 'object' && x !== null) todo.push([x, d + 1]);
  }
  return true;
}
