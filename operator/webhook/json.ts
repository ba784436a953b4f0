// Pods arrive as raw JSON and leave as JSON patches against that same raw JSON. They are never
// round-tripped through typed models: fields this code does not know (newer Kubernetes versions,
// other webhooks' additions) must survive untouched.
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function objectAt(v: unknown, ...path: string[]): JsonObject | undefined {
  let cur: unknown = v;
  for (const key of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return isObject(cur) ? cur : undefined;
}

export function arrayAt(v: unknown, ...path: string[]): Json[] | undefined {
  const parent = path.length > 1 ? objectAt(v, ...path.slice(0, -1)) : isObject(v) ? v : undefined;
  const last = path[path.length - 1];
  const cur = parent && last !== undefined ? parent[last] : undefined;
  return Array.isArray(cur) ? cur : undefined;
}

export function stringAt(v: unknown, ...path: string[]): string | undefined {
  const parent = objectAt(v, ...path.slice(0, -1));
  const last = path[path.length - 1];
  const cur = parent && last !== undefined ? parent[last] : undefined;
  return typeof cur === 'string' ? cur : undefined;
}

/** String-valued entries of a labels/annotations map; anything else is ignored, never coerced. */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** RFC 6901: "~" -> "~0" first, then "/" -> "~1" (annotation keys contain "/"). */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(...tokens: (string | number)[]): string {
  return tokens.map((t) => '/' + escapePointer(String(t))).join('');
}

export type PatchOp =
  | { op: 'add'; path: string; value: Json }
  | { op: 'replace'; path: string; value: Json };

/** Structural equality for JSON values (object key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}
