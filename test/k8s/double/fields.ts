// Field ownership for server-side apply. Ownership is tracked per leaf path (maps are walked, lists
// and scalars are atomic, empty maps own nothing), per manager, operation (Apply / Update) and subresource, and rendered
// as metadata.managedFields in FieldsV1 form. Apply conflicts when another manager owns a leaf the
// applied configuration sets to a different value; force takes the leaf over. Update (PUT, PATCH,
// create) never conflicts and takes every leaf it changes.
import type { StatusCause } from './errors.js';
import { clone, deepEqual } from './patch.js';

export type Path = readonly string[];
export type Scope = 'main' | 'status';

export interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  subresource: '' | 'status';
  apiVersion: string;
  time: string;
  fields: Set<string>;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const META_OWNED = new Set(['labels', 'annotations', 'finalizers', 'ownerReferences']);

/** Leaf paths of the fields of obj that ownership covers in the given scope. */
export function leafPaths(obj: Obj, scope: Scope, statusSubresource: boolean): Path[] {
  const out: Path[] = [];
  // An empty map claims nothing (only its members are owned); lists and scalars are atomic.
  const walk = (v: unknown, path: string[]): void => {
    if (isObj(v)) for (const [k, c] of Object.entries(v)) walk(c, [...path, k]);
    else out.push(path);
  };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (k === 'metadata') {
      if (scope === 'status' || !isObj(v)) continue;
      for (const [mk, mv] of Object.entries(v)) if (META_OWNED.has(mk)) walk(mv, ['metadata', mk]);
      continue;
    }
    if (statusSubresource && (scope === 'status') !== (k === 'status')) continue;
    walk(v, [k]);
  }
  return out;
}

export const key = (p: Path): string => JSON.stringify(p);
export const unkey = (k: string): Path => JSON.parse(k) as string[];

export function getPath(obj: unknown, path: Path): unknown {
  let cur = obj;
  for (const s of path) cur = isObj(cur) ? cur[s] : undefined;
  return cur;
}

export function setPath(obj: Obj, path: Path, value: unknown): void {
  let cur = obj;
  for (const s of path.slice(0, -1)) {
    if (!isObj(cur[s])) cur[s] = {};
    cur = cur[s] as Obj;
  }
  cur[path[path.length - 1]!] = clone(value);
}

/** Removes a leaf and any map it leaves empty on the way up. */
export function deletePath(obj: Obj, path: Path): void {
  const chain: Obj[] = [obj];
  for (const s of path.slice(0, -1)) {
    const next = chain[chain.length - 1]![s];
    if (!isObj(next)) return;
    chain.push(next);
  }
  delete chain[chain.length - 1]![path[path.length - 1]!];
  for (let i = chain.length - 1; i > 0; i--) {
    if (Object.keys(chain[i]!).length > 0) break;
    delete chain[i - 1]![path[i - 1]!];
  }
}

function overlap(a: Path, b: Path): Path | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return null;
  return a.length <= b.length ? a : b;
}

