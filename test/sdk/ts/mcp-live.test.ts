// The TypeScript SDK on the MCP surface of a live `helmctl serve` (server-everything upstream):
// the governance of an executed call from its `_meta` and of a denied call from the JSON-RPC
// error, and both receipts verified offline.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { loadTrust, mcpErrorGovernance, mcpResultGovernance, mcpToolGovernance, verifyReceipt } from '../../../sdk/ts/src/index.js';
import { MCP_TOOL, startLiveSidecar, type LiveSidecar } from '../live-sidecar.js';

describe('TS SDK on the live MCP gateway', () => {
  let live: LiveSidecar;
  let client: Client;
  beforeAll(async () => {
    live = await startLiveSidecar({ mcp: true });
    client = new Client({ name: 'sdk-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(live.mcpUrl!)));
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await live?.stop();
  });

  it('reads tool, result and refusal governance, and verifies both receipts', async () => {
    // The upstream starts in parallel with the sidecar: wait until it lists its tools.
    let tools: Awaited<ReturnType<Client['listTools']>>['tools'] = [];
    for (let i = 0; i < 200 && !tools.some((t) => t.name === MCP_TOOL); i++) {
      tools = (await client.listTools()).tools;
      if (!tools.some((t) => t.name === MCP_TOOL)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(mcpToolGovernance(tools.find((t) => t.name === MCP_TOOL)!)).toMatchObject({ upstream: 'everything', upstreamTool: 'echo', sideEffect: 'read' });

    const ok = mcpResultGovernance(await client.callTool({ name: MCP_TOOL, arguments: { message: 'hello' } }))!;
    expect([ok.verdict, ok.reasonCode, ok.receipt === ok.receipts.result]).toEqual(['ALLOW', 'ALLOWED', true]);

    const err = await client.callTool({ name: MCP_TOOL, arguments: { message: 'my password is hunter2' } }).then(
      () => null,
      (e: unknown) => e as McpError,
    );
    expect(err).toBeInstanceOf(McpError);
    const denied = mcpErrorGovernance({ code: err!.code, message: err!.message, data: err!.data })!;
    expect([denied.verdict, denied.reasonCode, denied.refusal?.kind, denied.receipt === denied.receipts.decision]).toEqual(['DENY', 'POLICY_VIOLATION', 'denied', true]);

    expect((await fetch(live.exportUrl, { method: 'POST' })).status).toBe(200);
    const events = (await readFile(join(live.packDir, 'trust-events.jsonl'), 'utf8')).trim().split('\n');
    const trust = loadTrust(await readFile(live.trustPolicy, 'utf8'), events);
    const verify = async (h: string) => {
      const hex = h.replace('sha256:', '');
      return verifyReceipt(await readFile(join(live.packDir, 'receipts', `${hex}.json`)), trust, { proof: await readFile(join(live.packDir, 'receipts', `${hex}.tlog-proof`), 'utf8') });
    };
    const [result, decision] = [await verify(ok.receipt!), await verify(denied.receipt!)];
    expect([result.kind, result.body.status, decision.kind, decision.body.verdict, decision.body.tool]).toEqual(['result', 'ok', 'decision', 'DENY', MCP_TOOL]);
  }, 60_000);
});
