// A multi-version object store with etcd's visible semantics: one global, monotonic revision
// bumped by every write and stamped as metadata.resourceVersion; a bounded history of changes that
// lets watches resume from a revision and lists be served at an exact revision; compaction, after
// which older revisions are 410 Gone.
import { errors } from './errors.js';
import type { ManagedEntry } from './fields.js';
import { clone } from './patch.js';
import type { ResourceDef } from './resources.js';

export type Obj = Record<string, any>;
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface Change {
  rv: number;
  res: ResourceDef;
  type: ChangeType;
  key: string;
  object: Obj;
  prev: Obj | undefined;
}

export interface WatchSink {
  readonly res: ResourceDef;
  readonly namespace: string | undefined;
  matches(obj: Obj): boolean;
  send(type: ChangeType | 'ERROR' | 'BOOKMARK', object: Obj): void;
  /** A silenced watch stays open but never hears anything again: a dead TCP connection. */
  silent: boolean;
}

export const objectKey = (ns: string | undefined, name: string): string => `${ns ?? ''}/${name}`;

export class Store {
  private rv: number;
  private readonly objects = new Map<string, Map<string, Obj>>();
  readonly managed = new Map<string, ManagedEntry[]>();
  private history: Change[] = [];
  private compactedRv: number;
  readonly watchers = new Set<WatchSink>();

  constructor(private readonly historyLimit: number, startRv = 1000) {
    this.rv = startRv;
    this.compactedRv = startRv;
  }

  get revision(): number {
    return this.rv;
  }

  get oldestRevision(): number {
    return this.compactedRv;
  }

  private table(res: ResourceDef): Map<string, Obj> {
    let t = this.objects.get(res.id);
    if (!t) {
      t = new Map();
      this.objects.set(res.id, t);
    }
    return t;
  }

  get(res: ResourceDef, ns: string | undefined, name: string): Obj | undefined {
    const o = this.table(res).get(objectKey(ns, name));
    return o ? clone(o) : undefined;
  }

  /** Current objects, optionally in one namespace, sorted by namespace/name like etcd keys. */
  list(res: ResourceDef, ns: string | undefined): Obj[] {
    return [...this.table(res).entries()]
      .filter(([, o]) => ns === undefined || o.metadata.namespace === ns)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => clone(o));
  }

  /** Objects as they were at revision rv (410 if compacted away). */
  listAt(res: ResourceDef, ns: string | undefined, rv: number): Obj[] {
    if (rv < this.compactedRv) throw errors.gone(`too old resource version: ${rv} (${this.compactedRv})`);
    const state = new Map(this.table(res));
    for (let i = this.history.length - 1; i >= 0 && this.history[i]!.rv > rv; i--) {
      const c = this.history[i]!;
      if (c.res.id !== res.id) continue;
      if (c.prev) state.set(c.key, c.prev);
      else state.delete(c.key);
    }
    return [...state.entries()]
      .filter(([, o]) => ns === undefined || o.metadata.namespace === ns)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => clone(o));
  }

  /** Writes one change at the next revision and tells the watchers. */
  commit(res: ResourceDef, type: ChangeType, object: Obj, prev: Obj | undefined): Obj {
    this.rv += 1;
    const stored = clone(object);
    stored.metadata.resourceVersion = String(this.rv);
    const key = objectKey(stored.metadata.namespace, stored.metadata.name);
    if (type === 'DELETED') {
      this.table(res).delete(key);
      this.managed.delete(stored.metadata.uid);
    } else this.table(res).set(key, stored);
    this.history.push({ rv: this.rv, res, type, key, object: stored, prev });
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const w of this.watchers) this.deliver(w, res, type, stored, prev);
    return clone(stored);
  }

  private deliver(w: WatchSink, res: ResourceDef, type: ChangeType, object: Obj, prev: Obj | undefined): void {
    if (w.silent || w.res.id !== res.id) return;
    if (w.namespace !== undefined && object.metadata.namespace !== w.namespace) return;
    const now = type !== 'DELETED' && w.matches(object);
    const before = prev !== undefined && w.matches(prev);
    if (type === 'DELETED') {
      if (w.matches(object)) w.send('DELETED', clone(object));
    } else if (now && before) w.send('MODIFIED', clone(object));
    else if (now) w.send('ADDED', clone(object));
    else if (before) w.send('DELETED', clone(object));
  }

  /**
   * Registers a watch from revision `from` (undefined: synthetic ADDED events for the current
   * state first). Returns false after sending a 410 ERROR when `from` is older than the history.
   */
  watch(w: WatchSink, from: number | undefined): boolean {
    if (from === undefined) {
      for (const o of this.list(w.res, w.namespace)) if (w.matches(o)) w.send('ADDED', o);
    } else {
      if (from < this.compactedRv) {
        w.send('ERROR', errors.gone(`too old resource version: ${from} (${this.compactedRv})`).status());
        return false;
      }
      for (const c of this.history) {
        if (c.rv > from) this.deliver(w, c.res, c.type, c.object, c.prev);
      }
    }
    this.watchers.add(w);
    return true;
  }

  /** Drops the whole history, as etcd compaction does: older revisions become 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }
}
