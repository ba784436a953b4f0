// Checks that drive the sidecar's surfaces (OpenAI proxy, MCP REST and JSON-RPC, admin API) with
// the conformance bundle's tools and compare what it answers, and what the upstream executed,
// with what the requirement demands.
import { jcsString } from '../kernel/crypto/jcs.js';
import { signApproval } from '../kernel/pep/index.js';
import { loadSigningKey } from '../cli/key-files.js';
import { BUDGET_ID, BUDGET_MAX_CALLS, ESCALATE_ABOVE_CENTS } from './bundle.js';
import { chatDecision, executedTimes, expectChat, expectRest, type Failures } from './expect.js';
import { checkBundleComposition } from './checks-bundle-composition.js';
import { checkBundleTrust } from './checks-bundle-trust.js';
import { checkMcpEras } from './checks-mcp-eras.js';
import { newId, type Target } from './target.js';

export type SurfaceCheck = (t: Target) => Promise<Failures>;

const call = (name: string, args: unknown, id = newId('call')) => ({ id, name, arguments: typeof args === 'string' ? args : JSON.stringify(args) });

async function allow(t: Target): Promise<Failures> {
  const f: Failures = [];
  await executedTimes(f, t, 'echo', 1, 'REST conf__echo', async () => {
    // Fresh text: an identical earlier call may have an open ALLOW this one would continue.
    const a = await t.execute('conf__echo', { text: newId('hello') });
    expectRest(f, 'REST conf__echo', a, { status: 200, verdict: 'ALLOW', reasonCode: 'ALLOWED' });
    const r = (a.body.receipts ?? {}) as Record<string, unknown>;
    for (const k of ['intent', 'decision', 'effect', 'result']) if (typeof r[k] !== 'string') f.push(`REST conf__echo: the answer names no ${k} receipt`);
  });
  const c = await t.chat({ toolCalls: [call('conf__echo', { text: 'hello' })] });
  expectChat(f, 'OpenAI conf__echo', c, 'conf__echo', { verdict: 'ALLOW', reasonCode: 'ALLOWED' });
  return f;
}

async function unknownTool(t: Target): Promise<Failures> {
  const f: Failures = [];
  const c = await t.chat({ toolCalls: [call('conf__not_declared', { text: 'x' }), call('conf__echo', { text: 'beside it' })] });
  expectChat(f, 'OpenAI undeclared tool', c, 'conf__not_declared', { verdict: 'DENY', reasonCode: 'TOOL_NOT_DECLARED' });
  expectChat(f, 'OpenAI declared tool beside it', c, 'conf__echo', { verdict: 'ALLOW' });
  await executedTimes(f, t, 'not_declared', 0, 'REST undeclared tool', async () => {
    const a = await t.execute('conf__not_declared', { text: 'x' });
    if (a.status === 200) f.push(`REST undeclared tool: answered 200 ${String(a.body.verdict)}`);
  });
  return f;
}

async function unknownField(t: Target): Promise<Failures> {
  const f: Failures = [];
  await executedTimes(f, t, 'echo', 0, 'REST extra field', async () => {
    expectRest(f, 'REST extra field', await t.execute('conf__echo', { text: 'hi', exfiltrate: true }), { status: 403, verdict: 'DENY', reasonCode: 'ERR_TOOL_ARGS_UNKNOWN_FIELD' });
  });
  expectChat(f, 'OpenAI extra field', await t.chat({ toolCalls: [call('conf__echo', { text: 'hi', exfiltrate: true })] }), 'conf__echo', { verdict: 'DENY', reasonCode: 'ERR_TOOL_ARGS_UNKNOWN_FIELD' });
  return f;
}

async function schema(t: Target): Promise<Failures> {
  const f: Failures = [];
  await executedTimes(f, t, 'echo', 0, 'REST schema mismatch', async () => {
    expectRest(f, 'REST wrong type', await t.execute('conf__echo', { text: 42 }), { status: 403, verdict: 'DENY', reasonCode: 'ERR_TOOL_ARGS_TYPE_MISMATCH' });
    expectRest(f, 'REST missing required', await t.execute('conf__echo', {}), { status: 403, verdict: 'DENY', reasonCode: 'ERR_TOOL_ARGS_MISSING_REQUIRED' });
  });
  expectChat(f, 'OpenAI wrong type', await t.chat({ toolCalls: [call('conf__echo', { text: ['not', 'a', 'string'] })] }), 'conf__echo', { verdict: 'DENY', reasonCode: 'ERR_TOOL_ARGS_TYPE_MISMATCH' });
  return f;
}

