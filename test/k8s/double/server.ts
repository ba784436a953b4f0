// HTTP(S) front of the double: URL routing as the real API server lays it out, bearer-token
// authentication and RBAC authorization (rbac.ts), discovery, request bodies, watch streams (JSON lines, bookmarks,
// timeoutSeconds), injected faults and a request log.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { ApiError, errors } from './errors.js';
import { Handlers, type ApiRequest } from './handlers.js';
import { authenticate, Authorizer, type Attributes, type UserInfo } from './rbac.js';
import type { ResourceDef } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Obj, Store, WatchSink } from './store.js';
import { tokenReviewHandler, TokenReviews } from './token-review.js';

const MAX_BODY = 3 * 1024 * 1024;

export interface Fault {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
  plural?: string;
  subresource?: 'status';
  name?: string;
  namespace?: string;
  /** Status to answer; 409 Conflict by default. */
  code?: number;
  times: number;
}

export interface LoggedRequest {
  verb: string;
  path: string;
  query: string;
  subresource: string | undefined;
  contentType: string;
  code: number;
  /** The authenticated user (absent before authentication or when authentication is off). */
  user?: string;
  /** The request in RBAC terms, for resource requests that reached authorization. */
  attributes?: Attributes;
  /** The attributes of the create check an apply that creates the object needed too. */
  createAttributes?: Attributes;
}

export interface ServerOptions {
  /** Bearer token of an administrator (system:masters: never subject to RBAC). */
  token?: string;
  /** More bearer tokens and the users they authenticate as (e.g. a ServiceAccount's). */
  tokens?: ReadonlyMap<string, UserInfo>;
  /** Authorize every resource request with RBAC (authorization-mode RBAC). */
  rbac?: boolean;
  tls?: { key: string; cert: string };
  bookmarkIntervalMs: number;
}

interface Route {
  res: ResourceDef;
  namespace: string | undefined;
  name: string | undefined;
  subresource: 'status' | undefined;
}

export class DoubleServer {
  readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly openWatches = new Set<{ sink: WatchSink; end: () => void }>();
  readonly faults: Fault[] = [];
  readonly log: LoggedRequest[] = [];
  readonly handlers: Handlers;
  readonly tokens: Map<string, UserInfo>;
  private readonly authorizer: Authorizer;
  /** Projected tokens the test registers, answered by POST .../tokenreviews. */
  readonly tokenReviews = new TokenReviews();

