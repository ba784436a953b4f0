// What the model proposes is judged as strict JSON, and what the agent receives is the canonical
// form (JCS) of exactly what was judged, never the model's raw text: duplicate keys, lone
// surrogates, numbers outside I-JSON and over-deep arguments are refused with their own code and
// a receipt; a provider reusing a tool-call id is told so (TOOL_CALL_ID_REUSED).
import type OpenAI from 'openai';
import { call, openLab, raw, readGraph, receipt, TOOLS, type Lab } from './support.js';

const user = [{ role: 'user', content: 'hi' }] as OpenAI.ChatCompletionMessageParam[];

interface HelmDecision {
  toolCallId: string;
  verdict: string;
  reasonCode: string;
  detail: string;
  receiptId: string;
}
const helmOf = (c: unknown) => (c as { helm: { decisions: HelmDecision[] } }).helm;

let lab: Lab;
beforeEach(async () => {
  lab = await openLab();
});
afterEach(async () => {
  await lab.close();
});

/** The same answer, whole and streamed, through the real openai SDK. */
async function both(toolCalls: Array<{ id: string; name: string; arguments: string }>) {
  const out: Array<{ message: OpenAI.ChatCompletionMessage; helm: { decisions: HelmDecision[] } }> = [];
  for (const stream of [false, true]) {
    const calls = toolCalls.map((c) => ({ ...c, id: `${c.id}${stream ? '_s' : ''}` }));
    lab.script(() => ({ toolCalls: calls }));
    if (!stream) {
      const c = await lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS });
      out.push({ message: c.choices[0]!.message, helm: helmOf(c) });
    } else {
      const s = lab.client.chat.completions.stream({ model: 'm', messages: user, tools: TOOLS });
      const c = await s.finalChatCompletion();
      out.push({ message: c.choices[0]!.message, helm: helmOf(c) });
    }
  }
  return out;
}

