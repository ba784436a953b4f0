// The upstream side and the failure modes: errors, timeouts, malformed JSON and broken streams
// are receipted refusals (never a pass-through); a ProofGraph that cannot record answers 503 with
// no tool call; credential isolation; the /v1/models passthrough; 'error' mode; drain().
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FileHandle } from 'node:fs/promises';
import { APIError, type OpenAI } from 'openai';
import { call, openLab, raw, readGraph, receipt, sseData, TOOLS, type Lab } from './support.js';

const user: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'hi' }];
const LOOKUP = call('call_lookup_1', 'crm.lookup_customer', { customerId: 'cus_12345678' });
const MAIL = call('call_mail_1', 'mail.send', { to: [{ host: 'mail.example-customer.com', user: 'ann' }], subject: 's', body: 'password: x' });
const USABLE = TOOLS.filter((t) => t.function.name !== 'ops.purge_cache');
const REFUND = call('call_refund_1', 'billing.refund', { paymentId: 'pay_1', amountCents: 20000 });

let lab: Lab;
afterEach(async () => {
  await lab?.close();
});

async function apiError(p: Promise<unknown>): Promise<APIError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  if (!(e instanceof APIError)) throw new Error(`expected an APIError, got ${String(e)}`);
  return e;
}

/** The refusal behind an error answer is a signed DENY on the log. */
async function receipted(e: APIError): Promise<Record<string, unknown>> {
  expect(e.headers?.get('x-helm-decision')).toBe('DENY');
  return receipt(await readGraph(lab.h), e.headers?.get('x-helm-receipt-id')).decision;
}

describe('upstream failures are receipted refusals', () => {
  it('a 5xx -> 502 upstream_error', async () => {
    lab = await openLab({ script: () => ({ fault: { status: 500 } }) });
    const e = await apiError(lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS }));
    expect([e.status, e.code]).toEqual([502, 'upstream_error']);
    expect(e.message).toMatch(/upstream answered 500/);
    expect(await receipted(e)).toMatchObject({ verdict: 'DENY', tool: '(request)' });
    expect(lab.observed.upstream).toEqual([expect.objectContaining({ route: '/v1/chat/completions', status: 500, error: expect.stringMatching(/500/) })]);
  });

  it("a 4xx keeps its status and the upstream's message; 429 stays 429", async () => {
    lab = await openLab({ script: (_r, t) => ({ fault: t === 0 ? { status: 400, body: JSON.stringify({ error: { message: 'model not found', code: 'model_not_found' } }) } : { status: 429 } }) });
    const e = await apiError(lab.client.chat.completions.create({ model: 'm', messages: user }));
    expect([e.status, e.code]).toEqual([400, 'upstream_error']);
    expect(e.message).toMatch(/model not found/);
    const r = await apiError(lab.client.chat.completions.create({ model: 'm', messages: user }));
    expect(r.status).toBe(429);
    await receipted(r);
  });

  it('no headers within the timeout -> 504 upstream_timeout', async () => {
    lab = await openLab({ script: () => ({ toolCalls: [LOOKUP], fault: { delayMs: 1500 } }), timeoutMs: 300 });
    const e = await apiError(lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS }));
    expect([e.status, e.code]).toEqual([504, 'upstream_timeout']);
    await receipted(e);
  });

  it('a completion that is not JSON, or not a completion -> 502 upstream_malformed', async () => {
    lab = await openLab({ script: (_r, t) => ({ fault: { body: t === 0 ? '{"choices": [{"message": {"tool_calls": [' : '{"choices": "all of them"}' } }) });
    for (let i = 0; i < 2; i++) {
      const e = await apiError(lab.client.chat.completions.create({ model: 'm', messages: user }));
      expect([e.status, e.code]).toEqual([502, 'upstream_malformed']);
      await receipted(e);
    }
  });

  it('a stream answered as JSON -> 502 upstream_malformed', async () => {
    lab = await openLab({ script: () => ({ fault: { status: 200, body: JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', tool_calls: [{ id: 'x', type: 'function', function: { name: 'crm.lookup_customer', arguments: '{}' } }] } }] }) } }) });
    const r = await raw(lab.url, { model: 'm', messages: user, stream: true });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.text).error.code).toBe('upstream_malformed');
  });

  it('an unreachable upstream -> 502 upstream_error', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    lab = await openLab({ upstreamUrl: `http://127.0.0.1:${port}/v1` });
    const e = await apiError(lab.client.chat.completions.create({ model: 'm', messages: user }));
    expect([e.status, e.code]).toEqual([502, 'upstream_error']);
    expect(e.message).toMatch(/could not be reached/);
    await receipted(e);
  });

  it('a stream that breaks off during a tool call: the held call is refused by id, nothing is delivered', async () => {
    // Events: the call's head and two argument fragments, then the connection drops.
    lab = await openLab({ script: () => ({ toolCalls: [LOOKUP], fault: { truncateAfterEvents: 3 } }) });
    const r = await raw(lab.url, { model: 'm', messages: user, tools: TOOLS, stream: true });
    expect(r.status).toBe(502);
    const body = JSON.parse(r.text) as { error: { code: string; helm: { decisions: Array<{ toolCallId: string; tool: string; receiptId: string; delivered: boolean }> } } };
    expect(body.error.code).toBe('upstream_error');
    expect(body.error.helm.decisions).toEqual([expect.objectContaining({ toolCallId: LOOKUP.id, tool: LOOKUP.name, delivered: false })]);
    expect(receipt(await readGraph(lab.h), body.error.helm.decisions[0]!.receiptId).intent).toMatchObject({ callId: LOOKUP.id, tool: LOOKUP.name });
  });

  it('a stream that breaks off after content: the SDK raises the error event', async () => {
    lab = await openLab({ script: () => ({ content: 'Let me look that up for you', toolCalls: [LOOKUP], fault: { truncateAfterEvents: 7 } }) });
    const stream = await lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS, stream: true });
    const seen: unknown[] = [];
    const e = await apiError(
      (async () => {
        for await (const chunk of stream) seen.push(chunk);
      })(),
    );
    expect(e.code).toBe('upstream_error');
    expect(seen.length).toBeGreaterThan(2);
    expect(JSON.stringify(seen)).not.toContain('tool_calls');
  });
});

