// Resources, prompts, completion and the log level, relayed to the upstreams that offer them and
// governed one request at a time (./relay.ts). Resource URIs keep their upstream's spelling; a
// read or subscription goes to the one upstream that offers the URI (the only upstream with
// resources, or the one whose last listing or template covers it). Prompt names are published like
// tool names (./names.ts).
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { mcpKindArgs } from '../../kernel/guardian/mcp-kinds.js';
import type { GatewayCore } from './core.js';
import type { Downstream, LogLevel } from './hub.js';
import { LOG_LEVELS, upstreamLogLevel } from './hub.js';
import { governedOp, type OpRequest } from './relay.js';
import { toProtocolError } from './refusal.js';
import type { Upstream } from './upstream.js';

type Params = Record<string, unknown> | undefined;
type Json = Record<string, unknown>;

async function governed<T>(core: GatewayCore, req: OpRequest<T>): Promise<T> {
  const out = await governedOp(core, req);
  if (!out.ok) throw toProtocolError(out.refusal);
  return out.result;
}

function offering(core: GatewayCore, feature: 'resources' | 'prompts' | 'completions' | 'logging'): Upstream[] {
  return core.catalog.upstreams.filter((u) => u.capabilities?.[feature] !== undefined);
}

/** Which upstream serves a resource URI: the only one with resources, else the one that listed it or whose template covers it. */
export class ResourceRoutes {
  private readonly uris = new Map<string, string>();
  private readonly templates: Array<{ prefix: string; upstream: string }> = [];

  learn(upstream: string, resources: Json[], templates: Json[]): void {
    for (const r of resources) if (typeof r.uri === 'string') this.uris.set(r.uri, upstream);
    for (const t of templates) {
      if (typeof t.uriTemplate !== 'string') continue;
      const prefix = t.uriTemplate.split('{')[0]!;
      if (!this.templates.some((x) => x.prefix === prefix && x.upstream === upstream)) this.templates.push({ prefix, upstream });
    }
  }

  route(core: GatewayCore, uri: string): Upstream {
    const all = offering(core, 'resources');
    const only = all.length === 1 ? all[0]!.name : undefined;
    const byTemplate = this.templates.filter((t) => t.prefix !== '' && uri.startsWith(t.prefix)).map((t) => t.upstream);
    const name = only ?? this.uris.get(uri) ?? (new Set(byTemplate).size === 1 ? byTemplate[0] : undefined);
    const u = all.find((x) => x.name === name);
    if (!u) throw new ProtocolError(-32002, `no single ready upstream offers resource ${uri} (list resources first, or it is ambiguous)`, { uri });
    return u;
  }
}

async function listEach<T>(core: GatewayCore, ups: Upstream[], one: (u: Upstream) => Promise<T[]>): Promise<T[]> {
  // One upstream refusing (a DENY, an error) hides its entries; if every upstream refuses, the refusal is the answer.
  const settled = await Promise.allSettled(ups.map(one));
  const ok = settled.filter((s): s is PromiseFulfilledResult<T[]> => s.status === 'fulfilled');
  if (ok.length === 0 && settled.length > 0) throw (settled[0] as PromiseRejectedResult).reason;
  return ok.flatMap((s) => s.value);
}

