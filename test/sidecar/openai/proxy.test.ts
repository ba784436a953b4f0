// The governed proxy with the real openai SDK, whole and streamed: allowed calls arrive intact,
// denied and escalated ones never reach the client (checked on the raw bytes too), every decision
// is a signed INTENT <- DECISION pair on the log, and a tool result closes the chain with
// EFFECT <- RESULT.
import type OpenAI from 'openai';
import type { APIError } from 'openai';
import { signApproval } from '../../../kernel/pep/index.js';
import { approvers } from '../../pep/support.js';
import { call, openLab, raw, readGraph, receipt, sseData, TOOLS, type Lab } from './support.js';

const SECRET = 'password: hunter2-marker';
const LOOKUP = call('call_lookup_1', 'crm.lookup_customer', { customerId: 'cus_12345678' });
const MAIL = call('call_mail_1', 'mail.send', { to: [{ host: 'mail.example-customer.com', user: 'ann' }], subject: 'Re: ticket', body: SECRET });
const REFUND = call('call_refund_1', 'billing.refund', { paymentId: 'pay_1', amountCents: 20000 });
const user: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'help the customer' }];

interface HelmView {
  decisions: Array<{ toolCallId: string; tool: string; verdict: string; reasonCode: string; receiptId: string; delivered: boolean; approval?: { nonce: string; decision: string; approval: string } }>;
  toolsRemoved: Array<{ tool: string; verdict: string; reasonCode: string; receiptId: string }>;
}
const helmOf = (v: unknown) => (v as { helm: HelmView }).helm;

let lab: Lab;
afterEach(async () => {
  await lab?.close();
});

