// The MCP part of `npm run demo`: a real MCP server (server-everything over stdio) behind the
// gateway, an MCP SDK client over Streamable HTTP making an allowed and two denied calls, and one
// summary row per call. The demo's bundle must declare the tools: addMcpDemoPolicy adds them.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { PolicyBundleDoc } from '../../kernel/guardian/bundle-types.js';
import type { Pep } from '../../kernel/pep/pep.js';
import { META_RECEIPT } from './call.js';
import { createMcpGateway } from './gateway.js';
import type { Principal } from './visibility.js';

export interface McpDemoRow {
  surface: 'mcp';
  tool: string;
  verdict: string;
  reasonCode: string;
  /** The most specific receipt (result node for a carried-out call, decision node for a denial). */
  receipt: string | null;
  detail: string;
}

/** Adds the demo's MCP tools, a rule set and a grant for `roles` to a bundle (before it is signed). */
export function addMcpDemoPolicy(doc: PolicyBundleDoc, roles: string[]): PolicyBundleDoc {
  return {
    ...doc,
    domains: { ...doc.domains, 'mcp-demo': { description: 'Tools of the demo MCP server (server-everything)' } },
    grants: [...doc.grants, { id: 'mcp-demo-agents', principals: { roles }, domains: ['mcp-demo'], profile: 'read-only' }],
    tools: {
      ...doc.tools,
      everything__echo: { domain: 'mcp-demo', sideEffect: 'read', args: { type: 'object', properties: { message: { type: 'string', maxLength: 2000 } }, required: ['message'] } },
      'everything__get-sum': { domain: 'mcp-demo', sideEffect: 'read', args: { type: 'object', properties: { a: { type: 'integer', maximum: 1000 }, b: { type: 'integer', maximum: 1000 } }, required: ['a', 'b'] } },
    },
    rules: [
      ...doc.rules,
      { id: 'mcp-demo-allow', verdict: 'ALLOW', match: { domains: ['mcp-demo'] } },
      { id: 'mcp-demo-no-secrets', verdict: 'DENY', match: { tools: ['everything__echo'] }, when: "args.message.contains('password')" },
    ],
  };
}

/** The installed server-everything entry point (a devDependency), or null when it is missing. */
export function everythingServerPath(): string | null {
  try {
    return createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');
  } catch {
    return null;
  }
}

export async function runMcpDemo(o: { pep: Pep; principal: Principal; serverPath?: string }): Promise<McpDemoRow[]> {
  const serverPath = o.serverPath ?? everythingServerPath();
  if (serverPath === null) throw new Error('@modelcontextprotocol/server-everything is not installed (npm install)');
  const gateway = await createMcpGateway({
    pep: o.pep,
    principal: o.principal,
    upstreams: [{ name: 'everything', transport: 'stdio', command: process.execPath, args: [serverPath, 'stdio'], protocol: 'legacy' }],
    log: () => undefined,
  });
  const http = createServer((req, res) => {
    void gateway.handle(req, res).then((ours) => {
      if (!ours) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const client = new Client({ name: 'helm-demo-agent', version: '1.0.0' });
  const rows: McpDemoRow[] = [];
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${(http.address() as { port: number }).port}/mcp`)));
    const listed = (await client.listTools()).tools.map((t) => t.name);
    const calls: Array<[string, Record<string, unknown>]> = [
      ['everything__echo', { message: 'hello from the governed MCP gateway' }],
      ['everything__echo', { message: 'my password is hunter2' }],
      ['everything__get-sum', { a: 5000, b: 1 }],
    ];
    for (const [tool, args] of calls) {
      try {
        const r = await client.callTool({ name: tool, arguments: args });
        const receipt = r._meta?.[META_RECEIPT] as { result?: string; reasonCode?: string } | undefined;
        const text = (r.content as Array<{ type: string; text?: string }> | undefined)?.find((c) => c.type === 'text')?.text ?? '';
        rows.push({ surface: 'mcp', tool, verdict: 'ALLOW', reasonCode: receipt?.reasonCode ?? 'ALLOWED', receipt: receipt?.result ?? null, detail: text });
      } catch (e) {
        const d = (e instanceof McpError ? e.data : undefined) as { verdict?: string; reasonCode?: string; receipt?: string } | undefined;
        rows.push({ surface: 'mcp', tool, verdict: d?.verdict ?? 'DENY', reasonCode: d?.reasonCode ?? 'GUARDIAN_ERROR', receipt: d?.receipt ?? null, detail: (e as Error).message });
      }
    }
    rows.unshift({ surface: 'mcp', tool: '(tools/list)', verdict: '-', reasonCode: '-', receipt: null, detail: listed.join(', ') });
  } finally {
    await client.close().catch(() => undefined);
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
    await gateway.close();
  }
  return rows;
}
