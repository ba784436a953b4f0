// In-process upstreams: tool providers that live inside the sidecar (the WASI sandbox,
// sidecar/sandbox) instead of behind an MCP connection. Each one lists its own governed tools and
// runs its own governed calls (decide, execute, EFFECT, RESULT); the gateway only routes to it.
// The one hook the gateway has for them: tools/list and the capabilities route add their tools,
// governedCall hands them the calls they own before any upstream routing.
import type { Tool } from '@modelcontextprotocol/server';
import type { CallOutcome, CallRequest } from './call.js';
import type { GatewayCore } from './core.js';

export interface InProcessUpstream {
  readonly name: string;
  /** The tools this principal may see, as tools/list publishes them. */
  tools(core: GatewayCore): Tool[];
  /** The governed call when the tool is one of its own, else null (the gateway routes it upstream). */
  call(core: GatewayCore, req: CallRequest): Promise<CallOutcome> | null;
  close(): Promise<void>;
}

export function inProcessCall(core: GatewayCore, req: CallRequest): Promise<CallOutcome> | null {
  for (const u of core.inProcess ?? []) {
    const p = u.call(core, req);
    if (p !== null) return p;
  }
  return null;
}

export function inProcessTools(core: GatewayCore): Tool[] {
  return (core.inProcess ?? []).flatMap((u) => u.tools(core));
}
