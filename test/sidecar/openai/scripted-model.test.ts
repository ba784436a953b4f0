// The scripted model speaks OpenAI's wire format: the real SDK reads its whole and streamed
// answers, and a streamed tool call's arguments arrive in several deltas.
import OpenAI from 'openai';
import { startScriptedModel, type ScriptedModel } from '../../../sidecar/scripted-model/server.js';

let model: ScriptedModel;
afterEach(async () => {
  await model.close();
});

const args = JSON.stringify({ customerId: 'cus_12345678', note: 'a longer argument string \u00e9\u{1f600}' });

it('answers whole and streamed completions the SDK understands', async () => {
  model = await startScriptedModel({ script: (_r, turn) => (turn === 0 ? { content: 'Hi there, how can I help?' } : { content: 'Checking.', toolCalls: [{ id: 'call_1', name: 'crm.lookup_customer', arguments: args }, { id: 'call_2', name: 'kb.fetch_article', arguments: '{"url":"https://docs.example.com/a"}' }] }) });
  const client = new OpenAI({ baseURL: model.url, apiKey: 'k', maxRetries: 0 });
  const whole = await client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'hello' }] });
  expect(whole.choices[0]!.message.content).toBe('Hi there, how can I help?');
  expect(whole.choices[0]!.finish_reason).toBe('stop');
  expect(whole.usage!.total_tokens).toBeGreaterThan(0);

  const deltas: Array<{ index: number; arguments?: string }> = [];
  const stream = client.chat.completions.stream({ model: 'scripted-model', messages: [{ role: 'user', content: 'look up' }], stream_options: { include_usage: true } });
  stream.on('chunk', (c) => {
    for (const tc of c.choices[0]?.delta.tool_calls ?? []) deltas.push({ index: tc.index, ...(tc.function?.arguments !== undefined ? { arguments: tc.function.arguments } : {}) });
  });
  const final = await stream.finalChatCompletion();
  const m = final.choices[0]!.message;
  expect(m.content).toBe('Checking.');
  expect(m.tool_calls!.map((c) => [c.id, c.type === 'function' ? c.function.name : '', c.type === 'function' ? c.function.arguments : ''])).toEqual([
    ['call_1', 'crm.lookup_customer', args],
    ['call_2', 'kb.fetch_article', '{"url":"https://docs.example.com/a"}'],
  ]);
  expect(final.choices[0]!.finish_reason).toBe('tool_calls');
  expect(final.usage?.total_tokens).toBeGreaterThan(0);
  expect(deltas.filter((d) => d.index === 0 && d.arguments).length).toBeGreaterThan(3);
  expect(model.requests.map((r) => [r.method, r.path])).toEqual([
    ['POST', '/v1/chat/completions'],
    ['POST', '/v1/chat/completions'],
  ]);
  expect(model.requests[1]!.headers.authorization).toBe('Bearer k');
});

it('lists its model and injects faults on request', async () => {
  model = await startScriptedModel({ script: () => ({ fault: { status: 418 } }), model: 'demo-model' });
  const client = new OpenAI({ baseURL: model.url, apiKey: 'k', maxRetries: 0 });
  expect((await client.models.list()).data.map((m) => m.id)).toEqual(['demo-model']);
  await expect(client.chat.completions.create({ model: 'demo-model', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 418, code: 'scripted_failure' });
});
