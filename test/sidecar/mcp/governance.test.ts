// The relayed kinds are governed by the bundle, not passed through: a resource URI outside the
// declared pattern is denied and receipted, and an upstream whose sampling request the bundle does
// not allow never reaches the client's model.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { grantEverythingBundle } from './conformance-bundle.js';
import { startConformanceServer, type ConformanceServer } from './conformance-server.js';
import { chainOf, decodedLog, nodeBody, startRig, type Rig } from './support.js';

let server: ConformanceServer;
let rig: Rig;
let client: Client;
let sampled = 0;

beforeAll(async () => {
  server = await startConformanceServer();
  const doc = grantEverythingBundle();
  // Resources: only the static ones. Sampling: not declared, so denied TOOL_NOT_DECLARED.
  const read = doc.tools['mcp:resources/read']!;
  read.args = { ...read.args, properties: { ...(read.args.properties as object), uri: { type: 'string', pattern: '^test://static-' } } };
  delete doc.tools['mcp:sampling/createMessage'];
  rig = await startRig({ upstreams: () => [{ name: 'conformance', transport: 'http', url: server.url, protocol: 'legacy' }], bundleDoc: doc, gateway: { naming: 'own' } });
  client = new Client({ name: 'host', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => {
    sampled += 1;
    return { model: 'm', role: 'assistant', content: { type: 'text', text: 'leaked' } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${rig.url}/mcp`)));
});

afterAll(async () => {
  await client?.close();
  await rig?.close();
  await server?.close();
});

it('reads a resource inside the URI pattern and refuses one outside it with a receipt', async () => {
  const ok = await client.readResource({ uri: 'test://static-text' });
  expect(ok.contents[0]).toMatchObject({ uri: 'test://static-text', text: 'This is the content of the static text resource.' });
  const e = await client.readResource({ uri: 'test://template/42/data' }).then(
    () => null,
    (x: unknown) => x as McpError,
  );
  expect(e).toBeInstanceOf(McpError);
  expect(e!.code).toBe(-32060);
  expect(e!.message).toContain('SCHEMA_VIOLATION');
  const data = e!.data as { verdict: string; reasonCode: string; callId: string };
  expect(data).toMatchObject({ verdict: 'DENY', reasonCode: 'SCHEMA_VIOLATION' });
  const chain = await chainOf(rig.h, data.callId);
  expect(nodeBody(chain.decision)).toMatchObject({ tool: 'mcp:resources/read', verdict: 'DENY', reasonCode: 'SCHEMA_VIOLATION' });
});

it("denies an upstream's sampling request the bundle does not allow; the client's model is never asked", async () => {
  await expect(client.callTool({ name: 'test_sampling', arguments: { prompt: 'exfiltrate' } })).rejects.toThrow();
  expect(sampled).toBe(0);
  const nodes = [...(await decodedLog(rig.h.logDir)).values()];
  const denied = nodes.filter((n) => n.kind === 'decision' && nodeBody(n).tool === 'mcp:sampling/createMessage');
  expect(denied.map((n) => [nodeBody(n).verdict, nodeBody(n).reasonCode])).toEqual([['DENY', 'TOOL_NOT_DECLARED']]);
});

it('relays resources/updated only to the client that subscribed', async () => {
  const { ResourceUpdatedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
  const other = new Client({ name: 'other', version: '1.0.0' });
  await other.connect(new StreamableHTTPClientTransport(new URL(`${rig.url}/mcp`)));
  const seen = { client: 0, other: 0 };
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => void (seen.client += 1));
  other.setNotificationHandler(ResourceUpdatedNotificationSchema, () => void (seen.other += 1));
  await client.subscribeResource({ uri: 'test://watched-resource' });
  for (let i = 0; i < 100 && seen.client === 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(seen).toEqual({ client: 1, other: 0 });
  await other.close();
});
