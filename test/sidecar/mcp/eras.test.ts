// Both protocol eras against one gateway at the same time: a 2026-07-28 client (v2 SDK, no
// initialize, per-request envelope, Mcp-Method/Mcp-Name headers) and a 2025-11-25 client (v1 SDK,
// initialize handshake) list and call interleaved; each gets its own era's answers and receipts.
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyHttp } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { META_RECEIPT } from '../../../sidecar/mcp/call.js';
import { chainOf, everything, mutable, startRig, type Rig } from './support.js';

let rig: Rig;
let modern: ModernClient;
let legacy: LegacyClient;

beforeAll(async () => {
  rig = await startRig({ upstreams: (_ws, poison) => [everything(), mutable(poison)] });
  modern = new ModernClient({ name: 'modern-host', version: '2.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  legacy = new LegacyClient({ name: 'legacy-host', version: '1.0.0' });
  await Promise.all([modern.connect(new ModernHttp(new URL(`${rig.url}/mcp`))), legacy.connect(new LegacyHttp(new URL(`${rig.url}/mcp`)))]);
});

afterAll(async () => {
  await modern?.close();
  await legacy?.close();
  await rig?.close();
});

it('negotiates each client its own era', () => {
  expect(modern.getNegotiatedProtocolVersion()).toBe('2026-07-28');
  expect(legacy.getServerVersion()).toMatchObject({ name: 'helm-mcp-gateway' });
});

it('serves interleaved lists and calls of both eras with separate receipts', async () => {
  const [ml, ll] = await Promise.all([modern.listTools(undefined, { cacheMode: 'refresh' }), legacy.listTools()]);
  expect(ml.tools.map((t) => t.name).sort()).toEqual(ll.tools.map((t) => t.name).sort());
  const calls = [];
  for (let i = 0; i < 5; i++) {
    calls.push(modern.callTool({ name: 'everything__echo', arguments: { message: `modern ${i}` } }));
    calls.push(legacy.callTool({ name: 'everything__echo', arguments: { message: `legacy ${i}` } }));
    calls.push(modern.callTool({ name: 'mutable__lookup', arguments: { id: `m${i}` } }));
  }
  const results = await Promise.all(calls);
  const texts = results.map((r) => (r.content as Array<{ text: string }>)[0]!.text);
  for (let i = 0; i < 5; i++) {
    expect(texts).toContain(`Echo: modern ${i}`);
    expect(texts).toContain(`Echo: legacy ${i}`);
    expect(texts).toContain(`record m${i}`);
  }
  const ids = new Set(results.map((r) => (r._meta?.[META_RECEIPT] as { callId: string }).callId));
  expect(ids.size).toBe(results.length);
  for (const id of ids) await chainOf(rig.h, id);
});

it('refuses a 2026-07-28 request whose Mcp-Name header does not match its body', async () => {
  const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'x', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
  const post = (name: string) =>
    fetch(`${rig.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'x' }, _meta: envelope } }),
    });
  const bad = await post('everything__get-sum');
  expect(bad.status).toBe(400);
  const body = (await bad.json()) as { error: { code: number; message: string } };
  expect(body.error.code).toBe(-32020);
  expect(body.error.message).toMatch(/Mcp-Name/);
  // The refused request never reached the PEP; the matching one is decided and carried out.
  const good = await post('everything__echo');
  expect(good.status).toBe(200);
  expect(JSON.stringify(await good.json())).toContain('Echo: x');
});