async function duplicateKey(t: Target): Promise<Failures> {
  const f: Failures = [];
  await executedTimes(f, t, 'echo', 0, 'REST duplicate key', async () => {
    const raw = `{"tool":"conf__echo","callId":"${newId('call')}","arguments":{"text":"harmless","text":"rm -rf /"}}`;
    expectRest(f, 'REST duplicate key', await t.execute('conf__echo', null, { raw }), { status: 403, verdict: 'DENY', reasonCode: 'INPUT_DUPLICATE_KEY' });
  });
  expectChat(f, 'OpenAI duplicate key', await t.chat({ toolCalls: [call('conf__echo', '{"text":"harmless","text":"rm -rf /"}')] }), 'conf__echo', { verdict: 'DENY', reasonCode: 'INPUT_DUPLICATE_KEY' });
  return f;
}

async function jcs(t: Target): Promise<Failures> {
  const f: Failures = [];
  const text = '{ "text" : "\\u0041\\u00e9 caf\\u00e9 \\ud83d\\ude00" }';
  const c = await t.chat({ toolCalls: [call('conf__echo', text)] });
  const got = c.delivered.find((d) => d.name === 'conf__echo');
  const want = jcsString(JSON.parse(text));
  if (!got) f.push(`the allowed call was not delivered (HTTP ${c.status})`);
  else if (got.arguments !== want) f.push(`delivered arguments ${JSON.stringify(got.arguments)} are not the JCS form ${JSON.stringify(want)} of the judged value`);
  return f;
}

/** Remaining calls of the budget from the admin metrics (the whole budget when never used). */
async function budgetRemaining(t: Target): Promise<number> {
  const m = new RegExp(`^helm_budget_remaining\\{[^}]*budget="${BUDGET_ID}"[^}]*unit="calls"[^}]*\\} (\\d+)`, 'm').exec(await t.metrics());
  return m ? Number(m[1]) : BUDGET_MAX_CALLS;
}

async function budget(t: Target): Promise<Failures> {
  const f: Failures = [];
  const remaining = await budgetRemaining(t);
  await executedTimes(f, t, 'metered', remaining, 'budget', async () => {
    for (let i = 0; i < remaining; i++) expectRest(f, `budgeted call ${i + 1} of ${remaining} remaining`, await t.execute('conf__metered', { n: i }), { status: 200, verdict: 'ALLOW' });
    expectRest(f, 'the call beyond the budget', await t.execute('conf__metered', { n: remaining }), { status: 403, verdict: 'DENY', reasonCode: 'BUDGET_EXCEEDED' });
  });
  return f;
}

async function rateLimit(t: Target): Promise<Failures> {
  const f: Failures = [];
  await t.execute('conf__throttled', { n: 1 });
  const second = await t.execute('conf__throttled', { n: 2 });
  expectRest(f, 'the call without a token', second, { status: 403, verdict: 'DENY', reasonCode: 'TEMPORAL_THROTTLE' });
  if (!(Number(second.body.retryAfterMs) > 0)) f.push(`the throttled answer carries no retryAfterMs (got ${JSON.stringify(second.body.retryAfterMs)})`);
  return f;
}

interface ChallengeBody {
  nonce: string;
  decision: `sha256:${string}`;
  policyDigest: `sha256:${string}`;
}

