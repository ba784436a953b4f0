// Hostile input on every transport: malformed JSON, wrong JSON-RPC shapes, unknown methods and
// tools, non-integer and non-object arguments, oversized messages, a hung upstream. Each gets a
// clear error (and a receipt whenever it reached the PEP); the gateway keeps serving.
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { EmptyResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { RPC_DENIED } from '../../../sidecar/mcp/refusal.js';
import { chainOf, everything, mutable, nodeBody, startRig, type Rig } from './support.js';

const LIMIT = 64 * 1024;
let rig: Rig;
let client: Client;

beforeAll(async () => {
  rig = await startRig({ upstreams: (_ws, poison) => [everything(), mutable(poison)], gateway: { maxMessageBytes: LIMIT, callTimeoutMs: 800 } });
  client = new Client({ name: 'host', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${rig.url}/mcp`)));
});

afterAll(async () => {
  await client?.close();
  await rig?.close();
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${rig.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body });

async function refused(p: Promise<unknown>): Promise<McpError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  if (!(e instanceof McpError)) throw new Error(`expected an MCP error, got ${String(e)}`);
  return e;
}

async function stillServing() {
  const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'still here' } });
  expect(r.content).toEqual([{ type: 'text', text: 'Echo: still here' }]);
}

describe('Streamable HTTP', () => {
  it.each([
    ['not JSON', '{"jsonrpc": "2.0", "id": 1, "method": '],
    ['a JSON string', '"tools/list"'],
    ['an object that is not JSON-RPC', '{"hello": "world"}'],
    ['a method that is a number', '{"jsonrpc": "2.0", "id": 1, "method": 42}'],
    ['an empty batch', '[]'],
  ])('answers %s with a 4xx JSON-RPC error', async (_what, body) => {
    const r = await post('/mcp', body);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    const j = (await r.json()) as { error?: { code: number; message: string } };
    expect(typeof j.error?.code).toBe('number');
    expect(j.error!.message.length).toBeGreaterThan(0);
  });

  it('refuses a body over the message limit with 413 before parsing it', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'x'.repeat(LIMIT) } } });
    const r = await post('/mcp', big);
    expect(r.status).toBe(413);
    await stillServing();
  });

  it('answers an unknown method with method-not-found', async () => {
    const e = await refused(client.request({ method: 'tools/destroy', params: {} }, EmptyResultSchema));
    expect(e.code).toBe(-32601);
  });

  it('denies unknown tools, unicode look-alikes, floats and non-object arguments with receipts', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['nope__missing', {}, 'TOOL_NOT_DECLARED'],
      ['everything__echo\u200b', { message: 'x' }, 'TOOL_NOT_DECLARED'],
      ['everything__get-sum', { a: 0.1 + 0.2, b: 2 }, 'DECIMAL_PRECISION_EXCEEDED'],
      ['everything__get-sum', { a: 1, b: 2, c: 3 }, 'ERR_TOOL_ARGS_UNKNOWN_FIELD'],
      ['everything__get-sum', { a: 'one', b: 2 }, 'ERR_TOOL_ARGS_TYPE_MISMATCH'],
    ];
    for (const [name, args, code] of cases) {
      const e = await refused(client.callTool({ name, arguments: args as Record<string, unknown> }));
      expect(e.code).toBe(RPC_DENIED);
      expect(e.data).toMatchObject({ verdict: 'DENY', reasonCode: code });
      await chainOf(rig.h, (e.data as { callId: string }).callId);
    }
    // Arguments that are not an object never reach the PEP: the SDK rejects the request shape.
    const r = await post('/mcp', JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'everything__echo', arguments: ['x'] } }));
    expect(await r.text()).toMatch(/"code":-326\d\d/);
    await stillServing();
  });

  it('denies a call whose upstream hangs past the timeout, with an unconfirmed failed effect', async () => {
    for (const [name, args] of [
      ['mutable__slow', {}],
      ['everything__trigger-long-running-operation', { duration: 30, steps: 1 }],
    ] as const) {
      const t0 = Date.now();
      const e = await refused(client.callTool({ name, arguments: args }));
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(e.code).toBe(RPC_DENIED);
      expect(e.data).toMatchObject({ verdict: 'DENY', reasonCode: 'ERR_COMPUTE_TIME_EXHAUSTED', failure: 'timeout' });
      const chain = await chainOf(rig.h, (e.data as { callId: string }).callId);
      expect(nodeBody(chain.decision)).toMatchObject({ verdict: 'ALLOW' });
      expect(nodeBody(chain.effect!)).toMatchObject({ status: 'failed', confirmed: false });
      expect(String(nodeBody(chain.effect!).error)).toMatch(/^ERR_COMPUTE_TIME_EXHAUSTED: /);
      expect(chain.result).toBeUndefined();
    }
    await stillServing();
  });
});

describe('legacy SSE', () => {
  it('rejects posts without a session, with the wrong content type, oversized or malformed', async () => {
    expect((await post('/messages?sessionId=nope', '{}')).status).toBe(404);
    const stream = await fetch(`${rig.url}/sse`, { headers: { accept: 'text/event-stream' } });
    const reader = stream.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const endpoint = /data: (\S+)/.exec(first)![1]!;
    expect((await post(endpoint, '{}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(endpoint, 'x'.repeat(LIMIT + 1))).status).toBe(413);
    const bad = await post(endpoint, '{"jsonrpc": ');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const shape = await post(endpoint, '{"not": "json-rpc"}');
    expect(shape.status).toBe(400);
    expect(((await shape.json()) as { error: { code: number } }).error.code).toBe(-32600);
    await reader.cancel();
    await stillServing();
  });
});

describe('stdio', () => {
  it('drops malformed lines, closes on an oversized message, and does not crash', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const lines: string[] = [];
    output.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const served = rig.gateway.serveStdio(input, output);
    input.write('this is not json\n');
    input.write('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}\n');
    for (let i = 0; i < 50 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(JSON.parse(lines[0]!)).toMatchObject({ id: 1, result: { serverInfo: { name: 'helm-mcp-gateway' } } });
    input.write(`${'y'.repeat(LIMIT + 10)}\n`);
    await served;
    await stillServing();
  });
});
