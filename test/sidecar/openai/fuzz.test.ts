// Bounded fuzz of the OpenAI surface with hostile bodies (from the agent) and hostile tool calls
// (from the model): no input gives a 5xx, every refusal is a receipted DENY on the log, and every
// tool call that reaches the agent carries canonical (JCS) arguments. Seeded: a failure names a
// case that reproduces. HELM_FUZZ_CASES raises the counts (npm run harden).
import { jcsString } from '../../../kernel/crypto/jcs.js';
import { parseStrictJson } from '../../../kernel/json/index.js';
import { flipped, hostileValue, pick, rng, withInvalidUtf8 } from '../../support/hostile-json.js';
import { openLab, raw, readGraph, sseData, TOOLS, type Lab } from './support.js';

const SCALE = Number(process.env.HELM_FUZZ_CASES ?? '1');
const REQUESTS = 160 * SCALE;
const ANSWERS = 80 * SCALE;
const PROVIDER = 60 * SCALE;

const COMPLETION = (message: string) => `{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,"message":${message},"finish_reason":"tool_calls"}]}`;
const CHUNK = (delta: string) => `data: {"id":"x","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":${delta},"finish_reason":null}]}\n\n`;
/** Whole and streamed answers a hostile provider could send, with a hole for a hostile value. */
const PROVIDER_TEMPLATES: Array<{ stream: boolean; body: string }> = [
  { stream: false, body: COMPLETION('{"role":"assistant","content":@}') },
  { stream: false, body: COMPLETION('{"role":"assistant","content":null,"tool_calls":[{"id":"call_p#","type":"function","function":{"name":"crm.lookup_customer","arguments":"{}"},"extra":@}]}') },
  { stream: false, body: COMPLETION('{"role":"assistant","content":null,"tool_calls":@}') },
  { stream: false, body: COMPLETION('@') },
  { stream: false, body: '@' },
  { stream: true, body: `${CHUNK('{"role":"assistant","content":@}')}data: [DONE]\n\n` },
  { stream: true, body: `${CHUNK('{"tool_calls":[{"index":0,"id":"call_q#","type":"function","function":{"name":"crm.lookup_customer","arguments":@}}]}')}data: [DONE]\n\n` },
  { stream: true, body: `${CHUNK('@')}data: [DONE]\n\n` },
  { stream: true, body: `data: @\n\ndata: [DONE]\n\n` },
];

const TOOLS_TEXT = JSON.stringify(TOOLS);
const TEMPLATES = [
  '{"model":"m","messages":[{"role":"user","content":@}]}',
  '{"model":"m","messages":[{"role":"user","content":"hi","name":@}]}',
  `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"crm.lookup_customer","parameters":@}}]}`,
  '{"model":"m","messages":@}',
  '{"model":@,"messages":[{"role":"user","content":"hi"}]}',
  '{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":@}',
  `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":${TOOLS_TEXT},"tool_choice":@}`,
  '{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"call_x","content":@}]}',
  '{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":@,"content":"x"}]}',
  '{"model":"m","stream":true,"messages":[{"role":"user","content":"hi","name":@}]}',
  `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"crm.lookup_customer","parameters":@}}]}`,
  '@',
];

interface Seen {
  name: string;
  status: number;
  receipts: string[];
  refused: Array<{ receiptId: string | null; reasonCode: string }>;
  delivered: string[];
  /** A 502 for what the upstream did (e.g. over 4 MiB of streamed tool calls), itself receipted. */
  upstream?: string;
}

