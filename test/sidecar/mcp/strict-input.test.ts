// Strict JSON on every MCP surface: a tools/call whose arguments (or message) have duplicate keys,
// lone surrogates, invalid UTF-8, numbers outside I-JSON or deep nesting is refused with a
// receipted DENY and a JSON-RPC error naming the reason code, on Streamable HTTP, stdio and REST;
// the gateway keeps serving and never answers 5xx.
import { PassThrough } from 'node:stream';
import { RPC_DENIED } from '../../../sidecar/mcp/refusal.js';
import { chainOf, everything, nodeBody, startRig, verifyVolume, type Rig } from './support.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ upstreams: () => [everything()] });
});
afterAll(async () => {
  await rig?.close();
});

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const callText = (id: number, args: string) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"everything__echo","arguments":${args}}}`;

const CASES: Array<[string, string | Uint8Array, string]> = [
  ['duplicate keys', '{"message":"DROP TABLE users","message":"SELECT 1"}', 'INPUT_DUPLICATE_KEY'],
  ['a nested duplicate key', '{"message":"x","o":{"k":1,"k":2}}', 'INPUT_DUPLICATE_KEY'],
  ['an escaped lone surrogate', '{"message":"\\ud800"}', 'INPUT_INVALID_UNICODE'],
  ['an integer beyond 2^53', '{"message":"x","n":18446744073709551616}', 'INPUT_NUMBER_RANGE'],
  ['arguments nested 5,000 deep', `{"message":${deep(5000)}}`, 'INPUT_TOO_DEEP'],
  ['arguments nested 100,000 deep', `{"message":${deep(100_000)}}`, 'INPUT_TOO_DEEP'],
  ['arguments nested 70 deep', `{"message":${deep(70)}}`, 'INPUT_TOO_DEEP'],
];

/** The JSON-RPC answer of a raw POST /mcp (JSON or a one-event SSE stream). */
async function rpc(body: string | Uint8Array): Promise<{ status: number; answer: { id: unknown; error?: { code: number; message: string; data?: Record<string, unknown> }; result?: unknown } }> {
  const r = await fetch(`${rig.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body });
  const text = await r.text();
  const json = (r.headers.get('content-type') ?? '').startsWith('text/event-stream') ? /^data: (.*)$/m.exec(text)![1]! : text;
  return { status: r.status, answer: JSON.parse(json) };
}

async function receipted(data: Record<string, unknown> | undefined, code: string): Promise<void> {
  expect(data).toMatchObject({ verdict: 'DENY', reasonCode: code });
  const chain = await chainOf(rig.h, data!.callId as string);
  expect(nodeBody(chain.decision)).toMatchObject({ verdict: 'DENY', reasonCode: code });
  expect(chain.effect).toBeUndefined();
}

describe('Streamable HTTP tools/call', () => {
  it.each(CASES)('%s: a JSON-RPC error naming the code, with a receipt', async (_name, args, code) => {
    const { status, answer } = await rpc(callText(7, args as string));
    expect(status).toBeLessThan(500);
    expect(answer.id).toBe(7);
    expect(answer.error?.code).toBe(RPC_DENIED);
    expect(answer.error?.message).toContain(code);
    await receipted(answer.error?.data, code);
  });

  it('invalid UTF-8 inside the arguments: refused INPUT_INVALID_UNICODE with a receipt', async () => {
    const text = Buffer.from(callText(8, '{"message":"ab"}'));
    const at = text.indexOf('ab');
    const bytes = Buffer.concat([text.subarray(0, at), Buffer.from([0xed, 0xa0, 0x80]), text.subarray(at)]);
    const { answer } = await rpc(new Uint8Array(bytes));
    expect(answer.error?.code).toBe(RPC_DENIED);
    await receipted(answer.error?.data, 'INPUT_INVALID_UNICODE');
  });

  it('a clean call still runs', async () => {
    const { answer } = await rpc(callText(9, '{ "message" : "still \\u0068ere" }'));
    expect(answer.result).toMatchObject({ content: [{ type: 'text', text: 'Echo: still here' }] });
  });
});

describe('legacy SSE tools/call', () => {
  it('duplicate keys are refused with the code and a receipt, answered on the session stream', async () => {
    const stream = await fetch(`${rig.url}/sse`, { headers: { accept: 'text/event-stream' } });
    const reader = stream.body!.getReader();
    let seen = '';
    const next = async (until: (s: string) => boolean) => {
      while (!until(seen)) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
    };
    await next((s) => /data: (\S+)/.test(s));
    const endpoint = /data: (\S+)/.exec(seen)![1]!;
    const post = (body: string) => fetch(new URL(endpoint, rig.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}')).status).toBe(202);
    await post('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    expect((await post(callText(5, '{"message":"DROP TABLE users","message":"SELECT 1"}'))).status).toBe(202);
    await next((s) => s.includes('"id":5'));
    await reader.cancel();
    const line = seen.split('\n').find((l) => l.startsWith('data: ') && l.includes('"id":5'))!;
    const answer = JSON.parse(line.slice(6)) as { error?: { code: number; data?: Record<string, unknown> } };
    expect(answer.error?.code).toBe(RPC_DENIED);
    await receipted(answer.error?.data, 'INPUT_DUPLICATE_KEY');
  });
});

describe('stdio tools/call', () => {
  it('duplicate keys and deep nesting are refused with the code and a receipt', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const answers = new Map<number, { error?: { code: number; message: string; data?: Record<string, unknown> } }>();
    let buf = '';
    output.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const m = JSON.parse(buf.slice(0, nl)) as { id: number; error?: { code: number; message: string; data?: Record<string, unknown> } };
        buf = buf.slice(nl + 1);
        answers.set(m.id, m);
      }
    });
    const served = rig.gateway.serveStdio(input, output);
    input.write('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}\n');
    input.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
    input.write(`${callText(2, '{"message":"DROP TABLE users","message":"SELECT 1"}')}\n`);
    input.write(`${callText(3, `{"message":${deep(5000)}}`)}\n`);
    for (let i = 0; i < 250 && answers.size < 3; i++) await new Promise((r) => setTimeout(r, 20));
    input.end();
    await served;
    for (const [id, code] of [
      [2, 'INPUT_DUPLICATE_KEY'],
      [3, 'INPUT_TOO_DEEP'],
    ] as const) {
      const a = answers.get(id);
      expect(a?.error?.code).toBe(RPC_DENIED);
      await receipted(a?.error?.data, code);
    }
  });
});

describe('REST /mcp/v1/execute', () => {
  const execute = async (text: string) => {
    const r = await fetch(`${rig.url}/mcp/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> & { error?: { code: number } } };
  };

  it.each(CASES)('%s: 403 with the code and a receipt', async (_name, args, code) => {
    const r = await execute(`{"tool":"everything__echo","arguments":${args as string}}`);
    expect(r.status).toBe(403);
    expect(r.body.error?.code).toBe(RPC_DENIED);
    await receipted(r.body, code);
  });

  it('a duplicate key outside the arguments refuses the call too', async () => {
    const r = await execute('{"tool":"everything__echo","arguments":{"message":"x"},"callId":"a","callId":"b"}');
    expect(r.status).toBe(403);
    await receipted(r.body, 'INPUT_DUPLICATE_KEY');
  });

  it('an allowed call runs on the canonical arguments', async () => {
    const r = await execute('{"tool":"everything__get-sum","arguments":{ "b" : 40, "a" : 2 }}');
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.body.result)).toContain('42');
  });
});

describe('evidence', () => {
  it('the pack with every strict refusal above verifies offline (replay reaches the same codes)', async () => {
    const report = await verifyVolume(rig);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
