// The operator's only door to the API server: @kubernetes/client-node's typed APIs and Watch,
// behind a small resource-generic surface. Objects come back as plain JSON (typed models are
// round-tripped) so caches, comparisons and server-side apply bodies all see the wire shape.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { ObjectMeta } from '../api/v1alpha1.js';
import { OperatorError } from './errors.js';

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
export const CONFIGMAPS: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
export const PODS: ResourceType = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
/** ProofGraph claims the GuardianSidecar controller creates (proofGraph.storageClass). */
export const PERSISTENT_VOLUME_CLAIMS: ResourceType = { group: '', version: 'v1', plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true };
export const LEASES: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };

export function apiVersionOf(rt: ResourceType): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

export function collectionPath(rt: ResourceType, namespace?: string): string {
  const base = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
  return namespace && rt.namespaced ? `${base}/namespaces/${namespace}/${rt.plural}` : `${base}/${rt.plural}`;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
}

export interface WatchOptions extends ListOptions {
  resourceVersion: string;
  timeoutSeconds: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

const PAGE = 500;

/** Typed client-node models to their JSON wire form. */
function plain<T>(v: unknown): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

const isCustom = (rt: ResourceType): boolean => rt.group !== '' && rt.group !== 'coordination.k8s.io' && rt.group !== 'events.k8s.io';

export class Kube {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly events: EventsV1Api;
  private readonly watcher: Watch;

  constructor(readonly config: KubeConfig) {
    this.custom = config.makeApiClient(CustomObjectsApi);
    this.core = config.makeApiClient(CoreV1Api);
    this.coordination = config.makeApiClient(CoordinationV1Api);
    this.events = config.makeApiClient(EventsV1Api);
    this.watcher = new Watch(config);
  }

  private unsupported(rt: ResourceType, verb: string): never {
    throw new OperatorError('ERR_UNSUPPORTED_RESOURCE', `${verb} is not wired for ${rt.plural}.${rt.group || 'core'}`, { resource: rt.plural, verb });
  }

  private async listPage(rt: ResourceType, o: ListOptions, cont: string | undefined): Promise<{ items: KObject[]; resourceVersion: string; cont: string | undefined }> {
    const q = { labelSelector: o.labelSelector, limit: PAGE, _continue: cont };
    let list: unknown;
    if (isCustom(rt)) {
      const base = { group: rt.group, version: rt.version, labelSelector: o.labelSelector, limit: PAGE, _continue: cont };
      list = o.namespace
        ? await this.custom.listNamespacedCustomObject({ ...base, plural: rt.plural, namespace: o.namespace })
        : await this.custom.listCustomObjectForAllNamespaces({ ...base, resourcePlural: rt.plural });
    } else if (rt === NAMESPACES) list = await this.core.listNamespace(q);
    else if (rt === CONFIGMAPS) list = o.namespace ? await this.core.listNamespacedConfigMap({ ...q, namespace: o.namespace }) : await this.core.listConfigMapForAllNamespaces(q);
    else if (rt === PODS) list = o.namespace ? await this.core.listNamespacedPod({ ...q, namespace: o.namespace }) : await this.core.listPodForAllNamespaces(q);
    else if (rt === PERSISTENT_VOLUME_CLAIMS) list = o.namespace ? await this.core.listNamespacedPersistentVolumeClaim({ ...q, namespace: o.namespace }) : await this.core.listPersistentVolumeClaimForAllNamespaces(q);
    else this.unsupported(rt, 'list');
    const l = list as { items?: unknown[]; metadata?: { resourceVersion?: string; _continue?: string; continue?: string } };
    const items = plain<KObject[]>(l.items ?? []);
    for (const i of items) {
      i.apiVersion ??= apiVersionOf(rt);
      i.kind ??= rt.kind;
    }
    return { items, resourceVersion: l.metadata?.resourceVersion ?? '', cont: l.metadata?._continue ?? l.metadata?.continue ?? undefined };
  }