function summaryOf(text: string, stream: boolean): { helm?: { decisions: Array<Record<string, unknown>>; toolsRemoved: Array<Record<string, unknown>> }; calls: string[] } {
  const calls: string[] = [];
  if (!stream) {
    const b = JSON.parse(text) as { helm?: never; choices?: Array<{ message: { tool_calls?: Array<{ function: { arguments: string } }> } }> };
    for (const c of b.choices ?? []) for (const t of c.message.tool_calls ?? []) calls.push(t.function.arguments);
    return { helm: b.helm, calls };
  }
  let helm;
  for (const d of sseData(text)) {
    if (d === '[DONE]') continue;
    const f = JSON.parse(d) as { helm?: never; choices?: Array<{ delta?: { tool_calls?: Array<{ function?: { arguments?: string } }> } }> };
    if (f.helm) helm = f.helm;
    for (const c of f.choices ?? []) for (const t of c.delta?.tool_calls ?? []) if (t.function?.arguments !== undefined) calls.push(t.function.arguments);
  }
  return { helm, calls };
}

async function check(lab: Lab, seen: Seen[]): Promise<void> {
  const g = await readGraph(lab.h);
  const problems: string[] = [];
  for (const s of seen) {
    if (s.status >= 500 && !(s.status === 502 && s.upstream)) problems.push(`${s.name}: status ${s.status}`);
    for (const r of s.receipts) {
      const d = g.byHash.get(r);
      if (!d || d.kind !== 'decision' || g.body(d).verdict !== 'DENY') problems.push(`${s.name}: receipt ${r} is not a DENY decision on the log`);
    }
    for (const r of s.refused) {
      const d = r.receiptId ? g.byHash.get(r.receiptId) : undefined;
      if (!d || g.body(d).reasonCode !== r.reasonCode) problems.push(`${s.name}: a refusal (${r.reasonCode}) has no receipt on the log`);
    }
    for (const a of s.delivered) {
      const p = parseStrictJson(a);
      if (!p.ok || jcsString(p.value) !== a) problems.push(`${s.name}: delivered arguments are not canonical: ${a.slice(0, 80)}`);
    }
  }
  expect(problems).toEqual([]);
}

function record(name: string, status: number, headers: Headers, text: string, stream: boolean): Seen {
  const s: Seen = { name, status, receipts: [], refused: [], delivered: [] };
  const receiptId = headers.get('x-helm-receipt-id');
  if (status >= 400) {
    if (receiptId === null) s.refused.push({ receiptId: null, reasonCode: `(none; status ${status})` });
    else s.receipts.push(receiptId);
    if (status === 502) {
      const e = (JSON.parse(text) as { error: { code: string; message: string } }).error;
      if (e.code === 'upstream_malformed' || e.code === 'upstream_error') s.upstream = e.message;
    }
    return s;
  }
  const sum = summaryOf(text, stream && (headers.get('content-type') ?? '').startsWith('text/event-stream'));
  for (const d of [...(sum.helm?.decisions ?? []), ...(sum.helm?.toolsRemoved ?? [])]) {
    if (d.verdict !== 'ALLOW') s.refused.push({ receiptId: d.receiptId as string | null, reasonCode: d.reasonCode as string });
  }
  s.delivered = sum.calls;
  return s;
}

let lab: Lab;
beforeAll(async () => {
  // A generous upstream timeout: the fuzz asserts answers, never timings, on a loaded machine.
  lab = await openLab({ timeoutMs: 60_000 });
});
afterAll(async () => {
  await lab.close();
});

describe('fuzz: hostile request bodies', () => {
  it(`${REQUESTS} bodies: no 5xx, every refusal receipted`, async () => {
    const r = rng(0x5eed);
    lab.script(() => ({ content: 'ok' }));
    const seen: Seen[] = [];
    const counts: Record<string, number> = {};
    for (let i = 0; i < REQUESTS; i++) {
      const v = hostileValue(r);
      const tpl = pick(r, TEMPLATES);
      const text = tpl.replace('@', () => v.text);
      const mut = r();
      const body = mut < 0.15 ? withInvalidUtf8(r, text) : mut < 0.25 ? flipped(r, text) : text;
      const kind = `${v.kind}${mut < 0.15 ? '+utf8' : mut < 0.25 ? '+flip' : ''}`;
      counts[kind] = (counts[kind] ?? 0) + 1;
      const res = await raw(lab.url, body);
      seen.push(record(`#${i} ${kind} in ${tpl.slice(0, 60)}`, res.status, res.headers, res.text, tpl.includes('"stream":true')));
    }
    await check(lab, seen);
    const statuses = seen.reduce<Record<number, number>>((m, s) => ({ ...m, [s.status]: (m[s.status] ?? 0) + 1 }), {});
    console.log(`openai request fuzz: ${REQUESTS} bodies, kinds ${JSON.stringify(counts)}, statuses ${JSON.stringify(statuses)}`);
    expect(Object.keys(statuses).every((k) => Number(k) < 500)).toBe(true);
  });
});

