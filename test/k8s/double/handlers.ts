// The verbs: get, list, create, update (PUT), patch (JSON, merge, strategic, apply) and delete,
// with the API server's write pipeline: immutable metadata, status subresource split, admission
// (schema or built-in rules), generation, finalizers, managedFields, optimistic concurrency and
// no-op detection.
import { randomBytes, randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { ApiError, errors } from './errors.js';
import { applyConfig, recordUpdate, renderManagedFields, type ManagedEntry, type Scope } from './fields.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, clone, deepEqual } from './patch.js';
import type { ResourceDef } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Obj, Store } from './store.js';

export interface ApiRequest {
  res: ResourceDef;
  namespace: string | undefined;
  name: string | undefined;
  subresource: 'status' | undefined;
  query: URLSearchParams;
  body: unknown;
  contentType: string;
  userAgent: string;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface WriteOptions {
  manager: string;
  scope: Scope;
  entries?: ManagedEntry[];
  dryRun: boolean;
}

export class Handlers {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  private timestamp(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private managerOf(r: ApiRequest): string {
    return r.query.get('fieldManager') ?? (r.userAgent.split('/')[0] || 'unknown');
  }

  private existing(r: ApiRequest): Obj {
    const cur = this.store.get(r.res, r.namespace, r.name!);
    if (!cur) throw errors.notFound(r.res, r.name!);
    return cur;
  }

  private requireNamespace(r: ApiRequest, creating: boolean): void {
    if (!r.res.namespaced || r.namespace === undefined) return;
    const nsRes = this.namespaces();
    const ns = this.store.get(nsRes, undefined, r.namespace);
    if (!ns) throw errors.namespaceNotFound(r.namespace);
    if (creating && ns.metadata.deletionTimestamp) {
      throw new ApiError(403, 'Forbidden', `${r.res.plural} "${r.name ?? ''}" is forbidden: unable to create new content in namespace ${r.namespace} because it is being terminated`);
    }
  }

  namespacesDef: ResourceDef | undefined;
  private namespaces(): ResourceDef {
    if (!this.namespacesDef) throw new Error('namespaces resource not registered');
    return this.namespacesDef;
  }

  /** GET of the object and of its /status subresource return the whole object, as the real server does. */
  get(r: ApiRequest): Obj {
    return this.existing(r);
  }

  list(r: ApiRequest): Obj {
    const labels = parseLabelSelector(r.query.get('labelSelector'));
    const fields = parseFieldSelector(r.query.get('fieldSelector'));
    const limit = Number(r.query.get('limit') ?? 0);
    const cont = r.query.get('continue');
    const rvParam = r.query.get('resourceVersion');
    const match = r.query.get('resourceVersionMatch');
    let rv = this.store.revision;
    let start = '';
    let items: Obj[];
    if (cont) {
      let token: { rv: number; start: string };
      try {
        token = JSON.parse(Buffer.from(cont, 'base64').toString('utf8')) as { rv: number; start: string };
      } catch {
        throw errors.badRequest('continue key is not valid');
      }
      if (token.rv < this.store.oldestRevision) {
        throw errors.gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      rv = token.rv;
      start = token.start;
      items = this.store.listAt(r.res, r.namespace, rv);
    } else if (rvParam && rvParam !== '0') {
      const want = Number(rvParam);
      if (!Number.isInteger(want) || want < 0) throw errors.badRequest(`invalid resource version: ${rvParam}`);
      if (want > this.store.revision) throw errors.tooLargeResourceVersion(want, this.store.revision);
      if (match === 'Exact') {
        rv = want;
        items = this.store.listAt(r.res, r.namespace, want);
      } else items = this.store.list(r.res, r.namespace);
    } else items = this.store.list(r.res, r.namespace);
    const keyOf = (o: Obj): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    items = items.filter((o) => keyOf(o) > start && labels(o.metadata.labels) && fields(o));
    const metadata: Obj = { resourceVersion: String(rv) };
    if (limit > 0 && items.length > limit) {
      const page = items.slice(0, limit);
      metadata.continue = Buffer.from(JSON.stringify({ rv, start: keyOf(page[page.length - 1]!) })).toString('base64');
      metadata.remainingItemCount = items.length - limit;
      items = page;
    }
    return { apiVersion: r.res.apiVersion, kind: r.res.listKind, metadata, items };
  }

  create(r: ApiRequest): { code: number; body: Obj } {
    if (!isObj(r.body)) throw errors.badRequest('the request body must be an object');
    const obj = clone(r.body);
    this.checkTypeMeta(r.res, obj);
    const meta: Obj = isObj(obj.metadata) ? obj.metadata : {};
    obj.metadata = meta;
    if (!meta.name && typeof meta.generateName === 'string') meta.name = `${meta.generateName}${randomBytes(4).toString('hex').slice(0, 5)}`;
    if (typeof meta.name !== 'string' || meta.name === '') throw errors.invalid(r.res, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    if (r.res.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== r.namespace) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = r.namespace;
    }
    const name = meta.name as string;
    this.requireNamespace({ ...r, name }, true);
    if (this.store.get(r.res, r.namespace, name)) throw errors.alreadyExists(r.res, name);
    const created = this.admitNew(r, obj, { manager: this.managerOf(r), scope: 'main', dryRun: r.query.get('dryRun') === 'All' });
    return { code: 201, body: created };
  }

  /** Shared by create and apply-create: server-set metadata, admission, ownership, commit. */
  private admitNew(r: ApiRequest, obj: Obj, o: WriteOptions): Obj {
    const meta = obj.metadata as Obj;
    for (const f of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'generation']) delete meta[f];
    meta.uid = randomUUID();
    meta.creationTimestamp = this.timestamp();
    if (r.res.custom) meta.generation = 1;
    if (r.res.statusSubresource && r.res.custom) delete obj.status;
    if (r.res.plural === 'namespaces' && !r.res.group) obj.status = { phase: 'Active' };
    this.admit(r.res, obj);
    const entries = o.entries ?? recordUpdate(undefined, obj, { manager: o.manager, scope: 'main', statusSubresource: r.res.statusSubresource, entries: [], apiVersion: r.res.apiVersion, now: this.timestamp() });
    meta.managedFields = renderManagedFields(entries);
    if (o.dryRun) return obj;
    const stored = this.store.commit(r.res, 'ADDED', obj, undefined);
    this.store.managed.set(meta.uid as string, entries);
    return stored;
  }

  private checkTypeMeta(res: ResourceDef, obj: Obj): void {
    if (obj.apiVersion !== undefined && obj.apiVersion !== res.apiVersion) throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${res.apiVersion})`);
    if (obj.kind !== undefined && obj.kind !== res.kind) throw errors.badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${res.kind})`);
    obj.apiVersion = res.apiVersion;
    obj.kind = res.kind;
  }

