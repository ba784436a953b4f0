// An in-process Kubernetes API server double: a real HTTP(S) server that speaks the subset of the
// REST API the operator uses, with the semantics that controllers get wrong against fakes
// (resourceVersion, 409 conflicts, watch resume and 410 Gone, status subresource, generation,
// finalizers, server-side apply ownership, RBAC, CEL validation rules). What it honours and what
// it does not: docs/operator.md ("Testing against the API-server double").
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { DoubleServer, type Fault, type LoggedRequest } from './double/server.js';
import { builtinResources, crdResources, type ResourceDef } from './double/resources.js';
import { Store, type Obj } from './double/store.js';
import type { Attributes, UserInfo } from './double/rbac.js';
import type { TokenReviews } from './double/token-review.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface DoubleOptions {
  /** Directory of CustomResourceDefinition YAML files to serve (default: the repo's crds/). */
  crdDir?: string;
  /** Changes kept for watch resume and exact-revision lists; older revisions are 410 Gone. */
  historyLimit?: number;
  bookmarkIntervalMs?: number;
  /** The administrator's bearer token (system:masters; default double-token). */
  token?: string;
  /** More bearer tokens and their users, e.g. serviceAccountUser('helm-system', 'operator'). */
  tokens?: Record<string, UserInfo>;
  /** Authorize requests with RBAC against the Roles and bindings in the store. */
  rbac?: boolean;
  tls?: { key: string; cert: string; ca: string };
  now?: () => number;
}

export type { Attributes, Fault, LoggedRequest, Obj, UserInfo };
export { serviceAccountUser } from './double/rbac.js';

export class ApiServerDouble {
  readonly store: Store;
  readonly resources: ResourceDef[];
  private readonly http: DoubleServer;
  private port = 0;
  private readonly token: string;

  private constructor(private readonly opts: DoubleOptions) {
    this.store = new Store(opts.historyLimit ?? 10_000);
    this.resources = [...builtinResources(), ...crdResources(opts.crdDir ?? join(repoRoot, 'crds'))];
    this.token = opts.token ?? 'double-token';
    this.http = new DoubleServer(this.store, this.resources, { token: this.token, tokens: new Map(Object.entries(opts.tokens ?? {})), rbac: opts.rbac ?? false, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000, ...(opts.tls ? { tls: opts.tls } : {}) }, opts.now ?? Date.now);
  }

  static async start(opts: DoubleOptions = {}): Promise<ApiServerDouble> {
    const d = new ApiServerDouble(opts);
    d.port = await d.http.listen();
    for (const ns of ['default', 'kube-system']) d.seed('', 'namespaces', { metadata: { name: ns } });
    return d;
  }

  async stop(): Promise<void> {
    await this.http.close();
  }

  get url(): string {
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** A kubeconfig (as YAML-compatible JSON text) pointing at this server with a bearer token. */
  kubeconfigText(user = 'operator', token = this.token): string {
    const cluster: Record<string, unknown> = { server: this.url };
    // client-node refuses plain http unless TLS verification is explicitly off.
    if (this.opts.tls) cluster['certificate-authority-data'] = Buffer.from(this.opts.tls.ca).toString('base64');
    else cluster['insecure-skip-tls-verify'] = true;
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'double', cluster }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: 'double', context: { cluster: 'double', user } }],
      'current-context': 'double',
    });
  }

  kubeConfig(user?: string, token?: string): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(this.kubeconfigText(user, token));
    return kc;
  }

  /**
   * Creates rendered manifests (e.g. `helm template` output) as the installer would; kinds the
   * double does not serve (CRDs, which come from crdDir, and monitoring kinds) are returned.
   */
  install(manifests: Obj[]): Obj[] {
    const skipped: Obj[] = [];
    for (const m of manifests) {
      const [group, version] = String(m.apiVersion).includes('/') ? String(m.apiVersion).split('/') : ['', String(m.apiVersion)];
      const res = this.resources.find((r) => r.group === group && r.version === version && r.kind === m.kind);
      if (!res) {
        skipped.push(m);
        continue;
      }
      const ns = m.metadata?.namespace;
      if (res.namespaced && ns && !this.get('', 'namespaces', undefined, ns)) this.seed('', 'namespaces', { metadata: { name: ns } });
      this.seed(group!, res.plural, m);
    }
    return skipped;
  }

  resource(group: string, plural: string): ResourceDef {
    const r = this.resources.find((x) => x.group === group && x.plural === plural);
    if (!r) throw new Error(`the double does not serve ${plural}.${group}`);
    return r;
  }

  /** Creates an object directly through the create pipeline (validation, defaults, RV). */
  seed(group: string, plural: string, obj: Obj): Obj {
    const res = this.resource(group, plural);
    const body = { apiVersion: res.apiVersion, kind: res.kind, ...obj };
    const out = this.http.handlers.create({ res, namespace: res.namespaced ? obj.metadata?.namespace : undefined, name: undefined, subresource: undefined, query: new URLSearchParams(), body, contentType: 'application/json', userAgent: 'test-seed' });
    return out.body;
  }

  get(group: string, plural: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.store.get(this.resource(group, plural), namespace, name);
  }

  list(group: string, plural: string, namespace?: string): Obj[] {
    return this.store.list(this.resource(group, plural), namespace);
  }

  /** Tokens the TokenReview endpoint authenticates (test/k8s/double/token-review.ts). */
  get tokenReviews(): TokenReviews {
    return this.http.tokenReviews;
  }

  /** Answers the next `times` matching requests with an error status (409 by default). */
  injectFault(f: Fault): void {
    this.http.faults.push(f);
  }

  clearFaults(): void {
    this.http.faults.length = 0;
  }

  get requests(): readonly LoggedRequest[] {
    return this.http.log;
  }

  /** Drops the change history (etcd compaction): resuming a watch or list from before now is 410. */
  compact(): void {
    this.store.compact();
  }

  /** Ends every open watch with an ERROR 410 event, as after an API server restart behind a compaction. */
  expireWatches(): number {
    this.store.compact();
    const open = this.http.watches();
    for (const w of open) w.sink.send('ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 });
    return open.length;
  }

  /** Every open watch goes silent but stays connected: no events, no bookmarks (a dead connection). */
  silenceWatches(filter?: (plural: string) => boolean): number {
    let n = 0;
    for (const w of this.http.watches()) {
      if (filter && !filter(w.sink.res.plural)) continue;
      w.sink.silent = true;
      n++;
    }
    return n;
  }

  /** Closes every open watch normally (the server's timeout). */
  closeWatches(): number {
    const open = this.http.watches();
    for (const w of open) w.end();
    return open.length;
  }

  openWatchCount(plural?: string): number {
    return this.http.watches().filter((w) => !w.sink.silent && (plural === undefined || w.sink.res.plural === plural)).length;
  }
}
