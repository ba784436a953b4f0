// The MCP server the gateway presents: tools only (resources and prompts of upstreams are not
// passed through, since nothing governs them). One factory serves both protocol eras on every
// transport: the SDK builds an instance per HTTP request, per stdio connection, per SSE session.
import { ProtocolError, ProtocolErrorCode, Server, type CallToolResult, type McpServerFactory } from '@modelcontextprotocol/server';
import { governedCall, META_IDEMPOTENCY_KEY, META_TOOL_CALL_ID } from './call.js';
import type { GatewayCore } from './core.js';
import type { DriftLedger } from './drift.js';
import { inProcessTools } from './in-process.js';
import { governedList } from './list.js';
import { toProtocolError } from './refusal.js';
import { judgedArguments } from './screen.js';

export const GATEWAY_INFO = { name: 'helm-mcp-gateway', version: '0.1.0' };

const INSTRUCTIONS =
  'Tools of several MCP servers, governed by a HELM policy bundle: each call is decided by the Guardian and receipted. ' +
  'A refused call answers a JSON-RPC error whose data carries verdict, reasonCode and receipt.';

function stringMeta(meta: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = meta?.[key];
  return typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined;
}

export function serverFactory(core: GatewayCore, drifts: DriftLedger): McpServerFactory {
  return () => {
    const server = new Server(GATEWAY_INFO, { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS });
    server.setRequestHandler('tools/list', async () => ({ tools: [...(await governedList(core, drifts)).tools.map((t) => t.tool), ...inProcessTools(core)] }));
    server.setRequestHandler('tools/call', async (request, ctx) => {
      const p = request.params;
      if (typeof p.name !== 'string' || p.name.length === 0) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'tools/call needs a tool name');
      const meta = p._meta as Record<string, unknown> | undefined;
      const callId = stringMeta(meta, META_TOOL_CALL_ID);
      const idempotencyKey = stringMeta(meta, META_IDEMPOTENCY_KEY);
      // What is judged, and passed upstream, is the canonical form of the strictly parsed arguments.
      const judged = judgedArguments(meta, p.arguments);
      const out = await governedCall(core, {
        tool: p.name,
        args: 'refusal' in judged ? `refused by the MCP gateway: ${judged.refusal.detail}` : judged.args,
        method: 'tools/call',
        ...('refusal' in judged ? { refusal: judged.refusal } : {}),
        signal: ctx.mcpReq.signal,
        ...(callId !== undefined ? { callId } : {}),
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      });
      if (!out.ok) throw toProtocolError(out.refusal);
      return server.projectCallToolResult(out.result as CallToolResult, out.outputSchema);
    });
    return server;
  };
}
