// Label and field selectors as the API server parses them from ?labelSelector= / ?fieldSelector=.
import { errors } from './errors.js';

type LabelRequirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type Labels = Record<string, string> | undefined;

/** Splits on commas outside parentheses: "a in (x,y),b" -> ["a in (x,y)", "b"]. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

export function parseLabelSelector(text: string | null): (labels: Labels) => boolean {
  if (!text) return () => true;
  const reqs: LabelRequirement[] = splitTerms(text).map((term) => {
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) return { op: m[2] as 'in' | 'notin', key: m[1]!, values: m[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '') };
    m = /^!\s*(\S+)$/.exec(term);
    if (m) return { op: 'notexists', key: m[1]! };
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (m) return { op: m[2] === '!=' ? 'neq' : 'eq', key: m[1]!, value: m[3]! };
    if (/^[^=!\s()]+$/.test(term)) return { op: 'exists', key: term };
    throw errors.badRequest(`unable to parse requirement: ${term}`);
  });
  return (labels) => {
    const l = labels ?? {};
    return reqs.every((r) => {
      const has = Object.hasOwn(l, r.key);
      switch (r.op) {
        case 'eq': return has && l[r.key] === r.value;
        case 'neq': return !has || l[r.key] !== r.value;
        case 'in': return has && r.values.includes(l[r.key]!);
        case 'notin': return !has || !r.values.includes(l[r.key]!);
        case 'exists': return has;
        case 'notexists': return !has;
      }
    });
  };
}

/** Field selectors: equality on dotted paths (metadata.name, metadata.namespace, status.phase...). */
export function parseFieldSelector(text: string | null): (obj: Record<string, unknown>) => boolean {
  if (!text) return () => true;
  const reqs = splitTerms(text).map((term) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw errors.badRequest(`invalid field selector: ${term}`);
    return { path: m[1]!.split('.'), neg: m[2] === '!=', value: m[3]! };
  });
  return (obj) =>
    reqs.every((r) => {
      let v: unknown = obj;
      for (const p of r.path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
      const s = v === undefined || v === null ? '' : String(v);
      return r.neg ? s !== r.value : s === r.value;
    });
}
