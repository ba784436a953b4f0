// A bundle that grants everything the conformance server offers, under its own names (the gateway's
// `own` naming with one upstream), and every relayed request kind (kernel/guardian/mcp-kinds.ts).
import { MCP_KIND_TOOLS } from '../../../kernel/guardian/mcp-kinds.js';
import type { JsonObject, PolicyBundleDoc, ToolDecl } from '../../../kernel/guardian/bundle-types.js';
import { CONFORMANCE_TOOLS } from './conformance-server.js';

const str = { type: 'string' };
const obj = (properties: JsonObject, required: string[] = []): JsonObject => ({ type: 'object', properties, ...(required.length ? { required } : {}) });

/** The argument schema of each reserved request kind, as the gateway builds the arguments. */
export const KIND_ARGS: Record<keyof typeof MCP_KIND_TOOLS, JsonObject> = {
  resourcesList: obj({ upstream: str, templates: { type: 'boolean' } }, ['upstream', 'templates']),
  resourcesRead: obj({ upstream: str, uri: str, path: str }, ['upstream', 'uri']),
  resourcesSubscribe: obj({ upstream: str, uri: str, subscribe: { type: 'boolean' } }, ['upstream', 'uri', 'subscribe']),
  promptsList: obj({ upstream: str }, ['upstream']),
  promptsGet: obj({ upstream: str, name: str, arguments: { type: 'object', additionalProperties: str } }, ['upstream', 'name']),
  complete: obj({ upstream: str, ref: str, argument: str }, ['upstream', 'ref', 'argument']),
  setLevel: obj({ level: str }, ['level']),
  sampling: obj({ upstream: str, causedBy: str, maxTokens: { type: 'integer', maximum: 100000 }, bytes: { type: 'integer', maximum: 1048576 } }, ['upstream', 'causedBy', 'maxTokens', 'bytes']),
  elicitation: obj({ upstream: str, causedBy: str, mode: str, bytes: { type: 'integer', maximum: 1048576 } }, ['upstream', 'causedBy', 'mode', 'bytes']),
  roots: obj({ upstream: str }, ['upstream']),
};

function argsOf(schema: JsonObject): JsonObject {
  // Bundle schemas are a hardened 2020-12 subset: the tool's own schema without $schema/$defs/$ref.
  const props = (schema.properties ?? {}) as Record<string, JsonObject>;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(props)) out[k] = '$ref' in v ? obj({ street: str, city: str }) : v;
  return { type: 'object', properties: out, ...(Array.isArray(schema.required) ? { required: schema.required } : {}) };
}

/** @param more further upstream tools to grant (another test upstream's), beside the conformance server's. */
export function grantEverythingBundle(more: ReadonlyArray<{ name: string; inputSchema: unknown }> = []): PolicyBundleDoc {
  const tools: Record<string, ToolDecl> = {};
  for (const t of [...CONFORMANCE_TOOLS, ...more]) tools[t.name] = { domain: 'conformance', sideEffect: 'read', args: argsOf(t.inputSchema as JsonObject) };
  for (const [kind, name] of Object.entries(MCP_KIND_TOOLS)) tools[name] = { domain: 'conformance', sideEffect: 'read', args: KIND_ARGS[kind as keyof typeof MCP_KIND_TOOLS] };
  return {
    apiVersion: 'helm-policy-bundle/v1',
    kind: 'PolicyBundle',
    metadata: { name: 'mcp-conformance-grant-everything' },
    domains: { conformance: { description: 'Everything the conformance server offers' } },
    grants: [{ id: 'agents', principals: { roles: ['agent'] }, domains: ['conformance'], profile: 'read-only' }],
    tools,
    rules: [{ id: 'allow-conformance', verdict: 'ALLOW', match: { domains: ['conformance'] } }],
  };
}