export function resourceHandlers(core: GatewayCore, routes: ResourceRoutes) {
  const single = () => offering(core, 'resources').length === 1;
  return {
    async list(params: Params) {
      await core.catalog.settled();
      const ups = offering(core, 'resources');
      const cursor = single() && typeof params?.cursor === 'string' ? { cursor: params.cursor } : undefined;
      let nextCursor: string | undefined;
      const resources = await listEach(core, ups, async (u) => {
        const r = await governed(core, { kind: 'resourcesList', upstream: u.name, args: mcpKindArgs.resourcesList(u.name, false), method: 'resources/list', run: () => u.request('resources/list', (c, timeout) => c.listResources(cursor, { timeout })), output: (x) => ({ resources: x.resources }) });
        routes.learn(u.name, r.resources as Json[], []);
        if (single()) nextCursor = r.nextCursor;
        return r.resources;
      });
      return { resources, ...(nextCursor ? { nextCursor } : {}) };
    },
    async templates(params: Params) {
      await core.catalog.settled();
      const ups = offering(core, 'resources');
      const cursor = single() && typeof params?.cursor === 'string' ? { cursor: params.cursor } : undefined;
      const resourceTemplates = await listEach(core, ups, async (u) => {
        const r = await governed(core, { kind: 'resourcesList', upstream: u.name, args: mcpKindArgs.resourcesList(u.name, true), method: 'resources/templates/list', run: () => u.request('resources/templates/list', (c, timeout) => c.listResourceTemplates(cursor, { timeout })), output: (x) => ({ resourceTemplates: x.resourceTemplates }) });
        routes.learn(u.name, [], r.resourceTemplates as Json[]);
        return r.resourceTemplates;
      });
      return { resourceTemplates };
    },
    async read(params: Params) {
      await core.catalog.settled();
      const uri = requireString(params, 'uri');
      const u = routes.route(core, uri);
      return governed(core, { kind: 'resourcesRead', upstream: u.name, args: mcpKindArgs.resourcesRead(u.name, uri), method: 'resources/read', run: () => u.request('resources/read', (c, timeout) => c.readResource({ uri }, { timeout })), output: (x) => ({ contents: x.contents }) });
    },
    async subscribe(params: Params, downstream: Downstream | null, on: boolean) {
      await core.catalog.settled();
      const uri = requireString(params, 'uri');
      const u = routes.route(core, uri);
      if (!u.capabilities?.resources?.subscribe) throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `upstream ${u.name} does not offer resource subscriptions`);
      // Subscribed here before the upstream is asked: its first update may come before the receipts are durable.
      const had = downstream?.subscriptions.has(uri) ?? false;
      if (on) downstream?.subscriptions.add(uri);
      try {
        await governed(core, {
        kind: 'resourcesSubscribe',
        upstream: u.name,
        args: mcpKindArgs.resourcesSubscribe(u.name, uri, on),
        method: on ? 'resources/subscribe' : 'resources/unsubscribe',
        // The upstream connection is shared by every client: it is subscribed while any client is.
        run: async () => {
          const others = [...core.hub.downstreams].some((d) => d !== downstream && d.subscriptions.has(uri));
          if (others) return { upstream: 'unchanged' };
          await u.request('resources/subscribe', (c, timeout) => (on ? c.subscribeResource({ uri }, { timeout }) : c.unsubscribeResource({ uri }, { timeout })));
          return { upstream: on ? 'subscribed' : 'unsubscribed' };
        },
        output: (x) => x,
        });
      } catch (e) {
        if (on && !had) downstream?.subscriptions.delete(uri);
        throw e;
      }
      // Updates reach only the clients that subscribed here (the upstream connection is shared).
      if (!on) downstream?.subscriptions.delete(uri);
      return {};
    },
  };
}

