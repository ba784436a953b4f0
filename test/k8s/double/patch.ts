// The three patch formats the API server accepts besides apply: RFC 6902 JSON patch, RFC 7386
// merge patch and (for built-in kinds only) a strategic merge patch that merges object lists by
// their "name" key, finalizers as a set, and honours $patch: delete / replace.
import { errors } from './errors.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function clone<T>(v: T): T {
  return structuredClone(v);
}

function isObj(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw errors.badRequest(`invalid JSON pointer ${path}`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, segs: string[], path: string): { parent: Json; last: string } {
  let cur: Json = doc;
  for (const s of segs.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(cur) ? cur[Number(s)] : isObj(cur) ? cur[s] : undefined;
    if (next === undefined) throw errors.invalidPatch(`path ${path} does not exist`);
    cur = next;
  }
  return { parent: cur, last: segs[segs.length - 1]! };
}

function getAt(doc: Json, path: string): Json {
  let cur: Json | undefined = doc;
  for (const s of pointer(path)) {
    cur = Array.isArray(cur) ? cur[Number(s)] : isObj(cur) ? cur[s] : undefined;
    if (cur === undefined) throw errors.invalidPatch(`path ${path} does not exist`);
  }
  return cur;
}

function addAt(doc: Json, path: string, value: Json): Json {
  const segs = pointer(path);
  if (segs.length === 0) return value;
  const { parent, last } = parentOf(doc, segs, path);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) throw errors.invalidPatch(`index ${last} out of range at ${path}`);
    parent.splice(i, 0, value);
  } else if (isObj(parent)) parent[last] = value;
  else throw errors.invalidPatch(`cannot add at ${path}`);
  return doc;
}

function removeAt(doc: Json, path: string): Json {
  const segs = pointer(path);
  const { parent, last } = parentOf(doc, segs, path);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw errors.invalidPatch(`index ${last} out of range at ${path}`);
    parent.splice(i, 1);
  } else if (isObj(parent) && Object.hasOwn(parent, last)) delete parent[last];
  else throw errors.invalidPatch(`path ${path} does not exist`);
  return doc;
}

export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw errors.badRequest('a JSON patch must be an array of operations');
  let doc = clone(target) as Json;
  for (const raw of ops) {
    if (!isObj(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw errors.badRequest('malformed JSON patch operation');
    const path = raw.path;
    switch (raw.op) {
      case 'add': doc = addAt(doc, path, clone(raw.value ?? null)); break;
      case 'remove': doc = removeAt(doc, path); break;
      case 'replace': getAt(doc, path); doc = addAt(removeAt(doc, path), path, clone(raw.value ?? null)); break;
      case 'move': { const v = getAt(doc, String(raw.from)); doc = addAt(removeAt(doc, String(raw.from)), path, v); break; }
      case 'copy': doc = addAt(doc, path, clone(getAt(doc, String(raw.from)))); break;
      case 'test': if (!deepEqual(getAt(doc, path), raw.value)) throw errors.invalidPatch(`test operation failed at ${path}`); break;
      default: throw errors.badRequest(`unknown JSON patch op ${raw.op}`);
    }
  }
  return doc;
}

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, Json> = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v) as Json;
  }
  return out;
}

const SET_LISTS = new Set(['finalizers']);

export function applyStrategicMergePatch(target: unknown, patch: unknown, key?: string): unknown {
  if (Array.isArray(patch)) return mergeList(Array.isArray(target) ? target : [], patch, key);
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return clone(rest);
  }
  const out: Record<string, Json> = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else out[k] = applyStrategicMergePatch(out[k], v, k) as Json;
  }
  return out;
}

function mergeList(target: Json[], patch: Json[], key?: string): Json[] {
  if (key && SET_LISTS.has(key) && patch.every((p) => typeof p === 'string')) return [...new Set([...(target as string[]), ...(patch as string[])])];
  const keyed = patch.every((p) => isObj(p) && typeof p.name === 'string') && target.every((t) => isObj(t) && typeof t.name === 'string');
  if (!keyed || patch.length === 0) return clone(patch);
  const out = clone(target) as Record<string, Json>[];
  for (const p of patch as Record<string, Json>[]) {
    const i = out.findIndex((t) => t.name === p.name);
    if (p.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = applyStrategicMergePatch(out[i], p) as Record<string, Json>;
    else out.push(applyStrategicMergePatch({}, p) as Record<string, Json>);
  }
  return out;
}