describe('a ProofGraph that cannot record', () => {
  function breakStore(l: Lab): Promise<void> {
    // Reaches into the store on purpose: the segment file handle is closed under the writer, so
    // its next append fails and the writer stays failed (as on EIO or a full disk).
    const store = (l.h.writer as unknown as { store: { active: { fh: FileHandle } } }).store;
    return store.active.fh.close();
  }

  it('answers 503 and delivers no tool call, whole or streamed', async () => {
    lab = await openLab({ script: () => ({ toolCalls: [LOOKUP] }) });
    await breakStore(lab);
    for (const stream of [false, true]) {
      // Only tools the principal may use: nothing is removed, so the first receipt needed is the call's.
      const r = await raw(lab.url, { model: 'm', messages: user, tools: USABLE, stream });
      expect(r.status).toBe(503);
      const body = JSON.parse(r.text) as { error: { code: string; helm: { decisions: Array<{ recorded: boolean; reasonCode: string }> } } };
      expect(body.error.code).toBe('receipt_unavailable');
      expect(body.error.helm.decisions).toEqual([expect.objectContaining({ recorded: false, reasonCode: 'RECEIPT_UNAVAILABLE' })]);
      expect(r.text).not.toContain('"tool_calls"');
      expect(r.headers.get('x-helm-reason-code')).toBe('RECEIPT_UNAVAILABLE');
      expect(r.headers.get('x-helm-receipt-id')).toBeNull();
    }
    expect(lab.observed.decisions).toEqual(expect.arrayContaining([expect.objectContaining({ recorded: false, verdict: 'DENY' })]));
  });

  it('mid-stream (after content): an SSE error event, no tool call', async () => {
    lab = await openLab({ script: () => ({ content: 'Checking the CRM now', toolCalls: [LOOKUP] }) });
    await breakStore(lab);
    const r = await raw(lab.url, { model: 'm', messages: user, tools: USABLE, stream: true });
    expect(r.status).toBe(200);
    const frames = sseData(r.text);
    expect(frames.at(-1)).not.toBe('[DONE]');
    expect(JSON.parse(frames.at(-1)!).error.code).toBe('receipt_unavailable');
    expect(r.text).not.toContain('"tool_calls"');
  });

  it('even a refusal that cannot be recorded is a 503', async () => {
    lab = await openLab();
    await breakStore(lab);
    const r = await raw(lab.url, '{not json');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text).error.code).toBe('receipt_unavailable');
  });
});