export function promptHandlers(core: GatewayCore) {
  const naming = core.catalog.naming;
  return {
    async list(params: Params) {
      await core.catalog.settled();
      const ups = offering(core, 'prompts');
      const single = ups.length === 1;
      const cursor = single && typeof params?.cursor === 'string' ? { cursor: params.cursor } : undefined;
      let nextCursor: string | undefined;
      const prompts = await listEach(core, ups, async (u) => {
        const r = await governed(core, { kind: 'promptsList', upstream: u.name, args: mcpKindArgs.promptsList(u.name), method: 'prompts/list', run: () => u.request('prompts/list', (c, timeout) => c.listPrompts(cursor, { timeout })), output: (x) => ({ prompts: x.prompts }) });
        if (single) nextCursor = r.nextCursor;
        return r.prompts.flatMap((p) => {
          const name = naming.publish(u.name, p.name);
          return name === null ? [] : [{ ...p, name }];
        });
      });
      return { prompts, ...(nextCursor ? { nextCursor } : {}) };
    },
    async get(params: Params) {
      await core.catalog.settled();
      const published = requireString(params, 'name');
      const { u, name } = promptUpstream(core, published);
      const args = (params?.arguments ?? {}) as Record<string, string>;
      return governed(core, { kind: 'promptsGet', upstream: u.name, args: mcpKindArgs.promptsGet(u.name, name, args), method: 'prompts/get', run: () => u.request('prompts/get', (c, timeout) => c.getPrompt({ name, arguments: args }, { timeout })), output: (x) => ({ messages: x.messages }) });
    },
  };
}

function promptUpstream(core: GatewayCore, published: string): { u: Upstream; name: string } {
  const r = core.catalog.naming.resolve(published);
  const u = r && offering(core, 'prompts').find((x) => x.name === r.upstream);
  if (!r || !u) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `no ready upstream offers prompt ${published}`);
  return { u, name: r.name };
}

export function completionHandler(core: GatewayCore, routes: ResourceRoutes) {
  return async (params: Params) => {
      await core.catalog.settled();
    const ref = (params?.ref ?? {}) as Json;
    const argument = (params?.argument ?? {}) as Json;
    let u: Upstream;
    let upstreamRef: Json;
    if (ref.type === 'ref/prompt' && typeof ref.name === 'string') {
      const p = promptUpstream(core, ref.name);
      u = p.u;
      upstreamRef = { ...ref, name: p.name };
    } else if (ref.type === 'ref/resource' && typeof ref.uri === 'string') {
      u = routes.route(core, ref.uri);
      upstreamRef = ref;
    } else throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'completion/complete needs ref {type: ref/prompt, name} or {type: ref/resource, uri}');
    if (!u.capabilities?.completions) throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `upstream ${u.name} does not offer completions`);
    const refText = ref.type === 'ref/prompt' ? `prompt:${String(ref.name)}` : `resource:${String(ref.uri)}`;
    const request = { ...params, ref: upstreamRef } as never;
    return governed(core, { kind: 'complete', upstream: u.name, args: mcpKindArgs.complete(u.name, refText, String(argument.name ?? '')), method: 'completion/complete', run: () => u.request('completion/complete', (c, timeout) => c.complete(request, { timeout })), output: (x) => ({ completion: x.completion }) });
  };
}

/**
 * logging/setLevel: the client's own threshold, applied by the gateway to what it relays (./hub.ts).
 * The upstream connection is shared by every client, so it is asked for the most verbose level any
 * connected client needs (upstreamLogLevel), never only this client's.
 */
export function setLevelHandler(core: GatewayCore) {
  return async (params: Params, downstream: Downstream | null) => {
    await core.catalog.settled();
    const level = params?.level;
    if (!LOG_LEVELS.includes(level as LogLevel)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `level must be one of ${LOG_LEVELS.join(', ')}`);
    await governed(core, {
      kind: 'setLevel',
      upstream: '*',
      args: mcpKindArgs.setLevel(level as string),
      method: 'logging/setLevel',
      run: async () => {
        const ups = offering(core, 'logging');
        const sent = upstreamLogLevel(level as LogLevel, downstream, core.hub.downstreams);
        await Promise.all(ups.map((u) => u.request('logging/setLevel', (c, timeout) => c.setLoggingLevel(sent, { timeout }))));
        return { upstreams: ups.map((u) => u.name), level: sent };
      },
      output: (x) => x,
    });
    if (downstream) downstream.level = level as LogLevel;
    return {};
  };
}

function requireString(params: Params, key: string): string {
  const v = params?.[key];
  if (typeof v !== 'string' || v.length === 0) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `${key} must be a non-empty string`);
  return v;
}
