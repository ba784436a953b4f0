// Work delegated over A2A stays inside the delegation (docs/spec/a2a.md §9): agent A delegates a
// task to agent B with a token scoped to one tool and a calls budget; B's later tool calls for
// that task, through B's own OpenAI proxy and MCP gateway, name the task (the helm-a2a-task header
// with the id B's sidecar handed B), and B's sidecar judges them within the token: a tool outside
// it is denied A2A_TOOL_NOT_DELEGATED, each allowed call spends the budget, and every such
// decision cites the a2a.receive decision that accepted the task.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import type { DecodedNode } from '../../kernel/contracts/node.js';
import { startScriptedModel, type ScriptedModel, type ScriptedTurn } from '../../sidecar/scripted-model/server.js';
import { FIXTURES } from '../sidecar/mcp/support.js';
import { call, ROUTES, sidecarBundle } from '../sidecar/support.js';
import { client, message, startAgent, type TestAgent } from './agents.js';
import { a2aKey, Volume, type Sidecar } from './pods.js';

const A = 'deleg-a-pod';
const B = 'deleg-b-pod';
const TASK_HEADER = 'helm-a2a-task';

let vol: Volume;
let agentB: TestAgent;
let model: ScriptedModel;
let next: ScriptedTurn = { content: 'ok' };
let sa: Sidecar;
let sb: Sidecar;
let task: string;

const body = (n: DecodedNode) => n.statement.predicate.body as Record<string, unknown>;
const decisions = (nodes: DecodedNode[], tool?: string) => nodes.filter((n) => n.kind === 'decision' && (tool === undefined || body(n).tool === tool));
const last = <T>(xs: T[]): T => xs[xs.length - 1]!;
const lookup = { customerId: 'cus_12345678' };