  constructor(
    private readonly store: Store,
    private readonly resources: ResourceDef[],
    private readonly opts: ServerOptions,
    now: () => number,
  ) {
    this.handlers = new Handlers(store, now);
    this.handlers.resources = resources;
    this.handlers.namespacesDef = resources.find((r) => r.group === '' && r.plural === 'namespaces');
    this.tokens = new Map(opts.tokens ?? []);
    if (opts.token !== undefined) this.tokens.set(opts.token, { username: 'double-admin', groups: ['system:masters'] });
    this.authorizer = new Authorizer(store, resources);
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    this.server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : createHttpServer(handler);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  private route(segs: string[]): Route | 'discovery' | null {
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs[1] === 'v1') {
      group = '';
      version = 'v1';
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      group = segs[1]!;
      version = segs[2]!;
      rest = segs.slice(3);
    } else return segs.length <= 3 && (segs[0] === 'api' || segs[0] === 'apis') ? 'discovery' : null;
    if (rest.length === 0) return 'discovery';
    const find = (plural: string): ResourceDef | undefined => this.resources.find((r) => r.group === group && r.version === version && r.plural === plural);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && (rest[2] === 'status' || rest[2] === 'finalize'))) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const res = find(rest[0]!);
    if (!res || (namespace !== undefined && !res.namespaced) || rest.length > 3) return null;
    const sub = rest[2];
    if (sub !== undefined && (sub !== 'status' || !res.statusSubresource)) return null;
    return { res, namespace, name: rest[1], subresource: sub as 'status' | undefined };
  }

  private discovery(segs: string[]): Obj {
    if (segs.length === 1 && segs[0] === 'api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    if (segs.length === 1) {
      const groups = [...new Set(this.resources.filter((r) => r.group).map((r) => `${r.group}/${r.version}`))].map((gv) => {
        const [g, v] = gv.split('/');
        return { name: g, versions: [{ groupVersion: gv, version: v }], preferredVersion: { groupVersion: gv, version: v } };
      });
      return { kind: 'APIGroupList', apiVersion: 'v1', groups };
    }
    const gv = segs[0] === 'api' ? 'v1' : `${segs[1]}/${segs[2]}`;
    const resources = this.resources
      .filter((r) => r.apiVersion === gv)
      .flatMap((r) => [
        { name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
        ...(r.statusSubresource ? [{ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }] : []),
      ]);
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources };
  }

  private async body(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private sendResult(res: ServerResponse, r: { code: number; body: unknown }): void {
    this.send(res, r.code, r.body);
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const segs = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
    const entry: LoggedRequest = { verb: req.method ?? '', path: url.pathname, query: url.search, subresource: undefined, contentType: '', code: 0 };
    this.log.push(entry);
    try {
      // Without any token configured the double is open (every request is an administrator's).
      const user: UserInfo = this.tokens.size > 0 ? authenticate(this.tokens, req.headers.authorization) : { username: 'double-admin', groups: ['system:masters'] };
      entry.user = user.username;
      if (url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews' && req.method === 'POST') {
        const attributes: Attributes = { verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews', subresource: undefined, namespace: undefined, name: undefined };
        entry.attributes = attributes;
        if (this.opts.rbac) this.authorizer.authorize(user, attributes);
        const out = tokenReviewHandler(this.tokenReviews, await this.body(req));
        entry.code = out.code;
        return this.sendResult(res, out);
      }
      // Discovery, /version and health are open to every authenticated user (system:discovery,
      // system:public-info-viewer).
      if (url.pathname === '/version') return this.send(res, 200, { major: '1', minor: '33', gitVersion: 'v1.33.0-helm-double' });
      if (url.pathname === '/healthz' || url.pathname === '/readyz') return void res.end('ok');
      const route = this.route(segs);
      if (route === 'discovery' && req.method === 'GET') return this.send(res, 200, this.discovery(segs));
      if (route === null || route === 'discovery') throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      entry.subresource = route.subresource;
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      entry.contentType = contentType;
      const watch = url.searchParams.get('watch');
      const isWatch = req.method === 'GET' && (watch === '1' || watch === 'true');
      const verb = this.verbOf(req.method ?? '', route, isWatch);
      if (verb !== 'other') {
        const attributes: Attributes = { verb, group: route.res.group, resource: route.res.plural, subresource: route.subresource, namespace: route.namespace, name: route.name };
        entry.attributes = attributes;
        if (this.opts.rbac) {
          this.authorizer.authorize(user, attributes);
          // A server-side apply that creates the object is authorized as a create too.
          if (verb === 'patch' && contentType === 'application/apply-patch+yaml' && route.name !== undefined && !this.store.get(route.res, route.namespace, route.name)) {
            entry.createAttributes = { ...attributes, verb: 'create', subresource: undefined };
            this.authorizer.authorize(user, entry.createAttributes);
          }
        }
      }
      this.injectFault(verb, route);
      const raw = req.method === 'GET' ? '' : await this.body(req);
      let body: unknown;
      if (raw !== '') {
        if (contentType === 'application/apply-patch+yaml') body = raw;
        else {
          try {
            body = JSON.parse(raw);
          } catch {
            throw errors.badRequest('the request body is not valid JSON');
          }
        }
      }
      const ar: ApiRequest = { ...route, query: url.searchParams, body, contentType, userAgent: String(req.headers['user-agent'] ?? '') };
      if (isWatch) {
        entry.code = 200;
        return this.watch(ar, req, res);
      }
      const h = this.handlers;
      let out: { code: number; body: Obj };
      switch (verb) {
        case 'get': out = { code: 200, body: h.get(ar) }; break;
        case 'list': out = { code: 200, body: h.list(ar) }; break;
        case 'create': out = h.create(ar); break;
        case 'update': out = { code: 200, body: h.update(ar) }; break;
        case 'patch': out = h.patch(ar); break;
        case 'delete': out = h.delete(ar); break;
        default: throw errors.methodNotAllowed(`${req.method} is not supported on ${url.pathname}`);
      }
      entry.code = out.code;
      this.send(res, out.code, out.body);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`);
      entry.code = err.code;
      if (!res.headersSent) this.send(res, err.code, err.status());
      else res.end();
    }
  }

  private verbOf(method: string, route: Route, isWatch: boolean): Fault['verb'] | 'other' {
    if (method === 'GET') return isWatch ? 'watch' : route.name === undefined ? 'list' : 'get';
    if (method === 'POST' && route.name === undefined) return 'create';
    if (method === 'PUT' && route.name !== undefined) return 'update';
    if (method === 'PATCH' && route.name !== undefined) return 'patch';
    if (method === 'DELETE' && route.name !== undefined) return 'delete';
    return 'other';
  }

  private injectFault(verb: string, route: Route): void {
    const i = this.faults.findIndex(
      (f) =>
        f.verb === verb && f.times > 0 && (f.plural === undefined || f.plural === route.res.plural) && f.subresource === route.subresource && (f.name === undefined || f.name === route.name) && (f.namespace === undefined || f.namespace === route.namespace),
    );
    if (i < 0) return;
    const f = this.faults[i]!;
    f.times -= 1;
    if (f.times === 0) this.faults.splice(i, 1);
    const code = f.code ?? 409;
    if (code === 409) throw errors.conflict(route.res, route.name ?? '');
    if (code === 410) throw errors.gone('injected: too old resource version');
    throw new ApiError(code, code === 503 ? 'ServiceUnavailable' : 'InternalError', `injected fault ${code}`);
  }

  private watch(r: ApiRequest, req: IncomingMessage, res: ServerResponse): void {
    const labels = parseLabelSelector(r.query.get('labelSelector'));
    const fields = parseFieldSelector(r.query.get('fieldSelector'));
    const rvParam = r.query.get('resourceVersion');
    let from: number | undefined;
    if (rvParam && rvParam !== '0') {
      from = Number(rvParam);
      if (!Number.isInteger(from) || from < 0) throw errors.badRequest(`invalid resource version: ${rvParam}`);
      if (from > this.store.revision) throw errors.tooLargeResourceVersion(from, this.store.revision);
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // The real server answers the headers at once; clients wait for them before reading events.
    res.flushHeaders();
    let closed = false;
    const timers: NodeJS.Timeout[] = [];
    const end = (): void => {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      this.store.watchers.delete(sink);
      this.openWatches.delete(handle);
      res.end();
    };
    const sink: WatchSink = {
      res: r.res,
      namespace: r.namespace,
      silent: false,
      matches: (o) => labels(o.metadata?.labels) && fields(o),
      send: (type, object) => {
        if (closed) return;
        res.write(`${JSON.stringify({ type, object })}\n`);
        if (type === 'ERROR') end();
      },
    };
    const handle = { sink, end };
    this.openWatches.add(handle);
    req.on('close', end);
    res.on('close', end);
    if (!this.store.watch(sink, from)) return;
    const timeout = Number(r.query.get('timeoutSeconds') ?? 0);
    if (timeout > 0) timers.push(setTimeout(end, timeout * 1000));
    if (r.query.get('allowWatchBookmarks') === 'true' || r.query.get('allowWatchBookmarks') === '1') {
      const tick = (): void => {
        if (closed) return;
        if (!sink.silent) sink.send('BOOKMARK', { kind: r.res.kind, apiVersion: r.res.apiVersion, metadata: { resourceVersion: String(this.store.revision) } });
        timers[0] = setTimeout(tick, this.opts.bookmarkIntervalMs);
      };
      timers.unshift(setTimeout(tick, this.opts.bookmarkIntervalMs));
    }
  }

  /** Every open watch stream (for fault injection). */
  watches(): { sink: WatchSink; end: () => void }[] {
    return [...this.openWatches];
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    return addr.port;
  }

  async close(): Promise<void> {
    for (const w of [...this.openWatches]) w.end();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
