// Requests an upstream sends to the client: sampling/createMessage (the client's model),
// elicitation/create (the client's user) and roots/list. Each is decided like a call, under its
// reserved tool name (kernel/guardian/mcp-kinds.ts), with the asking upstream, the size of the
// request and, for sampling, maxTokens in the arguments, so a bundle says which upstream may ask
// and how much. The request is attributed to the one tools/call in flight on that upstream (./hub.ts):
// its callId is an argument and its decision is in the recorded context (the causal link); with no
// single such call the request is denied MCP_REQUEST_UNATTRIBUTED, receipted, and never forwarded.

import type { JsonObject } from '../../kernel/guardian/bundle-types.js';
import { jsonBytes, mcpKindArgs, type McpKind } from '../../kernel/guardian/mcp-kinds.js';
import type { GatewayCore } from './core.js';
import { governedOp } from './relay.js';
import { toProtocolError } from './refusal.js';
import type { UpstreamRequestMethod } from './upstream.js';

export function upstreamRequestRelay(core: () => GatewayCore) {
  return async (upstream: string, method: UpstreamRequestMethod, params: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>> => {
    const c = core();
    const cause = c.hub.causer(upstream);
    const causedBy = cause?.callId ?? '(none)';
    const bytes = jsonBytes(params);
    let kind: McpKind;
    let args: JsonObject;
    if (method === 'sampling/createMessage') {
      kind = 'sampling';
      const maxTokens = typeof params.maxTokens === 'number' ? params.maxTokens : 0;
      args = mcpKindArgs.sampling(upstream, causedBy, maxTokens, bytes);
    } else if (method === 'elicitation/create') {
      kind = 'elicitation';
      args = mcpKindArgs.elicitation(upstream, causedBy, typeof params.mode === 'string' ? params.mode : 'form', bytes);
    } else {
      kind = 'roots';
      args = mcpKindArgs.roots(upstream);
    }
    const out = await governedOp(c, {
      kind,
      upstream,
      args,
      method,
      ...(cause ? { causedBy: { callId: cause.callId, decision: cause.decision } } : {}),
      ...(cause ? {} : { refusal: { reasonCode: 'MCP_REQUEST_UNATTRIBUTED' as const, detail: `upstream ${upstream} sent ${method} while ${c.hub.inflightOn(upstream)} of its tools/calls were in flight; it can be relayed only during exactly one` } }),
      run: (timeoutSignal) => {
        const both = AbortSignal.any([signal, timeoutSignal]);
        return cause!.client.request(method, params, both);
      },
      output: (r) => r,
    });
    if (!out.ok) throw toProtocolError(out.refusal);
    return out.result;
  };
}