/** B's agent asks its model through B's OpenAI proxy; the model proposes `turn`. */
async function chat(turn: ScriptedTurn, headers: Record<string, string>): Promise<void> {
  next = turn;
  const r = await fetch(`${sb.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer agent-key', ...headers }, body: JSON.stringify({ model: 'scripted-model', messages: [{ role: 'user', content: 'work' }] }) });
  expect(r.status).toBe(200);
  await r.text();
}

/** The decision the OpenAI proxy recorded for tool call `id`. */
async function decisionOf(callId: string): Promise<DecodedNode> {
  return decisions(await vol.nodes(B)).find((n) => body(n).callId === callId)!;
}

beforeAll(async () => {
  vol = await Volume.create([A, B]);
  agentB = await startAgent('agent-b');
  model = await startScriptedModel({ script: () => next });
  const bBundle = sidecarBundle((d) => {
    // The caller's grant lets work it delegates use both tools; the token narrows to one.
    d.a2a = { inbound: { callers: [{ id: 'agent-a', keys: [a2aKey(A).verifier.vkey], skills: ['summarize'], tools: ['crm.lookup_customer', 'tickets.update'] }] } };
  });
  const counter = JSON.stringify([{ name: 'counter', transport: 'stdio', command: process.execPath, args: [join(FIXTURES, 'counting-server.mjs')], env: { COUNT_FILE: vol.path('count.txt'), BUMP_DELAY_MS: '0' } }]);
  sb = await vol.start(B, 'agent:b', bBundle, ['--a2a-agent-url', agentB.url, '--upstream-url', model.url, '--principal-role', 'support', '--mcp-upstreams', counter], { HELM_TOOL_ROUTES: ROUTES });
  const aBundle = sidecarBundle((d) => {
    d.a2a = {
      agents: { 'agent-b': { url: `${sb.url}/a2a/in`, cardKeys: [a2aKey(B).verifier.vkey] } },
      outbound: [{ id: 'a-to-b', principals: { ids: ['agent:a'] }, agents: ['agent-b'], skills: ['summarize'], delegate: { skills: ['summarize'], tools: ['crm.lookup_customer'], maxBudget: 3, maxTtlSeconds: 600 } }],
    };
  });
  sa = await vol.start(A, 'agent:a', aBundle, []);
  const c = await client(`${sa.url}/a2a/out/agent-b/`);
  await c.sendMessage(message('look up the customer', { 'helm.skill': 'summarize', 'helm.delegate': { scope: { skills: ['summarize'], tools: ['crm.lookup_customer'], budget: 3 }, ttlSeconds: 300 } }) as never);
  task = last(agentB.seen)['helm.task'] as string;
}, 60_000);

afterAll(async () => {
  await vol?.cleanup();
  await agentB?.close();
  await model?.close();
});

describe('tool calls made for a delegated task are bound to the delegation', () => {
  test('B’s sidecar hands B the task id: the hash of the a2a.receive decision that accepted it', async () => {
    const got = last(decisions(await vol.nodes(B), 'a2a.receive'));
    expect(body(got)).toMatchObject({ verdict: 'ALLOW' });
    expect(task).toBe(got.entryHash);
  });

  test('through the OpenAI proxy: the delegated tool is allowed and cites the receive decision; another tool is A2A_TOOL_NOT_DELEGATED; the budget runs out', async () => {
    // Budget 3: the a2a.receive spent one.
    await chat({ toolCalls: [call('call_d1', 'crm.lookup_customer', lookup)] }, { [TASK_HEADER]: task });
    const allowed = await decisionOf('call_d1');
    expect(body(allowed)).toMatchObject({ verdict: 'ALLOW' });
    expect(allowed.statement.predicate.parents).toContainEqual({ hash: task });

    await chat({ toolCalls: [call('call_d2', 'tickets.update', { ticketId: 'T-1', status: 'closed' })] }, { [TASK_HEADER]: task });
    const outside = await decisionOf('call_d2');
    expect(body(outside)).toMatchObject({ verdict: 'DENY', reasonCode: 'A2A_TOOL_NOT_DELEGATED' });
    expect(outside.statement.predicate.parents).toContainEqual({ hash: task });

    await chat({ toolCalls: [call('call_d3', 'crm.lookup_customer', lookup)] }, { [TASK_HEADER]: task });
    expect(body(await decisionOf('call_d3'))).toMatchObject({ verdict: 'ALLOW' });
    await chat({ toolCalls: [call('call_d4', 'crm.lookup_customer', lookup)] }, { [TASK_HEADER]: task });
    expect(body(await decisionOf('call_d4'))).toMatchObject({ verdict: 'DENY', reasonCode: 'A2A_DELEGATION_BUDGET_EXHAUSTED' });
  }, 30_000);

  test('the task header only narrows: an unknown task is A2A_TASK_UNKNOWN; without one B acts under its own policy', async () => {
    await chat({ toolCalls: [call('call_u1', 'crm.lookup_customer', lookup)] }, { [TASK_HEADER]: `sha256:${'ab'.repeat(32)}` });
    expect(body(await decisionOf('call_u1'))).toMatchObject({ verdict: 'DENY', reasonCode: 'A2A_TASK_UNKNOWN' });
    await chat({ toolCalls: [call('call_o1', 'crm.lookup_customer', lookup)] }, {});
    const own = await decisionOf('call_o1');
    expect(body(own)).toMatchObject({ verdict: 'ALLOW' });
    expect(own.statement.predicate.parents).toHaveLength(1);
  }, 30_000);

  test('through the MCP gateway: a tool outside the token is A2A_TOOL_NOT_DELEGATED, citing the receive decision', async () => {
    const r = await fetch(`${sb.url}/mcp/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json', [TASK_HEADER]: task }, body: JSON.stringify({ tool: 'counter__bump', arguments: { n: 1 }, callId: 'mcp_d1' }) });
    await r.text();
    const d = await decisionOf('mcp_d1');
    expect(body(d)).toMatchObject({ verdict: 'DENY', reasonCode: 'A2A_TOOL_NOT_DELEGATED' });
    expect(d.statement.predicate.parents).toContainEqual({ hash: task });
  }, 30_000);

  test('one pack of both logs verifies and replays the bound decisions with zero divergence', async () => {
    await vol.stop();
    const pack = vol.path('pack.tar.gz');
    expect(await vol.helmctl(['export', '--store', vol.path('pg'), '--out', pack, '--key', vol.path('exporter.key')])).toMatchObject({ code: 0 });
    const v = await vol.helmctl(['verify', pack, '--trust-policy', vol.path('trust-policy.txt'), '--json']);
    expect(v.code).toBe(0);
    const r = await vol.helmctl(['replay', pack, '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out) as { decisions: { diverged: number; results: Array<{ status: string; callId: string }> } };
    expect(rep.decisions.diverged).toBe(0);
    const bound = rep.decisions.results.filter((x) => /^(call_[du]|mcp_d)/.test(x.callId));
    expect(bound.map((x) => x.status)).toEqual(Array(6).fill('identical'));
  }, 60_000);
});