describe('fuzz: hostile tool calls from the model', () => {
  it(`${ANSWERS} answers, whole and streamed: no 5xx, every refusal receipted, deliveries canonical`, async () => {
    const r = rng(0xca11);
    const seen: Seen[] = [];
    let allowed = 0;
    for (let i = 0; i < ANSWERS; i++) {
      const calls = Array.from({ length: 1 + Math.floor(r() * 3) }, (_, j) => {
        // Arguments past 64 KiB are refused unread; a megabyte of them only slows the stream down.
        const h = hostileValue(r);
        const v = r() < 0.25 ? { text: pick(r, ['{"customerId":"cus_12345678"}', '{ "customerId" : "cus_1234567\\u0038" }', '{"email":"a@example.com","customerId":"cus_abcdefgh"}']) } : h.text.length > 100_000 ? { text: JSON.stringify('x'.repeat(70_000)) } : h;
        // A small id pool, so ids are reused across answers (and sometimes within one).
        return { id: r() < 0.3 ? `call_${Math.floor(r() * 5)}` : `call_${i}_${j}`, name: pick(r, ['crm.lookup_customer', 'crm.lookup_customer', 'mail.send', 'no.such_tool', '']), arguments: v.text };
      });
      lab.script(() => ({ toolCalls: calls }));
      const stream = r() < 0.5;
      const res = await raw(lab.url, { model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: TOOLS, stream });
      const s = record(`answer #${i} ${stream ? 'streamed' : 'whole'}`, res.status, res.headers, res.text, stream);
      allowed += s.delivered.length;
      seen.push(s);
    }
    await check(lab, seen);
    const upstream = seen.filter((s) => s.upstream).map((s) => `${s.name}: ${s.upstream}`);
    console.log(`openai answer fuzz: ${ANSWERS} answers (502 upstream_malformed: ${JSON.stringify(upstream)}), ${seen.reduce((n, s) => n + s.refused.length, 0)} refusals receipted, ${allowed} calls delivered canonical`);
    expect(allowed).toBeGreaterThan(0);
  });
});

describe('fuzz: a hostile provider', () => {
  it(`${PROVIDER} raw answers, whole and streamed: no 500, every error receipted, deliveries canonical`, async () => {
    const r = rng(0xbad5);
    const seen: Seen[] = [];
    for (let i = 0; i < PROVIDER; i++) {
      const t = pick(r, PROVIDER_TEMPLATES);
      const v = hostileValue(r);
      // An SSE data line cannot hold a raw newline; the hostile text never has one.
      const body = t.body.replace(/#/g, String(i)).replace('@', () => v.text);
      lab.script(() => ({ fault: { body } }));
      const res = await raw(lab.url, { model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: TOOLS, stream: t.stream });
      seen.push(record(`provider #${i} ${v.kind} in ${t.body.slice(0, 80)}`, res.status, res.headers, res.text, t.stream));
    }
    await check(lab, seen);
    const statuses = seen.reduce<Record<number, number>>((m, s) => ({ ...m, [s.status]: (m[s.status] ?? 0) + 1 }), {});
    console.log(`openai provider fuzz: ${PROVIDER} answers, statuses ${JSON.stringify(statuses)}`);
  });
});
