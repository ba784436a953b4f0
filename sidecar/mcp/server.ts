// The MCP server the gateway presents: tools, resources, prompts, completion and logging of the
// upstreams, each request governed (tools: ./call.ts; the others: ./features.ts, ./relay.ts).
// One builder serves both protocol eras on every transport. A connection that can receive
// notifications outside a request (a stateful Streamable HTTP session, a legacy SSE session, stdio)
// registers as a Downstream in the hub, so list changes, resource updates and log messages of the
// upstreams reach it; a per-request instance (stateless 2025, 2026-07-28) registers nothing.
import { ProtocolError, ProtocolErrorCode, Server, type CallToolResult, type McpServerFactory, type ServerContext } from '@modelcontextprotocol/server';
import { jcsString } from '../../kernel/crypto/jcs.js';
import type { SurfaceRefusalCode } from '../../kernel/guardian/refusal.js';
import { governedCall, META_IDEMPOTENCY_KEY, META_TOOL_CALL_ID, type CallOutcome } from './call.js';
import type { GatewayCore } from './core.js';
import type { DriftLedger } from './drift.js';
import { inProcessTools } from './in-process.js';
import { completionHandler, promptHandlers, resourceHandlers, ResourceRoutes, setLevelHandler } from './features.js';
import type { ClientLink, Downstream } from './hub.js';
import { InputRounds, isModernRequest } from './input-required.js';
import { governedList, type GovernedListing } from './list.js';
import { toProtocolError } from './refusal.js';
import { judgedArguments } from './screen.js';

export const GATEWAY_INFO = { name: 'helm-mcp-gateway', version: '0.1.0' };

const INSTRUCTIONS =
  'Tools, resources and prompts of MCP servers, governed by a HELM policy bundle: each request is decided by the Guardian and receipted. ' +
  'A refused request answers a JSON-RPC error whose message names the reason code and whose data carries verdict, reasonCode and receipt.';

/** listChanged is true: the gateway relays list changes of its upstreams to every connection that can receive them. */
export const GATEWAY_CAPABILITIES = {
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  completions: {},
  logging: {},
};

function stringMeta(meta: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = meta?.[key];
  return typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined;
}

function clientLink(ctx: ServerContext, downstream: Downstream | null): ClientLink {
  return {
    downstream,
    notify: (n) => ctx.mcpReq.notify(n as never),
    request: (method, params, signal) => ctx.mcpReq.send({ method: method as 'sampling/createMessage', params }, { signal }) as unknown as Promise<Record<string, unknown>>,
  };
}

export interface ServerBuilder {
  /** A server for one request (no notifications outside it). */
  readonly perRequest: McpServerFactory;
  /** A server for one connection or session: registered in the hub until it closes. */
  connection(): Server;
}

/** @param onListed sees every governed tools/list (the visible set: ./visible-set.ts). */
export function serverBuilder(core: GatewayCore, drifts: DriftLedger, onListed?: (l: GovernedListing) => void): ServerBuilder {
  const routes = new ResourceRoutes();
  const resources = resourceHandlers(core, routes);
  const prompts = promptHandlers(core);
  const complete = completionHandler(core, routes);
  const setLevel = setLevelHandler(core);
  const rounds = new InputRounds(core.callTimeoutMs);

  function build(downstream: Downstream | null): Server {
    const server = new Server(GATEWAY_INFO, { capabilities: GATEWAY_CAPABILITIES, instructions: INSTRUCTIONS });
    server.setRequestHandler('tools/list', async () => {
      const listing = await governedList(core, drifts);
      onListed?.(listing);
      return { tools: [...listing.tools.map((t) => t.tool), ...inProcessTools(core)] };
    });
    server.setRequestHandler('tools/call', async (request, ctx) => {
      const p = request.params;
      if (typeof p.name !== 'string' || p.name.length === 0) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'tools/call needs a tool name');
      const meta = p._meta as Record<string, unknown> | undefined;
      const callId = stringMeta(meta, META_TOOL_CALL_ID);
      const idempotencyKey = stringMeta(meta, META_IDEMPOTENCY_KEY);
      const progressToken = meta?.progressToken;
      // What is judged, and passed upstream, is the canonical form of the strictly parsed arguments.
      const judged = judgedArguments(meta, p.arguments);
      const call = (client: ClientLink, signal: AbortSignal, refusal?: { reasonCode: SurfaceRefusalCode; detail: string }) =>
        governedCall(core, {
          tool: p.name,
          args: refusal ? `refused by the MCP gateway: ${refusal.detail}` : 'refusal' in judged ? `refused by the MCP gateway: ${judged.refusal.detail}` : judged.args,
          method: 'tools/call',
          ...(refusal ? { refusal } : 'refusal' in judged ? { refusal: judged.refusal } : {}),
          signal,
          client,
          ...(typeof progressToken === 'string' || typeof progressToken === 'number' ? { progressToken } : {}),
          // A refused resumption is a decision of its own: it does not reuse the call's id or key.
          ...(callId !== undefined && !refusal ? { callId } : {}),
          ...(idempotencyKey !== undefined && !refusal ? { idempotencyKey } : {}),
        });
      let out: CallOutcome;
      if (isModernRequest(ctx) && !('refusal' in judged)) {
        // 2026-07-28: upstream requests reach the client as input_required rounds (./input-required.ts).
        const round = await rounds.round(ctx, p.name, jcsString(judged.args ?? {}), downstream, call, (detail) => call(clientLink(ctx, downstream), ctx.mcpReq.signal, { reasonCode: 'MCP_INPUT_STATE_UNKNOWN', detail }));
        if ('inputRequired' in round) return round.inputRequired as never;
        out = round.done;
      } else out = await call(clientLink(ctx, downstream), ctx.mcpReq.signal);
      if (!out.ok) throw toProtocolError(out.refusal);
      return server.projectCallToolResult(out.result as CallToolResult, out.outputSchema);
    });
    server.setRequestHandler('resources/list', (r) => resources.list(r.params) as never);
    server.setRequestHandler('resources/templates/list', (r) => resources.templates(r.params) as never);
    server.setRequestHandler('resources/read', (r) => resources.read(r.params) as never);
    server.setRequestHandler('resources/subscribe', (r) => resources.subscribe(r.params, downstream, true) as never);
    server.setRequestHandler('resources/unsubscribe', (r) => resources.subscribe(r.params, downstream, false) as never);
    server.setRequestHandler('prompts/list', (r) => prompts.list(r.params) as never);
    server.setRequestHandler('prompts/get', (r) => prompts.get(r.params) as never);
    server.setRequestHandler('completion/complete', (r) => complete(r.params) as never);
    server.setRequestHandler('logging/setLevel', (r) => setLevel(r.params, downstream) as never);
    // The client's roots changed: the upstreams that may ask for them hear it (they ask again, decided).
    server.setNotificationHandler('notifications/roots/list_changed', () => {
      for (const u of core.catalog.upstreams) u.rootsChanged();
    });
    return server;
  }

  return {
    perRequest: () => build(null),
    connection() {
      const downstream: Downstream = { level: null, subscriptions: new Set(), notify: (n) => server.notification(n as never) };
      const server = build(downstream);
      core.hub.downstreams.add(downstream);
      const closed = server.onclose;
      server.onclose = () => {
        core.hub.downstreams.delete(downstream);
        closed?.();
      };
      return server;
    },
  };
}