describe('whole completions', () => {
  it('delivers the allowed call intact and replaces the denied and escalated ones', async () => {
    lab = await openLab({ script: () => ({ toolCalls: [LOOKUP, MAIL, REFUND] }) });
    const { data, response } = await lab.client.chat.completions.create({ model: 'gpt-test', messages: user, tools: TOOLS }).withResponse();
    const m = data.choices[0]!.message;
    expect(m.tool_calls).toEqual([{ id: LOOKUP.id, type: 'function', function: { name: LOOKUP.name, arguments: LOOKUP.arguments } }]);
    expect(data.choices[0]!.finish_reason).toBe('tool_calls');
    expect(m.content).toContain('DENY DATA_EGRESS_BLOCKED');
    expect(m.content).toContain('ESCALATE APPROVAL_REQUIRED');

    const helm = helmOf(data);
    expect(helm.decisions.map((d) => [d.toolCallId, d.verdict, d.reasonCode, d.delivered])).toEqual([
      [LOOKUP.id, 'ALLOW', 'ALLOWED', true],
      [MAIL.id, 'DENY', 'DATA_EGRESS_BLOCKED', false],
      [REFUND.id, 'ESCALATE', 'APPROVAL_REQUIRED', false],
    ]);
    const esc = helm.decisions[2]!.approval!;
    expect(esc.approval).toBe('manager');
    expect(m.content).toContain(`Approval id ${esc.nonce}`);

    // The strictest verdict in the headers, every call in the list header.
    expect(response.headers.get('x-helm-decision')).toBe('DENY');
    expect(response.headers.get('x-helm-reason-code')).toBe('DATA_EGRESS_BLOCKED');
    expect(response.headers.get('x-helm-receipt-id')).toBe(helm.decisions[1]!.receiptId);
    expect(response.headers.get('x-helm-decisions')).toBe('call_lookup_1=ALLOW:ALLOWED, call_mail_1=DENY:DATA_EGRESS_BLOCKED, call_refund_1=ESCALATE:APPROVAL_REQUIRED');
    expect(response.headers.get('x-helm-tools-removed')).toBe('ops.purge_cache=DENY:DOMAIN_SCOPE_VIOLATION');

    // The model was never offered the tool the principal may not use.
    const sent = lab.model.requests.at(-1)!.body as { tools: Array<{ function: { name: string } }> };
    expect(sent.tools.map((t) => t.function.name)).toEqual(['crm.lookup_customer', 'billing.refund', 'mail.send']);

    // Every decision is receipted: a signed DECISION on the INTENT of the same call.
    const g = await readGraph(lab.h);
    for (const d of helm.decisions) {
      const r = receipt(g, d.receiptId);
      expect(r.intent).toMatchObject({ surface: 'openai', callId: d.toolCallId, tool: d.tool, principal: 'agent:sup-1' });
      expect(r.decision).toMatchObject({ verdict: d.verdict, reasonCode: d.reasonCode });
    }
    expect(receipt(g, helm.toolsRemoved[0]!.receiptId).decision).toMatchObject({ tool: 'ops.purge_cache', verdict: 'DENY', reasonCode: 'DOMAIN_SCOPE_VIOLATION' });
    expect(lab.observed.filtered).toEqual([{ tool: 'ops.purge_cache', reasonCode: 'DOMAIN_SCOPE_VIOLATION' }]);
    expect(lab.observed.decisions).toHaveLength(4);
  });

  it('never puts a denied call on the wire (raw bytes)', async () => {
    lab = await openLab({ script: () => ({ toolCalls: [MAIL, LOOKUP] }) });
    const r = await raw(lab.url, { model: 'gpt-test', messages: user, tools: TOOLS });
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('hunter2');
    expect(r.text).not.toContain('mail.example-customer.com');
    const body = JSON.parse(r.text) as { choices: Array<{ message: { tool_calls: Array<{ id: string }> } }> };
    expect(body.choices[0]!.message.tool_calls.map((c) => c.id)).toEqual([LOOKUP.id]);
  });

  it('turns an answer whose calls are all refused into a plain assistant message', async () => {
    lab = await openLab({ script: () => ({ content: 'Sending it now.', toolCalls: [MAIL] }) });
    const c = await lab.client.chat.completions.create({ model: 'gpt-test', messages: user, tools: TOOLS });
    expect(c.choices[0]!.finish_reason).toBe('stop');
    expect(c.choices[0]!.message.tool_calls).toBeUndefined();
    expect(c.choices[0]!.message.content).toMatch(/^Sending it now\.\n\n\[HELM\] The tool call "mail\.send" \(id "call_mail_1"\) was blocked by policy: DENY DATA_EGRESS_BLOCKED/);
  });

  it('passes a completion without tool calls through untouched, with no decision headers', async () => {
    lab = await openLab({ script: () => ({ content: 'Hello there' }) });
    const { data, response } = await lab.client.chat.completions.create({ model: 'gpt-test', messages: user }).withResponse();
    expect(data.choices[0]!.message.content).toBe('Hello there');
    expect(response.headers.get('x-helm-decision')).toBeNull();
    expect(helmOf(data)).toEqual({ decisions: [], toolsRemoved: [] });
  });
});