  /** A consistent list (all pages) and the resourceVersion to watch from. */
  async list(rt: ResourceType, o: ListOptions = {}): Promise<{ items: KObject[]; resourceVersion: string }> {
    const items: KObject[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.listPage(rt, o, cont);
      items.push(...page.items);
      resourceVersion = page.resourceVersion;
      cont = page.cont || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  watch(rt: ResourceType, o: WatchOptions, onEvent: (type: WatchEventType, obj: KObject) => void, onDone: (err: unknown) => void): Promise<AbortController> {
    return this.watcher.watch(
      collectionPath(rt, o.namespace),
      { resourceVersion: o.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: o.timeoutSeconds, labelSelector: o.labelSelector },
      (type, obj) => onEvent(type as WatchEventType, obj as KObject),
      onDone,
    );
  }

  async get(rt: ResourceType, namespace: string, name: string): Promise<KObject> {
    let out: unknown;
    if (isCustom(rt)) out = await this.custom.getNamespacedCustomObject({ group: rt.group, version: rt.version, plural: rt.plural, namespace, name });
    else if (rt === CONFIGMAPS) out = await this.core.readNamespacedConfigMap({ namespace, name });
    else if (rt === LEASES) out = await this.coordination.readNamespacedLease({ namespace, name });
    else this.unsupported(rt, 'get');
    return plain<KObject>(out);
  }

  /** Server-side apply with our field manager, to the object or (status: true) its status subresource. */
  async apply(rt: ResourceType, config: KObject, o: { fieldManager: string; force: boolean; status?: boolean }): Promise<KObject> {
    const ns = config.metadata.namespace ?? '';
    const name = config.metadata.name;
    const opts = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
    const common = { name, namespace: ns, body: config, fieldManager: o.fieldManager, force: o.force };
    let out: unknown;
    if (isCustom(rt) && !rt.namespaced) {
      const p = { name, body: config, fieldManager: o.fieldManager, force: o.force, group: rt.group, version: rt.version, plural: rt.plural };
      out = o.status ? await this.custom.patchClusterCustomObjectStatus(p, opts) : await this.custom.patchClusterCustomObject(p, opts);
    } else if (isCustom(rt)) {
      const p = { ...common, group: rt.group, version: rt.version, plural: rt.plural };
      out = o.status ? await this.custom.patchNamespacedCustomObjectStatus(p, opts) : await this.custom.patchNamespacedCustomObject(p, opts);
    } else if (rt === CONFIGMAPS && !o.status) out = await this.core.patchNamespacedConfigMap(common, opts);
    else if (rt === PERSISTENT_VOLUME_CLAIMS && !o.status) out = await this.core.patchNamespacedPersistentVolumeClaim(common, opts);
    else this.unsupported(rt, o.status ? 'apply status' : 'apply');
    return plain<KObject>(out);
  }

  /** JSON merge patch; a metadata.resourceVersion in the patch makes it conditional (409 if stale). */
  async mergePatch(rt: ResourceType, namespace: string, name: string, patch: object): Promise<KObject> {
    const opts = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    let out: unknown;
    if (isCustom(rt)) out = await this.custom.patchNamespacedCustomObject({ group: rt.group, version: rt.version, plural: rt.plural, namespace, name, body: patch }, opts);
    else if (rt === CONFIGMAPS) out = await this.core.patchNamespacedConfigMap({ namespace, name, body: patch }, opts);
    else this.unsupported(rt, 'patch');
    return plain<KObject>(out);
  }

  /** Deletes, optionally only if the object is still at the given uid/resourceVersion (409 otherwise). */
  async delete(rt: ResourceType, namespace: string, name: string, preconditions?: { uid?: string; resourceVersion?: string }): Promise<void> {
    const body = preconditions ? { preconditions } : undefined;
    if (isCustom(rt)) await this.custom.deleteNamespacedCustomObject({ group: rt.group, version: rt.version, plural: rt.plural, namespace, name, ...(body ? { body } : {}) });
    else if (rt === CONFIGMAPS) await this.core.deleteNamespacedConfigMap({ namespace, name, ...(body ? { body } : {}) });
    else this.unsupported(rt, 'delete');
  }
}