function dotted(p: Path): string {
  return p.map((s) => (/^[A-Za-z0-9_]+$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join('');
}

export interface ApplyOutcome {
  object: Obj;
  entries: ManagedEntry[];
}

/**
 * Server-side apply of `config` by `manager` onto `current` (an empty object for a create).
 * Throws the conflicts (as Status causes) unless force.
 */
export function applyConfig(
  current: Obj,
  config: Obj,
  o: { manager: string; force: boolean; scope: Scope; statusSubresource: boolean; entries: readonly ManagedEntry[]; apiVersion: string; now: string },
): ApplyOutcome | { conflicts: StatusCause[] } {
  const sub = o.scope === 'status' ? 'status' : '';
  const applied = leafPaths(config, o.scope, o.statusSubresource);
  const entries = o.entries.map((e) => ({ ...e, fields: new Set(e.fields) }));
  const conflicts: StatusCause[] = [];
  for (const e of entries) {
    if (e.manager === o.manager) continue;
    for (const owned of [...e.fields]) {
      const q = unkey(owned);
      for (const p of applied) {
        const shared = overlap(p, q);
        if (!shared || deepEqual(getPath(current, shared), getPath(config, shared))) continue;
        if (o.force) e.fields.delete(owned);
        else conflicts.push({ type: 'FieldManagerConflict', field: dotted(shared), message: `conflict with "${e.manager}"${e.operation === 'Update' ? ' using ' + e.apiVersion : ''}: ${dotted(shared)}` });
        break;
      }
    }
  }
  if (conflicts.length > 0) return { conflicts };
  const object = clone(current);
  const mine = entries.find((e) => e.manager === o.manager && e.operation === 'Apply' && e.subresource === sub);
  const appliedKeys = new Set(applied.map(key));
  for (const prev of mine?.fields ?? []) {
    if (appliedKeys.has(prev)) continue;
    const p = unkey(prev);
    const ownedElsewhere = entries.some((e) => e !== mine && [...e.fields].some((f) => overlap(unkey(f), p)));
    if (!ownedElsewhere) deletePath(object, p);
  }
  for (const p of applied) setPath(object, p, getPath(config, p));
  const rest = entries.filter((e) => e !== mine && e.fields.size > 0);
  rest.push({ manager: o.manager, operation: 'Apply', subresource: sub, apiVersion: o.apiVersion, time: o.now, fields: appliedKeys });
  return { object, entries: rest };
}

/** Ownership after a non-apply write: the writer takes every leaf it changed; removed leaves are released. */
export function recordUpdate(
  before: Obj | undefined,
  after: Obj,
  o: { manager: string; scope: Scope; statusSubresource: boolean; entries: readonly ManagedEntry[]; apiVersion: string; now: string },
): ManagedEntry[] {
  const sub = o.scope === 'status' ? 'status' : '';
  const afterLeaves = leafPaths(after, o.scope, o.statusSubresource);
  const afterKeys = new Set(afterLeaves.map(key));
  const changed = afterLeaves.filter((p) => !before || !deepEqual(getPath(before, p), getPath(after, p))).map(key);
  const beforeKeys = before ? leafPaths(before, o.scope, o.statusSubresource).map(key) : [];
  const removed = beforeKeys.filter((k) => !afterKeys.has(k));
  const entries = o.entries.map((e) => ({ ...e, fields: new Set(e.fields) }));
  for (const e of entries) for (const k of [...changed, ...removed]) {
    const p = unkey(k);
    for (const f of [...e.fields]) if (overlap(unkey(f), p)) e.fields.delete(f);
  }
  const kept = entries.filter((e) => e.fields.size > 0);
  if (changed.length === 0) return kept;
  let mine = kept.find((e) => e.manager === o.manager && e.operation === 'Update' && e.subresource === sub);
  if (!mine) {
    mine = { manager: o.manager, operation: 'Update', subresource: sub, apiVersion: o.apiVersion, time: o.now, fields: new Set() };
    kept.push(mine);
  }
  for (const k of changed) mine.fields.add(k);
  mine.time = o.now;
  return kept;
}

/** metadata.managedFields as the API server returns it (FieldsV1: nested "f:<name>" maps). */
export function renderManagedFields(entries: readonly ManagedEntry[]): Obj[] {
  return entries.map((e) => {
    const fieldsV1: Obj = {};
    for (const k of e.fields) {
      let cur = fieldsV1;
      for (const s of unkey(k)) {
        const f = `f:${s}`;
        if (!isObj(cur[f])) cur[f] = {};
        cur = cur[f] as Obj;
      }
    }
    return {
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      time: e.time,
      fieldsType: 'FieldsV1',
      fieldsV1,
      ...(e.subresource ? { subresource: e.subresource } : {}),
    };
  });
}
