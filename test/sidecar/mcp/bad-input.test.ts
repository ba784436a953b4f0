// Bad input on the stateful Streamable HTTP surface: each gets a JSON-RPC error whose message and
// data name a reason code, and the session keeps working afterwards (a ping still answers).
import { grantEverythingBundle } from './conformance-bundle.js';
import { startConformanceServer, type ConformanceServer } from './conformance-server.js';
import { startRig, type Rig } from './support.js';

let server: ConformanceServer;
let rig: Rig;
let session: string;

beforeAll(async () => {
  server = await startConformanceServer();
  rig = await startRig({
    upstreams: () => [{ name: 'conformance', transport: 'http', url: server.url, protocol: 'legacy' }],
    bundleDoc: grantEverythingBundle(),
    gateway: { naming: 'own', maxMessageBytes: 64 * 1024 },
  });
  const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }, null);
  session = init.headers.get('mcp-session-id')!;
  expect(session).toMatch(/^[0-9a-f-]{36}$/);
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
});

afterAll(async () => {
  await rig?.close();
  await server?.close();
});

async function post(body: unknown, sid: string | null = session, raw?: string) {
  return fetch(`${rig.url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', ...(sid ? { 'mcp-session-id': sid } : {}) },
    body: raw ?? JSON.stringify(body),
  });
}

/** The JSON-RPC message of a JSON or SSE answer. */
async function message(r: Response): Promise<{ id?: unknown; result?: unknown; error?: { code: number; message: string; data?: { reasonCode?: string } } }> {
  const text = await r.text();
  const data = r.headers.get('content-type')?.includes('text/event-stream') ? text.split('\n').filter((l) => l.startsWith('data: ') && l.length > 6).pop()!.slice(6) : text;
  return JSON.parse(data);
}

async function expectAlive() {
  const m = await message(await post({ jsonrpc: '2.0', id: `ping-${Math.random()}`, method: 'ping' }));
  expect(m.result).toEqual({});
}

function expectCode(m: Awaited<ReturnType<typeof message>>, reasonCode: string) {
  expect(m.error?.data?.reasonCode).toBe(reasonCode);
  expect(m.error?.message).toContain(reasonCode);
}

it('malformed JSON-RPC and non-JSON: MCP_MESSAGE_INVALID', async () => {
  let r = await post({ jsonrpc: '1.0', id: 2, method: 'ping' });
  expect(r.status).toBe(400);
  expectCode(await message(r), 'MCP_MESSAGE_INVALID');
  r = await post(null, session, '{"jsonrpc": "2.0", "id": 3, ');
  expect(r.status).toBe(400);
  expectCode(await message(r), 'MCP_MESSAGE_INVALID');
  r = await post({ jsonrpc: '2.0', id: 4 });
  expectCode(await message(r), 'MCP_MESSAGE_INVALID');
  await expectAlive();
});

it('an unknown method: -32601 MCP_METHOD_UNKNOWN', async () => {
  const m = await message(await post({ jsonrpc: '2.0', id: 5, method: 'tools/explode', params: {} }));
  expect(m.error?.code).toBe(-32601);
  expect(m.id).toBe(5);
  expectCode(m, 'MCP_METHOD_UNKNOWN');
  await expectAlive();
});

it('an oversized message: 413 INPUT_TOO_LARGE before parsing', async () => {
  const r = await post(null, session, JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'ping', params: { pad: 'x'.repeat(70 * 1024) } }));
  expect(r.status).toBe(413);
  expectCode(await message(r), 'INPUT_TOO_LARGE');
  await expectAlive();
});

it('an id reused while its request is in flight: MCP_REQUEST_ID_REUSED, and the id is free again afterwards', async () => {
  const slow = post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {} } });
  await new Promise((r) => setTimeout(r, 30));
  const again = await post({ jsonrpc: '2.0', id: 7, method: 'ping' });
  expect(again.status).toBe(409);
  expectCode(await message(again), 'MCP_REQUEST_ID_REUSED');
  const first = await message(await slow);
  expect(JSON.stringify(first.result)).toContain('Tool with progress executed successfully');
  expect((await message(await post({ jsonrpc: '2.0', id: 7, method: 'ping' }))).result).toEqual({});
});

it('a response to a request the gateway never sent: MCP_RESPONSE_UNSOLICITED', async () => {
  let r = await post({ jsonrpc: '2.0', id: 'sampling-1', result: { model: 'm', role: 'assistant', content: { type: 'text', text: 'hi' } } });
  expect(r.status).toBe(400);
  expectCode(await message(r), 'MCP_RESPONSE_UNSOLICITED');
  r = await post({ jsonrpc: '2.0', id: 'sampling-2', result: {} }, null);
  expectCode(await message(r), 'MCP_RESPONSE_UNSOLICITED');
  await expectAlive();
});

it('an unknown session: 404 MCP_SESSION_UNKNOWN (a session id is never an authorisation)', async () => {
  const r = await post({ jsonrpc: '2.0', id: 8, method: 'tools/list' }, '00000000-0000-4000-8000-000000000000');
  expect(r.status).toBe(404);
  expectCode(await message(r), 'MCP_SESSION_UNKNOWN');
  const get = await fetch(`${rig.url}/mcp`, { headers: { accept: 'text/event-stream' } });
  expect(get.status).toBe(400);
  expectCode(await message(get), 'MCP_SESSION_UNKNOWN');
});

it('resumes an SSE stream after Last-Event-ID and announces the retry field', async () => {
  const r = await post({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'p9' } } });
  const text = await r.text();
  expect(text).toMatch(/^retry: \d+$/m);
  const ids = [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]!);
  expect(ids.length).toBeGreaterThanOrEqual(3);
  // Reconnect after the first event: the rest of that stream comes again, in order.
  const resumed = await fetch(`${rig.url}/mcp`, { headers: { accept: 'text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25', 'last-event-id': ids[0]! } });
  expect(resumed.status).toBe(200);
  const reader = resumed.body!.getReader();
  let replay = '';
  while (!replay.includes('Tool with progress executed successfully')) {
    const { value, done } = await reader.read();
    if (done) break;
    replay += new TextDecoder().decode(value);
  }
  await reader.cancel();
  expect([...replay.matchAll(/^id: (.+)$/gm)].map((m) => m[1])).toEqual(ids.slice(1));
});