describe('streamed completions', () => {
  it('finalChatCompletion() reassembles the governed message', async () => {
    lab = await openLab({ script: () => ({ content: 'Let me check.', toolCalls: [LOOKUP, MAIL, REFUND] }) });
    const stream = lab.client.chat.completions.stream({ model: 'gpt-test', messages: user, tools: TOOLS });
    const final = await stream.finalChatCompletion();
    const m = final.choices[0]!.message;
    expect(m.tool_calls).toEqual([{ id: LOOKUP.id, type: 'function', function: { name: LOOKUP.name, arguments: LOOKUP.arguments } }]);
    expect(m.content).toMatch(/^Let me check\.\n\n\[HELM\] The tool call "mail\.send"/);
    expect(m.content).toContain('ESCALATE APPROVAL_REQUIRED');
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    const helm = helmOf(final);
    expect(helm.decisions.map((d) => [d.toolCallId, d.verdict, d.delivered])).toEqual([
      [LOOKUP.id, 'ALLOW', true],
      [MAIL.id, 'DENY', false],
      [REFUND.id, 'ESCALATE', false],
    ]);
    const g = await readGraph(lab.h);
    for (const d of helm.decisions) expect(receipt(g, d.receiptId).intent).toMatchObject({ surface: 'openai', callId: d.toolCallId });
  });

  it('holds tool-call deltas, releases the allowed one contiguously, and never streams the denied one', async () => {
    lab = await openLab({ script: () => ({ toolCalls: [MAIL, LOOKUP] }) });
    const r = await raw(lab.url, { model: 'gpt-test', messages: user, tools: TOOLS, stream: true });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // A tool-call-only answer is decided before the first byte: the headers carry the verdicts.
    expect(r.headers.get('x-helm-decision')).toBe('DENY');
    expect(r.headers.get('x-helm-decisions')).toBe('call_mail_1=DENY:DATA_EGRESS_BLOCKED, call_lookup_1=ALLOW:ALLOWED');
    expect(r.text).not.toContain('hunter2');
    expect(r.text).not.toContain('mail.example-customer.com');
    const data = sseData(r.text);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as { choices: Array<{ delta?: { tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> } }> });
    const deltas = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta?.tool_calls ?? []));
    // The allowed call arrives as one delta with the canonical arguments (JCS of what was judged,
    // not the model's several fragments), renumbered to 0.
    expect(deltas).toHaveLength(1);
    expect(deltas[0]).toMatchObject({ index: 0, id: LOOKUP.id, function: { name: LOOKUP.name, arguments: LOOKUP.arguments } });
    // Last chunk before [DONE]: the summary.
    expect((chunks.at(-1) as unknown as { choices: unknown[]; helm: HelmView }).helm.decisions).toHaveLength(2);
  });

  it('turns finish_reason tool_calls into stop when every call is refused', async () => {
    lab = await openLab({ script: () => ({ toolCalls: [MAIL] }) });
    const final = await lab.client.chat.completions.stream({ model: 'gpt-test', messages: user, tools: TOOLS }).finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('stop');
    expect(final.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(final.choices[0]!.message.content).toContain('DENY DATA_EGRESS_BLOCKED');
  });

  it('passes content through before the tool calls are complete', async () => {
    // The upstream sends its content, starts a tool call and then goes silent.
    lab = await openLab({ script: () => ({ content: 'Looking that up for you now', toolCalls: [LOOKUP], fault: { stallAfterEvents: 6 } }), timeoutMs: 1500 });
    const t0 = Date.now();
    const res = await fetch(`${lab.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: user, tools: TOOLS, stream: true }) });
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes('for you')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    // Content arrived before the upstream timeout (1.5 s) ended the stream.
    expect(Date.now() - t0).toBeLessThan(1200);
    expect(seen).not.toContain('call_lookup_1');
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    const frames = sseData(seen).map((d) => JSON.parse(d) as { choices?: Array<{ delta?: { tool_calls?: unknown } }> });
    expect(frames.flatMap((f) => (f.choices ?? []).filter((c) => c.delta?.tool_calls !== undefined))).toEqual([]);
    const last = JSON.parse(sseData(seen).at(-1)!) as { error: { code: string; helm: HelmView } };
    expect(last.error.code).toBe('upstream_timeout');
    const refusal = last.error.helm.decisions[0]!;
    expect(refusal).toMatchObject({ toolCallId: LOOKUP.id, verdict: 'DENY', reasonCode: 'ENVELOPE_INVALID', delivered: false });
    expect(receipt(await readGraph(lab.h), refusal.receiptId).intent).toMatchObject({ callId: LOOKUP.id, tool: LOOKUP.name });
  });
});

describe('one causal graph', () => {
  const RESULT = JSON.stringify({ id: 'cus_12345678', name: 'Ann', tier: 'pro' });

  it('links the tool result to the decision: INTENT <- DECISION <- EFFECT <- RESULT, recorded once', async () => {
    lab = await openLab({ script: (_r, turn) => (turn === 0 ? { toolCalls: [LOOKUP] } : { content: 'Ann is a pro customer.' }) });
    const first = await lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS });
    const assistant = first.choices[0]!.message;
    const history: OpenAI.ChatCompletionMessageParam[] = [...user, { role: 'assistant', content: assistant.content, tool_calls: assistant.tool_calls }, { role: 'tool', tool_call_id: LOOKUP.id, content: RESULT }];
    const second = await lab.client.chat.completions.create({ model: 'm', messages: history, tools: TOOLS });
    expect(second.choices[0]!.message.content).toBe('Ann is a pro customer.');

    let g = await readGraph(lab.h);
    const decision = receipt(g, helmOf(first).decisions[0]!.receiptId).node;
    const effects = g.children(decision);
    expect(effects.map((e) => [e.kind, g.body(e).status, g.body(e).confirmed])).toEqual([['effect', 'executed', false]]);
    const results = g.children(effects[0]!);
    expect(results.map((r) => [r.kind, g.body(r).status, g.body(r).callId])).toEqual([['result', 'ok', LOOKUP.id]]);
    const size = g.nodes.length;

    // The next turn repeats the history: accepted, nothing new recorded for it.
    await lab.client.chat.completions.create({ model: 'm', messages: [...history, { role: 'assistant', content: 'Ann is a pro customer.' }, { role: 'user', content: 'thanks' }] });
    g = await readGraph(lab.h);
    expect(g.nodes.length).toBe(size);
  });

  it('refuses a result that drifted from the pinned output schema (receipted, never forwarded)', async () => {
    lab = await openLab({ script: () => ({ toolCalls: [LOOKUP] }) });
    await lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS });
    const before = lab.model.requests.length;
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      ...user,
      { role: 'assistant', content: null, tool_calls: [{ id: LOOKUP.id, type: 'function', function: { name: LOOKUP.name, arguments: LOOKUP.arguments } }] },
      { role: 'tool', tool_call_id: LOOKUP.id, content: JSON.stringify({ id: 'cus_12345678', ssn: '000-00-0000' }) },
    ];
    const err = (await lab.client.chat.completions.create({ model: 'm', messages }).catch((e: unknown) => e)) as APIError;
    expect(err.status).toBe(422);
    expect(err.code).toBe('tool_result_contract_drift');
    expect(err.headers?.get('x-helm-reason-code')).toBe('ERR_CONNECTOR_CONTRACT_DRIFT');
    expect(lab.model.requests.length).toBe(before);
    const g = await readGraph(lab.h);
    const result = g.byHash.get(err.headers!.get('x-helm-receipt-id')!)!;
    expect(result.kind).toBe('result');
    expect(g.body(result)).toMatchObject({ status: 'rejected', reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT', callId: LOOKUP.id });
    // Sending it again is refused again without a second RESULT.
    const again = (await lab.client.chat.completions.create({ model: 'm', messages }).catch((e: unknown) => e)) as APIError;
    expect(again.status).toBe(422);
    expect((await readGraph(lab.h)).nodes.filter((n) => n.kind === 'result')).toHaveLength(1);
  });

  it('answers ESCALATE with the challenge, and delivers the call once approved', async () => {
    lab = await openLab({ script: (_r, turn) => ({ toolCalls: [{ ...REFUND, id: `call_refund_${turn}` }] }) });
    const first = await lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS });
    const d = helmOf(first).decisions[0]!;
    expect(d.verdict).toBe('ESCALATE');
    const ch = d.approval! as unknown as Parameters<typeof signApproval>[0];
    lab.h.clock.advance(61_000);
    for (const who of [approvers.alice, approvers.bob]) expect(await lab.h.pep.approve(signApproval(ch, who))).toMatchObject({ accepted: true });
    lab.h.clock.advance(31_000);
    const second = await lab.client.chat.completions.create({ model: 'm', messages: user, tools: TOOLS });
    expect(helmOf(second).decisions[0]).toMatchObject({ toolCallId: 'call_refund_1', verdict: 'ALLOW', reasonCode: 'APPROVAL_GRANTED', delivered: true });
    expect(second.choices[0]!.message.tool_calls?.[0]?.id).toBe('call_refund_1');
  });
});
