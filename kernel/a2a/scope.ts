// A delegated scope: the skills the delegatee may use at the callee, the tools delegated work may
// use there, and a budget of calls. Narrowing is set inclusion plus a smaller budget, so the
// intersection of any chain is never wider than any link.
import { isObject, keysProblem } from './refusal.js';

export interface Scope {
  /** Sorted, unique. */
  readonly skills: readonly string[];
  readonly tools: readonly string[];
  /** Calls the delegatee may make under the token. */
  readonly budget: number;
}

const NAME = /^[A-Za-z0-9._:/*-]{1,128}$/;
export const MAX_SCOPE_ITEMS = 64;
export const MAX_BUDGET = 1_000_000;

function names(v: unknown, field: string): string[] | string {
  if (!Array.isArray(v) || v.length > MAX_SCOPE_ITEMS) return `${field} must be a list of at most ${MAX_SCOPE_ITEMS} names`;
  for (const x of v) if (typeof x !== 'string' || !NAME.test(x)) return `${field} holds ${JSON.stringify(x)}: names are 1 to 128 characters [A-Za-z0-9._:/*-]`;
  const sorted = [...new Set(v as string[])].sort();
  if (sorted.length !== v.length) return `${field} repeats a name`;
  return sorted;
}

/** A scope as it arrives (token, request metadata): strict, or a message naming the field. */
export function readScope(v: unknown, where: string): Scope | string {
  if (!isObject(v)) return `${where} must be an object {skills, tools, budget}`;
  const k = keysProblem(v, ['skills', 'tools', 'budget']);
  if (k) return `${where}: ${k}`;
  const skills = names(v.skills, `${where}.skills`);
  if (typeof skills === 'string') return skills;
  const tools = names(v.tools, `${where}.tools`);
  if (typeof tools === 'string') return tools;
  if (!Number.isSafeInteger(v.budget) || (v.budget as number) < 0 || (v.budget as number) > MAX_BUDGET) return `${where}.budget must be an integer 0..${MAX_BUDGET}`;
  return { skills, tools, budget: v.budget as number };
}

/** `name` matches a pattern exactly or, for a trailing '*', by prefix. */
export function matches(pattern: string, name: string): boolean {
  return pattern === '*' || pattern === name || (pattern.endsWith('*') && name.startsWith(pattern.slice(0, -1)));
}

/** Every name of `inner` is covered by a pattern of `outer` (a pattern only by the same or a wider pattern). */
export function covered(inner: readonly string[], outer: readonly string[]): string[] {
  return inner.filter((n) => !outer.some((o) => matches(o, n)));
}

/** What `child` asks beyond `parent` (empty: child ⊆ parent). */
export function widening(child: Scope, parent: Scope): string[] {
  const out: string[] = [];
  for (const s of covered(child.skills, parent.skills)) out.push(`skill ${s}`);
  for (const t of covered(child.tools, parent.tools)) out.push(`tool ${t}`);
  if (child.budget > parent.budget) out.push(`budget ${child.budget} > ${parent.budget}`);
  return out;
}

/** The names of `a` that `b` covers, and the smaller budget. */
export function intersect(a: Scope, b: Scope): Scope {
  const keep = (x: readonly string[], y: readonly string[]) => x.filter((n) => y.some((p) => matches(p, n)));
  return { skills: keep(a.skills, b.skills), tools: keep(a.tools, b.tools), budget: Math.min(a.budget, b.budget) };
}
