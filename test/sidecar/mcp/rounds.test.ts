// Durable rounds of a governed MCP call (issue 11): one group commit for the intent, input and
// decision before the upstream is called, and one for the effect and result before the client
// sees the output; never an effect round followed by a separate result round.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { grantEverythingBundle } from './conformance-bundle.js';
import { startConformanceServer, type ConformanceServer } from './conformance-server.js';
import { META_RECEIPT } from '../../../sidecar/mcp/call.js';
import { chainOf, startRig, type Rig } from './support.js';

let server: ConformanceServer;
let rig: Rig;
let client: Client;

beforeAll(async () => {
  server = await startConformanceServer();
  rig = await startRig({ upstreams: () => [{ name: 'conformance', transport: 'http', url: server.url, protocol: 'legacy' }], bundleDoc: grantEverythingBundle(), gateway: { naming: 'own' } });
  client = new Client({ name: 'host', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${rig.url}/mcp`)));
  await client.callTool({ name: 'test_simple_text', arguments: {} }); // warm-up: connections, pins
});

afterAll(async () => {
  await client?.close();
  await rig?.close();
  await server?.close();
});

async function rounds(run: () => Promise<unknown>): Promise<{ appends: number; batches: number }> {
  const before = rig.h.writer.storeStats;
  await run();
  const after = rig.h.writer.storeStats;
  return { appends: after.appends - before.appends, batches: after.batches - before.batches };
}

it('a tools/call: four nodes in two log batches, fully receipted', async () => {
  let callId = '';
  const r = await rounds(async () => {
    const res = await client.callTool({ name: 'test_simple_text', arguments: {} });
    expect(res.isError).toBeFalsy();
    callId = String((res._meta as Record<string, { callId?: string }> | undefined)?.[META_RECEIPT]?.callId ?? '');
  });
  expect(r).toEqual({ appends: 4, batches: 2 });
  const chain = await chainOf(rig.h, callId);
  expect([chain.intent, chain.decision, chain.effect, chain.result].every(Boolean)).toBe(true);
});

it('a resources/read: four nodes in two log batches', async () => {
  const r = await rounds(() => client.readResource({ uri: 'test://static-text' }));
  expect(r).toEqual({ appends: 4, batches: 2 });
});