  private admit(res: ResourceDef, obj: Obj, old?: Obj): void {
    const name = String(obj.metadata.name);
    const causes = [];
    const nameOk = res.plural === 'namespaces' && !res.group ? DNS_LABEL.test(name) && name.length <= 63 : DNS_SUBDOMAIN.test(name) && name.length <= 253;
    if (!nameOk) causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 ${res.plural === 'namespaces' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.'` });
    for (const f of ['labels', 'annotations'] as const) {
      const m = obj.metadata[f];
      if (m !== undefined && (!isObj(m) || Object.values(m).some((v) => typeof v !== 'string'))) causes.push({ field: `metadata.${f}`, message: 'must be a map of strings' });
    }
    const labels = isObj(obj.metadata.labels) ? obj.metadata.labels : {};
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v === 'string' && !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)) causes.push({ field: `metadata.labels`, message: `Invalid value: "${v}": a valid label value for ${k} must be 63 characters or less and consist of alphanumerics, '-', '_' or '.'` });
      else if (typeof v === 'string' && v.length > 63) causes.push({ field: `metadata.labels`, message: `Invalid value: "${v}": must be no more than 63 characters` });
    }
    if (res.schema) causes.push(...res.schema.admit(obj, old));
    if (res.admit) causes.push(...res.admit(obj));
    if (causes.length > 0) throw errors.invalid(res, name, causes);
  }

  /** The update pipeline shared by PUT, PATCH and apply. */
  private replace(r: ApiRequest, prev: Obj, incoming: Obj, o: WriteOptions): Obj {
    const res = r.res;
    let next = clone(incoming);
    this.checkTypeMeta(res, next);
    if (!isObj(next.metadata)) next.metadata = {};
    if (o.scope === 'status') {
      const status = next.status;
      next = clone(prev);
      if (status === undefined) delete next.status;
      else next.status = status;
    } else if (res.statusSubresource) {
      if (prev.status === undefined) delete next.status;
      else next.status = clone(prev.status);
    }
    const meta = next.metadata as Obj;
    for (const f of ['uid', 'creationTimestamp', 'namespace', 'name', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds']) {
      if (prev.metadata[f] === undefined) delete meta[f];
      else meta[f] = prev.metadata[f];
    }
    meta.resourceVersion = prev.metadata.resourceVersion;
    if (prev.metadata.deletionTimestamp) {
      const before = new Set<string>(prev.metadata.finalizers ?? []);
      const added = ((meta.finalizers ?? []) as string[]).filter((f) => !before.has(f));
      if (added.length > 0) throw errors.invalid(res, String(meta.name), [{ reason: 'FieldValueForbidden', field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` }]);
    }
    this.admit(res, next, prev);
    if (res.custom) {
      const strip = (x: Obj): Obj => {
        const { metadata: _m, status: _s, ...rest } = x;
        return rest;
      };
      if (!deepEqual(strip(prev), strip(next))) meta.generation = Number(prev.metadata.generation ?? 0) + 1;
    }
    const entries =
      o.entries ??
      recordUpdate(prev, next, { manager: o.manager, scope: o.scope, statusSubresource: res.statusSubresource, entries: this.store.managed.get(prev.metadata.uid) ?? [], apiVersion: res.apiVersion, now: this.timestamp() });
    const comparable = (x: Obj): Obj => {
      const c = clone(x);
      delete c.metadata.managedFields;
      delete c.metadata.resourceVersion;
      return c;
    };
    if (deepEqual(comparable(prev), comparable(next))) return prev;
    meta.managedFields = renderManagedFields(entries);
    if (o.dryRun) return next;
    const finalizers = (meta.finalizers ?? []) as string[];
    if (meta.deletionTimestamp && finalizers.length === 0) {
      const gone = this.store.commit(res, 'DELETED', next, prev);
      this.afterDelete(res, gone);
      return gone;
    }
    const stored = this.store.commit(res, 'MODIFIED', next, prev);
    this.store.managed.set(meta.uid as string, entries);
    return stored;
  }

  update(r: ApiRequest): Obj {
    if (!isObj(r.body)) throw errors.badRequest('the request body must be an object');
    const prev = this.existing(r);
    const body = r.body;
    const meta = isObj(body.metadata) ? body.metadata : {};
    if (meta.name !== undefined && meta.name !== r.name) throw errors.badRequest('the name of the object does not match the name on the URL');
    const rv = meta.resourceVersion;
    if (rv === undefined || rv === '') {
      if (r.res.custom) throw errors.invalid(r.res, r.name!, [{ field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    } else if (rv !== prev.metadata.resourceVersion) throw errors.conflict(r.res, r.name!);
    return this.replace(r, prev, body, { manager: this.managerOf(r), scope: r.subresource === 'status' ? 'status' : 'main', dryRun: r.query.get('dryRun') === 'All' });
  }

  patch(r: ApiRequest): { code: number; body: Obj } {
    const type = r.contentType;
    const dryRun = r.query.get('dryRun') === 'All';
    const scope: Scope = r.subresource === 'status' ? 'status' : 'main';
    if (type === 'application/apply-patch+yaml') return this.apply(r, scope, dryRun);
    const prev = this.existing(r);
    let patched: unknown;
    if (type === 'application/json-patch+json') patched = applyJsonPatch(prev, r.body);
    else if (type === 'application/merge-patch+json') patched = applyMergePatch(prev, r.body);
    else if (type === 'application/strategic-merge-patch+json') {
      if (r.res.custom) throw errors.unsupportedMediaType(type);
      patched = applyStrategicMergePatch(prev, r.body);
    } else throw errors.unsupportedMediaType(type);
    if (!isObj(patched)) throw errors.badRequest('the patched object is not an object');
    const rv = isObj(patched.metadata) ? patched.metadata.resourceVersion : undefined;
    if (rv !== undefined && rv !== prev.metadata.resourceVersion) throw errors.conflict(r.res, r.name!);
    return { code: 200, body: this.replace(r, prev, patched, { manager: this.managerOf(r), scope, dryRun }) };
  }

  private apply(r: ApiRequest, scope: Scope, dryRun: boolean): { code: number; body: Obj } {
    const manager = r.query.get('fieldManager');
    if (!manager) throw errors.badRequest('PATCH requests of type apply must have a fieldManager');
    const config = typeof r.body === 'string' ? (parseYaml(r.body) as unknown) : r.body;
    if (!isObj(config)) throw errors.badRequest('apply configuration must be an object');
    if (config.apiVersion !== r.res.apiVersion || config.kind !== r.res.kind) throw errors.badRequest(`apply configuration must set apiVersion ${r.res.apiVersion} and kind ${r.res.kind}`);
    const meta = isObj(config.metadata) ? config.metadata : {};
    if (meta.name !== r.name) throw errors.badRequest('the name of the object does not match the name on the URL');
    if (r.res.namespaced && meta.namespace !== undefined && meta.namespace !== r.namespace) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const force = r.query.get('force') === 'true';
    const prev = this.store.get(r.res, r.namespace, r.name!);
    const common = { manager, force, scope, statusSubresource: r.res.statusSubresource, apiVersion: r.res.apiVersion, now: this.timestamp() };
    if (!prev) {
      if (scope === 'status') throw errors.notFound(r.res, r.name!);
      this.requireNamespace(r, true);
      const base: Obj = { apiVersion: r.res.apiVersion, kind: r.res.kind, metadata: { name: r.name, ...(r.res.namespaced ? { namespace: r.namespace } : {}) } };
      const out = applyConfig(base, config, { ...common, entries: [] });
      if ('conflicts' in out) throw errors.applyConflict(r.res, r.name!, out.conflicts);
      out.object.metadata = { ...(out.object.metadata as Obj), name: r.name, ...(r.res.namespaced ? { namespace: r.namespace } : {}) };
      return { code: 201, body: this.admitNew(r, out.object, { manager, scope, entries: out.entries, dryRun }) };
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== prev.metadata.resourceVersion) throw errors.conflict(r.res, r.name!);
    const out = applyConfig(prev, config, { ...common, entries: this.store.managed.get(prev.metadata.uid) ?? [] });
    if ('conflicts' in out) throw errors.applyConflict(r.res, r.name!, out.conflicts);
    return { code: 200, body: this.replace(r, prev, out.object, { manager, scope, entries: out.entries, dryRun }) };
  }

  delete(r: ApiRequest): { code: number; body: Obj } {
    const prev = this.existing(r);
    const opts = isObj(r.body) ? r.body : {};
    const pre = isObj(opts.preconditions) ? opts.preconditions : {};
    if (pre.uid !== undefined && pre.uid !== prev.metadata.uid) throw errors.conflict(r.res, r.name!, `Precondition failed: UID in precondition: ${String(pre.uid)}, UID in object meta: ${String(prev.metadata.uid)}`);
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== prev.metadata.resourceVersion) {
      throw errors.conflict(r.res, r.name!, `Precondition failed: ResourceVersion in precondition: ${String(pre.resourceVersion)}, ResourceVersion in object meta: ${String(prev.metadata.resourceVersion)}`);
    }
    if (r.query.get('dryRun') === 'All' || (Array.isArray(opts.dryRun) && opts.dryRun.includes('All'))) return { code: 200, body: prev };
    const isNamespace = r.res.plural === 'namespaces' && !r.res.group;
    const finalizers = (prev.metadata.finalizers ?? []) as string[];
    if (finalizers.length > 0 || isNamespace) {
      if (prev.metadata.deletionTimestamp) return { code: 202, body: prev };
      const next = clone(prev);
      next.metadata.deletionTimestamp = this.timestamp();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (isNamespace) next.status = { phase: 'Terminating' };
      const stored = this.store.commit(r.res, 'MODIFIED', next, prev);
      if (isNamespace) {
        this.terminateNamespace(r.name!);
        return { code: 202, body: this.store.get(r.res, undefined, r.name!) ?? stored };
      }
      return { code: 202, body: stored };
    }
    const gone = this.store.commit(r.res, 'DELETED', prev, prev);
    this.afterDelete(r.res, gone);
    if (r.res.custom) return { code: 200, body: gone };
    return { code: 200, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: r.name, group: r.res.group, kind: r.res.plural, uid: gone.metadata.uid } } };
  }

  resources: ResourceDef[] = [];

  /** The namespace controller's job, done at once: delete everything inside, then the namespace. */
  private terminateNamespace(ns: string): void {
    for (const res of this.resources) {
      if (!res.namespaced) continue;
      for (const o of this.store.list(res, ns)) {
        const req: ApiRequest = { res, namespace: ns, name: o.metadata.name, subresource: undefined, query: new URLSearchParams(), body: undefined, contentType: '', userAgent: 'namespace-controller' };
        this.delete(req);
      }
    }
    this.finishNamespace(ns);
  }

  private afterDelete(res: ResourceDef, gone: Obj): void {
    if (res.namespaced && gone.metadata.namespace) this.finishNamespace(gone.metadata.namespace);
  }

  private finishNamespace(ns: string): void {
    const nsObj = this.store.get(this.namespaces(), undefined, ns);
    if (!nsObj?.metadata.deletionTimestamp) return;
    if (this.resources.some((res) => res.namespaced && this.store.list(res, ns).length > 0)) return;
    this.store.commit(this.namespaces(), 'DELETED', nsObj, nsObj);
  }
}