describe('arguments the model proposes are strict JSON', () => {
  it.each([
    ['duplicate keys (the executor would run the first)', '{"query":"DROP TABLE users","query":"SELECT 1"}', 'INPUT_DUPLICATE_KEY', /"query" appears more than once/],
    ['duplicate keys the bundle would allow (last wins in the Guardian)', '{"email":"DROP TABLE users","email":"a@example.com"}', 'INPUT_DUPLICATE_KEY', /"email" appears more than once/],
    ['a nested duplicate key', '{"email":"a@example.com","x":{"k":1,"k":2}}', 'INPUT_DUPLICATE_KEY', /at \/x\/k/],
    ['an escaped lone surrogate', '{"email":"a\\ud800@example.com"}', 'INPUT_INVALID_UNICODE', /lone surrogate/],
    ['an integer beyond 2^53', '{"customerId":"cus_12345678","n":9007199254740993}', 'INPUT_NUMBER_RANGE', /I-JSON/],
    ['a number that overflows', '{"customerId":"cus_12345678","n":1e999}', 'INPUT_NUMBER_RANGE', /overflows/],
    ['nesting 100,000 deep', `{"customerId":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 'INPUT_TOO_LARGE', /limit/],
    ['nesting 65 deep', `{"customerId":${'['.repeat(64)}${']'.repeat(64)}}`, 'INPUT_TOO_DEEP', /deeper than 64/],
  ])('%s: refused with a receipt, whole and streamed', async (_name, args, code, detail) => {
    for (const r of await both([call('call_x', 'crm.lookup_customer', args), call('call_ok', 'crm.lookup_customer', { customerId: 'cus_12345678' })])) {
      expect(r.message.tool_calls?.map((t) => t.id.replace(/_s$/, ''))).toEqual(['call_ok']);
      expect(r.helm.decisions.map((d) => [d.verdict, d.reasonCode])).toEqual([
        ['DENY', code],
        ['ALLOW', 'ALLOWED'],
      ]);
      expect(r.helm.decisions[0]!.detail).toMatch(detail);
      expect(r.message.content).toMatch(new RegExp(`refused by the proxy: DENY ${code}`));
      expect(r.message.content).not.toContain('DROP TABLE');
      const g = await readGraph(lab.h);
      expect(receipt(g, r.helm.decisions[0]!.receiptId).decision).toMatchObject({ verdict: 'DENY', reasonCode: code });
    }
  });

  it('an allowed call is delivered as the JCS of the parsed arguments, never the raw text', async () => {
    const rawArgs = '{ "email" : "a\\u0040example.com",\n  "customerId":"cus_1234567\\u0038" }';
    for (const r of await both([call('call_c', 'crm.lookup_customer', rawArgs)])) {
      expect(r.helm.decisions.map((d) => d.verdict)).toEqual(['ALLOW']);
      const tc = r.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
      expect(tc.function.arguments).toBe('{"customerId":"cus_12345678","email":"a@example.com"}');
    }
  });

  it('the raw SSE of an allowed call carries only the canonical arguments', async () => {
    lab.script(() => ({ toolCalls: [call('call_r', 'crm.lookup_customer', '{"customerId" :  "cus_12345678"}')] }));
    const r = await raw(lab.url, { model: 'm', messages: user, tools: TOOLS, stream: true });
    expect(r.text).not.toContain('"customerId\\" :');
    expect(r.text).toContain(JSON.stringify('{"customerId":"cus_12345678"}'));
  });
});

describe('tool-call ids', () => {
  it('an id the provider reuses in a later answer is refused TOOL_CALL_ID_REUSED, saying so', async () => {
    lab.script(() => ({ toolCalls: [call('call_same', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    const first = await lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS });
    expect(helmOf(first).decisions.map((d) => d.reasonCode)).toEqual(['ALLOWED']);
    const again = await lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS });
    const d = helmOf(again).decisions[0]!;
    expect([d.verdict, d.reasonCode]).toEqual(['DENY', 'TOOL_CALL_ID_REUSED']);
    expect(again.choices[0]!.message.content).toMatch(/tool call id reused/);
    expect(again.choices[0]!.message.content).not.toMatch(/blocked by policy/);
    const g = await readGraph(lab.h);
    expect(g.decisionsOf('call_same').map((n) => g.body(n).reasonCode)).toEqual(['ALLOWED', 'TOOL_CALL_ID_REUSED']);
  });
});

describe('request bodies are strict JSON within limits', () => {
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  const body = (inner: string) => `{"model":"m","messages":[{"role":"user","content":"hi","name":${inner}}]}`;

  it.each([
    ['a message field nested 5,000 deep', body(deep(5000)), 'INPUT_TOO_DEEP'],
    ['a message field nested 100,000 deep', body(deep(100_000)), 'INPUT_TOO_DEEP'],
    ['tools[].parameters nested 5,000 deep', `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"crm.lookup_customer","parameters":${'{"properties":{"a":'.repeat(5000)}{}${'}}'.repeat(5000)}}}]}`, 'INPUT_TOO_DEEP'],
    ['a duplicate key in the body', '{"model":"m","messages":[{"role":"user","content":"hi"}],"messages":[]}', 'INPUT_DUPLICATE_KEY'],
    ['a lone surrogate in the body', '{"model":"m","messages":[{"role":"user","content":"\\udead"}]}', 'INPUT_INVALID_UNICODE'],
    ['an integer beyond 2^53 in the body', '{"model":"m","seed":18446744073709551616,"messages":[{"role":"user","content":"hi"}]}', 'INPUT_NUMBER_RANGE'],
  ])('%s -> 400 invalid_json with a receipted DENY of its own code, never a 500', async (_name, text, code) => {
    const r = await raw(lab.url, text);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error.code).toBe('invalid_json');
    expect(r.headers.get('x-helm-reason-code')).toBe(code);
    const g = await readGraph(lab.h);
    expect(receipt(g, r.headers.get('x-helm-receipt-id')).decision).toMatchObject({ verdict: 'DENY', reasonCode: code });
    expect(lab.model.requests.filter((q) => q.path.endsWith('/chat/completions'))).toHaveLength(0);
  });
});

describe('a hostile provider', () => {
  const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  it('a completion nested 100,000 deep is a receipted 502 upstream_malformed, never a 500', async () => {
    lab.script(() => ({ fault: { body: `{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","extra":${nested(100_000)}},"finish_reason":"stop"}]}` } }));
    const r = await raw(lab.url, { model: 'm', messages: user });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.text).error.code).toBe('upstream_malformed');
    const g = await readGraph(lab.h);
    expect(receipt(g, r.headers.get('x-helm-receipt-id')).decision).toMatchObject({ verdict: 'DENY' });
  });

  it('a stream chunk nested 100,000 deep ends the stream with a receipted error, never a 500', async () => {
    const chunk = `{"id":"x","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi","extra":${nested(100_000)}},"finish_reason":null}]}`;
    lab.script(() => ({ fault: { body: `data: ${chunk}\n\ndata: [DONE]\n\n` } }));
    const r = await raw(lab.url, { model: 'm', messages: user, stream: true });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.text).error.code).toBe('upstream_malformed');
    const g = await readGraph(lab.h);
    expect(receipt(g, r.headers.get('x-helm-receipt-id')).decision).toMatchObject({ verdict: 'DENY' });
  });
});