/** Escalates a refund, approves it with the kit's approver key; returns what happened. */
export async function escalateAndApprove(t: Target, f: Failures): Promise<{ challenge: ChallengeBody; approval: unknown; args: { amountCents: number } } | null> {
  const args = { amountCents: ESCALATE_ABOVE_CENTS + 1 + Math.floor(Math.random() * 1_000_000) };
  const esc = await t.execute('conf__refund', args);
  expectRest(f, 'refund above the limit', esc, { status: 202, verdict: 'ESCALATE', reasonCode: 'APPROVAL_REQUIRED' });
  const challenge = esc.body.challenge as ChallengeBody | undefined;
  if (!challenge?.nonce) {
    f.push('the ESCALATE answer carries no challenge');
    return null;
  }
  const pending = await t.admin(`/v1/approvals/${challenge.nonce}`);
  if (pending.status !== 200) f.push(`GET /v1/approvals/${challenge.nonce} answered ${pending.status}`);
  const post = (body: unknown) => t.admin('/v1/approvals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const wrong = await post(signApproval(challenge, await loadSigningKey(t.kit.paths.exporterKey, 'exporter key')));
  if (wrong.status !== 403 || wrong.body.code !== 'ERR_APPROVAL_WRONG_KEY') f.push(`an approval by a key that is not an approver: expected 403 ERR_APPROVAL_WRONG_KEY, got ${wrong.status} ${String(wrong.body.code)}`);
  const approval = signApproval(challenge, await loadSigningKey(t.kit.paths.approverKey, 'approver key'));
  const ok = await post(approval);
  if (ok.status !== 201 || ok.body.accepted !== true) f.push(`the approver's signed approval: expected 201 accepted, got ${ok.status} ${JSON.stringify(ok.body)}`);
  return { challenge, approval, args };
}

async function approval(t: Target): Promise<Failures> {
  const f: Failures = [];
  await executedTimes(f, t, 'refund', 1, 'approval ceremony', async () => {
    const done = await escalateAndApprove(t, f);
    if (!done) return;
    expectRest(f, 'the retried call after approval', await t.execute('conf__refund', done.args), { status: 200, verdict: 'ALLOW', reasonCode: 'APPROVAL_GRANTED' });
    expectRest(f, 'a second retry after the single use', await t.execute('conf__refund', done.args), { status: 202, verdict: 'ESCALATE' });
  });
  return f;
}

async function idempotency(t: Target): Promise<Failures> {
  const f: Failures = [];
  const key = newId('idem');
  await executedTimes(f, t, 'echo', 1, 'idempotency', async () => {
    expectRest(f, 'first call with the key', await t.execute('conf__echo', { text: 'once' }, { idempotencyKey: key }), { status: 200, verdict: 'ALLOW' });
    expectRest(f, 'second call with the key', await t.execute('conf__echo', { text: 'once' }, { idempotencyKey: key }), { status: 403, verdict: 'DENY', reasonCode: 'ERR_IDEMPOTENCY_DUPLICATE' });
  });
  return f;
}

async function outputDrift(t: Target): Promise<Failures> {
  const f: Failures = [];
  const clean = await t.execute('conf__profile', { mode: 'clean' });
  expectRest(f, 'conforming output', clean, { status: 200, verdict: 'ALLOW' });
  const leak = await t.execute('conf__profile', { mode: 'leak' });
  expectRest(f, 'output with an undeclared field', leak, { status: 502, verdict: 'DENY', reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT' });
  if (JSON.stringify(leak.body).includes('078-05-1120')) f.push('the drifted output reached the client');
  return f;
}

async function streaming(t: Target): Promise<Failures> {
  const f: Failures = [];
  const text = '{ "text" : "stream\\u0021" }';
  const c = await t.chat({ toolCalls: [call('conf__echo', text), call('conf__secrets', {})] }, { stream: true });
  expectChat(f, 'streamed allowed call', c, 'conf__echo', { verdict: 'ALLOW' });
  expectChat(f, 'streamed refused call', c, 'conf__secrets', { verdict: 'DENY', reasonCode: 'DOMAIN_SCOPE_VIOLATION' });
  const got = c.delivered.find((d) => d.name === 'conf__echo');
  if (got && got.arguments !== jcsString(JSON.parse(text))) f.push(`streamed arguments ${JSON.stringify(got.arguments)} are not canonical`);
  if (!chatDecision(c, 'conf__secrets')) f.push('the stream summary (helm chunk) does not name the refused call');
  return f;
}

async function sandboxLimits(t: Target): Promise<Failures> {
  const f: Failures = [];
  const csv = 'sku,name,qty\nB-12,bolt,40\nN-07,nut,250\n';
  const ok = await t.execute('conf__csv', { csv });
  expectRest(f, 'sandboxed conf__csv within its limits', ok, { status: 200, verdict: 'ALLOW', reasonCode: 'ALLOWED' });
  for (const [tool, code, input] of [
    ['conf__csv_gas', 'ERR_COMPUTE_GAS_EXHAUSTED', csv],
    ['conf__csv_output', 'ERR_COMPUTE_OUTPUT_EXHAUSTED', csv],
    ['conf__csv_memory', 'ERR_COMPUTE_MEMORY_EXHAUSTED', csv],
    ['conf__spin', 'ERR_COMPUTE_TIME_EXHAUSTED', csv],
  ] as const) {
    const a = await t.execute(tool, { csv: input });
    expectRest(f, `sandboxed ${tool}`, a, { status: 403, verdict: 'DENY', reasonCode: code });
    if (typeof (a.body.receipts as Record<string, unknown> | undefined)?.result !== 'string') f.push(`sandboxed ${tool}: the answer names no RESULT receipt recording the exhausted limit`);
  }
  return f;
}

export const SURFACE_CHECKS: Record<string, SurfaceCheck> = {
  'L1-PEP-ALLOW': allow,
  'L1-PEP-UNKNOWN-TOOL': unknownTool,
  'L1-PEP-UNKNOWN-FIELD': unknownField,
  'L1-PEP-SCHEMA': schema,
  'L1-PEP-DUPLICATE-KEY': duplicateKey,
  'L1-JCS': jcs,
  'L2-BUDGET': budget,
  'L2-RATE-LIMIT': rateLimit,
  'L2-APPROVAL': approval,
  'L2-IDEMPOTENCY': idempotency,
  'L2-OUTPUT-DRIFT': outputDrift,
  'L2-SANDBOX-LIMITS': sandboxLimits,
  'L3-BUNDLE-TRUST': checkBundleTrust,
  'L3-BUNDLE-COMPOSITION': checkBundleComposition,
  'L3-STREAMING': streaming,
  'L3-MCP-ERAS': checkMcpEras,
};
