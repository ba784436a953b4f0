// Bounded fuzz of the MCP gateway (Streamable HTTP and REST) with hostile messages: no answer is a
// 5xx, every denied tools/call names its reason code and its DENY decision is on the log, hostile
// arguments are refused with their INPUT_* code, and the gateway keeps serving. Seeded; HELM_FUZZ_CASES raises the counts (npm run harden).
import { flipped, hostileValue, pick, rng, withInvalidUtf8 } from '../../support/hostile-json.js';
import { decodedLog, everything, startRig, type Rig } from './support.js';

const SCALE = Number(process.env.HELM_FUZZ_CASES ?? '1');
const MESSAGES = 120 * SCALE;
const BODIES = 60 * SCALE;

const RPC = [
  '{"jsonrpc":"2.0","id":#,"method":"tools/call","params":{"name":"everything__echo","arguments":@}}',
  '{"jsonrpc":"2.0","id":#,"method":"tools/call","params":{"name":"everything__echo","arguments":{"message":@}}}',
  '{"jsonrpc":"2.0","id":#,"method":"tools/call","params":{"name":@,"arguments":{}}}',
  '{"jsonrpc":"2.0","id":#,"method":"tools/call","params":@}',
  '{"jsonrpc":"2.0","id":@,"method":"tools/call","params":{"name":"everything__echo","arguments":{"message":"x"}}}',
  '{"jsonrpc":"2.0","id":#,"method":"tools/list","params":@}',
  '[{"jsonrpc":"2.0","id":#,"method":"tools/call","params":{"name":"everything__echo","arguments":@}}]',
  '@',
];
const REST = ['{"tool":"everything__echo","arguments":@}', '{"tool":"everything__echo","arguments":{"message":@}}', '{"tool":@,"arguments":{}}', '@'];

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ upstreams: () => [everything()] });
});
afterAll(async () => {
  await rig?.close();
});

interface Answer {
  name: string;
  status: number;
  denied: Array<{ reasonCode: unknown; decision: unknown }>;
  /** The code a strict refusal must carry (hostile arguments of a tools/call, unmutated). */
  expected?: string;
}

const EXPECTED: Record<string, string> = { 'duplicate-key': 'INPUT_DUPLICATE_KEY', 'lone-surrogate': 'INPUT_INVALID_UNICODE', 'number-range': 'INPUT_NUMBER_RANGE', 'deep-array': 'INPUT_TOO_DEEP', 'deep-object': 'INPUT_TOO_DEEP' };

function hostileBody(r: () => number, templates: readonly string[], i: number): { body: string | Uint8Array; name: string; expected?: string } {
  const v = hostileValue(r);
  const tpl = pick(r, templates);
  const text = tpl.replace('#', String(i)).replace('@', () => v.text);
  const m = r();
  const body = m < 0.15 ? withInvalidUtf8(r, text) : m < 0.25 ? flipped(r, text) : text;
  const inArguments = tpl.includes('"arguments":@') || tpl.includes('"arguments":{"message":@}');
  const expected = m >= 0.25 && inArguments ? EXPECTED[v.kind] : undefined;
  return { body, name: `#${i} ${v.kind}${m < 0.15 ? '+utf8' : m < 0.25 ? '+flip' : ''} in ${tpl.slice(0, 70)}`, ...(expected ? { expected } : {}) };
}

function deniedOf(x: unknown): Answer['denied'] {
  const all = Array.isArray(x) ? x : [x];
  return all.flatMap((m) => {
    const data = (m as { error?: { data?: { verdict?: unknown; reasonCode?: unknown; receipts?: { decision?: unknown } } } })?.error?.data;
    return data?.verdict === 'DENY' ? [{ reasonCode: data.reasonCode, decision: data.receipts?.decision }] : [];
  });
}

async function check(answers: Answer[]): Promise<void> {
  const log = await decodedLog(rig.h.logDir);
  const problems: string[] = [];
  for (const a of answers) {
    if (a.status >= 500) problems.push(`${a.name}: status ${a.status}`);
    if (a.expected && !a.denied.some((d) => d.reasonCode === a.expected)) problems.push(`${a.name}: not denied ${a.expected}`);
    for (const d of a.denied) {
      const n = typeof d.decision === 'string' ? log.get(d.decision) : undefined;
      const body = n?.statement.predicate.body as Record<string, unknown> | undefined;
      if (!n || n.kind !== 'decision' || body?.verdict !== 'DENY' || body.reasonCode !== d.reasonCode) problems.push(`${a.name}: denied ${String(d.reasonCode)} without its DENY decision on the log`);
    }
  }
  expect(problems).toEqual([]);
}

it(`${MESSAGES} hostile JSON-RPC messages on Streamable HTTP: no 5xx, every denial receipted`, async () => {
  const r = rng(0x6d6370);
  const answers: Answer[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const { body, name, expected } = hostileBody(r, RPC, i);
    const res = await fetch(`${rig.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse((res.headers.get('content-type') ?? '').startsWith('text/event-stream') ? (/^data: (.*)$/m.exec(text)?.[1] ?? 'null') : text || 'null');
    } catch {
      parsed = null;
    }
    answers.push({ name, status: res.status, denied: deniedOf(parsed), ...(expected ? { expected } : {}) });
  }
  await check(answers);
  const denials = answers.reduce((n, a) => n + a.denied.length, 0);
  const statuses = answers.reduce<Record<number, number>>((m, a) => ({ ...m, [a.status]: (m[a.status] ?? 0) + 1 }), {});
  console.log(`mcp message fuzz: ${MESSAGES} messages (${answers.filter((a) => a.expected).length} with strict refusals asserted), statuses ${JSON.stringify(statuses)}, ${denials} denials receipted`);
  expect(denials).toBeGreaterThan(0);
});

it(`${BODIES} hostile REST execute bodies: no 5xx, every denial receipted`, async () => {
  const r = rng(0x72657374);
  const answers: Answer[] = [];
  for (let i = 0; i < BODIES; i++) {
    const { body, name, expected } = hostileBody(r, REST, i);
    const res = await fetch(`${rig.url}/mcp/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const j = (await res.json()) as { verdict?: unknown; reasonCode?: unknown; receipts?: { decision?: unknown } };
    answers.push({ name, status: res.status, denied: j.verdict === 'DENY' ? [{ reasonCode: j.reasonCode, decision: j.receipts?.decision }] : [], ...(expected ? { expected } : {}) });
  }
  await check(answers);
  const statuses = answers.reduce<Record<number, number>>((m, a) => ({ ...m, [a.status]: (m[a.status] ?? 0) + 1 }), {});
  console.log(`mcp REST fuzz: ${BODIES} bodies (${answers.filter((a) => a.expected).length} with strict refusals asserted), statuses ${JSON.stringify(statuses)}, ${answers.reduce((n, a) => n + a.denied.length, 0)} denials receipted`);
});
