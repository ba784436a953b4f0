// MCP messages other than tools/call, judged like tool calls. Each kind of request the MCP gateway
// relays (a resource read, a prompt, a sampling request from an upstream...) is decided under a
// reserved tool name with arguments built here, so a bundle governs it with the primitives it
// already has: grants and capability profiles (domain, side effect), the argument schema (an
// `enum` of upstreams, a `pattern` on a resource URI or prompt name, a `maximum` on a sampling
// request's maxTokens and size), `paths` scoping (the path of a file: URI), rules and budgets, and
// a pinned `output` schema. The decision, its receipt, replay and verify are those of any tool
// call. Spec: docs/spec/policy-bundle.md §3.3, docs/mcp-gateway.md §10.
import type { JsonObject } from './bundle-types.js';

/** Reserved bundle tool names, one per relayed request kind ("mcp:" cannot start an MCP tool's published name). */
export const MCP_KIND_TOOLS = {
  resourcesList: 'mcp:resources/list',
  resourcesRead: 'mcp:resources/read',
  resourcesSubscribe: 'mcp:resources/subscribe',
  promptsList: 'mcp:prompts/list',
  promptsGet: 'mcp:prompts/get',
  complete: 'mcp:completion/complete',
  setLevel: 'mcp:logging/setLevel',
  sampling: 'mcp:sampling/createMessage',
  elicitation: 'mcp:elicitation/create',
  roots: 'mcp:roots/list',
} as const;

export type McpKind = keyof typeof MCP_KIND_TOOLS;

export function isMcpKindTool(tool: string): boolean {
  return (Object.values(MCP_KIND_TOOLS) as string[]).includes(tool);
}

/** UTF-8 length of the JSON text of a value: the size a limit in the bundle bounds. */
export function jsonBytes(v: unknown): number {
  return new TextEncoder().encode(JSON.stringify(v ?? null)).length;
}

/** The path of a file: URI (decoded), or undefined: what `paths` scoping of resources/read judges. */
export function filePath(uri: string): string | undefined {
  if (!uri.startsWith('file://')) return undefined;
  try {
    const u = new URL(uri);
    return u.host === '' || u.host === 'localhost' ? u.pathname : undefined;
  } catch {
    return undefined;
  }
}

/** The arguments each kind is judged on (a bundle's args schema for the reserved tool names these). */
export const mcpKindArgs = {
  resourcesList: (upstream: string, templates: boolean): JsonObject => ({ upstream, templates }),
  resourcesRead: (upstream: string, uri: string): JsonObject => {
    const path = filePath(uri);
    return path === undefined ? { upstream, uri } : { upstream, uri, path };
  },
  resourcesSubscribe: (upstream: string, uri: string, subscribe: boolean): JsonObject => ({ upstream, uri, subscribe }),
  promptsList: (upstream: string): JsonObject => ({ upstream }),
  promptsGet: (upstream: string, name: string, args: Record<string, string>): JsonObject => ({ upstream, name, arguments: { ...args } }),
  complete: (upstream: string, ref: string, argument: string): JsonObject => ({ upstream, ref, argument }),
  setLevel: (level: string): JsonObject => ({ level }),
  /** causedBy: the callId of the tools/call during which the upstream asked. */
  sampling: (upstream: string, causedBy: string, maxTokens: number, bytes: number): JsonObject => ({ upstream, causedBy, maxTokens, bytes }),
  elicitation: (upstream: string, causedBy: string, mode: string, bytes: number): JsonObject => ({ upstream, causedBy, mode, bytes }),
  roots: (upstream: string): JsonObject => ({ upstream }),
};