describe('credentials', () => {
  it('with a sidecar key the upstream sees it, never the agent credential', async () => {
    lab = await openLab({ apiKey: 'sidecar-secret' });
    await raw(lab.url, { model: 'm', messages: user }, { headers: { 'api-key': 'agent-azure-key', 'x-helm-principal': 'agent:root', 'x-custom': 'kept' } });
    await lab.client.models.list();
    for (const r of lab.model.requests) {
      expect(r.headers.authorization).toBe('Bearer sidecar-secret');
      expect(r.headers['api-key']).toBeUndefined();
    }
    const first = lab.model.requests[0]!.headers;
    expect(first['x-helm-principal']).toBeUndefined();
    expect(first['x-custom']).toBe('kept');
    expect(JSON.stringify(lab.model.requests.map((r) => r.headers))).not.toContain('agent-key');
  });

  it("without one the agent's Authorization header is forwarded unchanged", async () => {
    lab = await openLab();
    await lab.client.chat.completions.create({ model: 'm', messages: user });
    expect(lab.model.requests[0]!.headers.authorization).toBe('Bearer agent-key');
  });

  it('the principal comes from the configuration, not from agent headers', async () => {
    lab = await openLab({ script: () => ({ toolCalls: [LOOKUP] }) });
    const r = await raw(lab.url, { model: 'm', messages: user, tools: TOOLS }, { headers: { 'x-helm-principal': 'agent:ops-bot', 'openai-organization': 'agent:ops-bot' } });
    const g = await readGraph(lab.h);
    expect(receipt(g, r.headers.get('x-helm-receipt-id')).intent.principal).toBe('agent:sup-1');
  });
});

describe('passthrough, modes and lifecycle', () => {
  it('/v1/models is passed through', async () => {
    lab = await openLab();
    const list = await lab.client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(['scripted-model']);
    expect((await lab.client.models.retrieve('scripted-model')).id).toBe('scripted-model');
  });

  it("'error' mode answers a denied call with 403 tool_call_denied and an escalated one with approval_required", async () => {
    lab = await openLab({ script: (_r, t) => ({ toolCalls: t === 0 ? [LOOKUP, MAIL] : t === 1 ? [REFUND] : [{ ...LOOKUP, id: 'call_lookup_2' }] }), proxy: { deniedCallMode: 'error' } });
    const denied = await apiError(lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS }));
    expect([denied.status, denied.code]).toEqual([403, 'tool_call_denied']);
    expect(denied.message).toContain('DENY DATA_EGRESS_BLOCKED');
    const esc = await apiError(lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS, stream: true }));
    expect([esc.status, esc.code]).toEqual([403, 'approval_required']);
    expect(esc.headers?.get('x-helm-approval-id')).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const ok = await lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS });
    expect(ok.choices[0]!.message.tool_calls?.map((c) => c.id)).toEqual(['call_lookup_2']);
  });

  it('drain() waits for the requests in flight', async () => {
    lab = await openLab({ script: () => ({ content: 'slow', fault: { delayMs: 400 } }) });
    const t0 = Date.now();
    await lab.proxy.drain();
    expect(Date.now() - t0).toBeLessThan(200);
    const pending = lab.client.chat.completions.create({ model: 'm', messages: user });
    await new Promise((r) => setTimeout(r, 100));
    await lab.proxy.drain();
    // The upstream held the answer for 400 ms: drain() returned only once it had been sent.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
    expect((await pending).choices[0]!.message.content).toBe('slow');
  });

  it('an agent that goes away mid-stream aborts the upstream and leaves the proxy serving', async () => {
    lab = await openLab({ script: (_r, t) => (t === 0 ? { content: 'a long answer', fault: { stallAfterEvents: 2 } } : { content: 'fine' }) });
    const ac = new AbortController();
    const res = await fetch(`${lab.url}/chat/completions`, { method: 'POST', signal: ac.signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: user, stream: true }) });
    await res.body!.getReader().read();
    ac.abort();
    await lab.proxy.drain();
    expect((await lab.client.chat.completions.create({ model: 'm', messages: user })).choices[0]!.message.content).toBe('fine');
  });
});
