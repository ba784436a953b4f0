// Tool poisoning: the mutable server rewrites its tool's description between two lists. The
// gateway withholds the tool from the second list, receipts the drift once, refuses calls to it
// with the drift in the error, and lists it again once the pinned definition is back.
import { rm, writeFile } from 'node:fs/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { chainOf, decodedLog, mutable, nodeBody, startRig, type Rig } from './support.js';

let rig: Rig;
let client: Client;

beforeAll(async () => {
  rig = await startRig({ upstreams: (_ws, poison) => [mutable(poison)] });
  client = new Client({ name: 'host', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${rig.url}/mcp`)));
});

afterAll(async () => {
  await client?.close();
  await rig?.close();
});

async function driftNodes() {
  const nodes = [...(await decodedLog(rig.h.logDir)).values()];
  return nodes.filter((n) => String(nodeBody(n).callId ?? '').startsWith('mcp-drift:'));
}

it('withholds a pinned tool whose description changed, and receipts the drift once', async () => {
  const before = (await client.listTools()).tools.map((t) => t.name);
  expect(before).toContain('mutable__lookup');
  await writeFile(rig.poisonFile, 'poisoned');

  const after = await client.listTools();
  expect(after.tools.map((t) => t.name)).not.toContain('mutable__lookup');
  expect(after.tools.map((t) => t.name)).toContain('mutable__slow');
  expect(JSON.stringify(after)).not.toContain('id_rsa');

  const drift = await driftNodes();
  const decision = drift.find((n) => n.kind === 'decision')!;
  expect(nodeBody(decision)).toMatchObject({ tool: 'mutable__lookup', verdict: 'DENY', reasonCode: 'MCP_DEFINITION_DRIFT' });
  const chain = await chainOf(rig.h, nodeBody(decision).callId as string);
  expect(nodeBody(chain.intent)).toMatchObject({ surface: 'mcp', tool: 'mutable__lookup' });
  expect(nodeBody(chain.effect!)).toMatchObject({ status: 'blocked', confirmed: false });
  expect(String(nodeBody(chain.effect!).error)).toMatch(/definition drift .*pinned to sha256:94cc63d7.*now publishes sha256:[0-9a-f]{64}/);
  expect(rig.events.decisions.some((d) => d.method === 'tools/list' && d.tool === 'mutable__lookup')).toBe(true);

  await client.listTools();
  expect((await driftNodes()).length).toBe(drift.length);
});

it('refuses a call to the drifted tool with the drift and a receipt', async () => {
  const e = await client.callTool({ name: 'mutable__lookup', arguments: { id: 'r1' } }).then(
    () => null,
    (x: unknown) => x as McpError,
  );
  expect(e).toBeInstanceOf(McpError);
  const data = e!.data as { verdict: string; failure: string; drift: { pinned: string; upstream: string }; callId: string };
  expect(data).toMatchObject({ verdict: 'DENY', reasonCode: 'MCP_DEFINITION_DRIFT', failure: 'definition-drift' });
  expect(e!.message).toContain('MCP_DEFINITION_DRIFT');
  expect(data.drift.pinned).toBe('sha256:94cc63d79aad03468e42313474184afa63f03bc1ef4fc6bc37f0818123c3ad99');
  expect(data.drift.upstream).not.toBe(data.drift.pinned);
  const chain = await chainOf(rig.h, data.callId);
  expect(nodeBody(chain.effect!)).toMatchObject({ status: 'blocked' });
});

it('lists the tool again once the pinned definition is back', async () => {
  await rm(rig.poisonFile);
  expect((await client.listTools()).tools.map((t) => t.name)).toContain('mutable__lookup');
  const r = await client.callTool({ name: 'mutable__lookup', arguments: { id: 'r2' } });
  expect(r.content).toEqual([{ type: 'text', text: 'record r2' }]);
});
