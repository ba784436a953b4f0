// Every ALLOW is executed at most once: N identical calls arriving together (through tools/call and
// REST execute, with and without a linked proxy decision) run the upstream exactly as often as
// there are ALLOW decisions with an executed effect, never on a decision another call took.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { PolicyBundleDoc } from '../../../kernel/guardian/index.js';
import { linkedDecisionOf } from '../../../sidecar/governed/mcp-surface.js';
import { META_TOOL_CALL_ID } from '../../../sidecar/mcp/call.js';
import type { McpUpstreamConfig } from '../../../sidecar/mcp/types.js';
import { decodedLog, FIXTURES, nodeBody, startRig, verifyVolume, type Rig } from './support.js';

const COUNTING = join(FIXTURES, 'counting-server.mjs');
const counter = (countFile: string): McpUpstreamConfig => ({ name: 'counter', transport: 'stdio', command: process.execPath, args: [COUNTING], env: { COUNT_FILE: countFile, BUMP_DELAY_MS: '1200' } }) as McpUpstreamConfig;

function withBump(maxCalls: number | null) {
  return (d: PolicyBundleDoc) => {
    (d.tools as Record<string, unknown>)['counter__bump'] = { domain: 'records', sideEffect: 'read', args: { type: 'object', properties: { n: { type: 'integer' } } } };
    if (maxCalls !== null) (d as unknown as { budgets: unknown[] }).budgets = [{ id: 'bump-budget', scope: 'principal', windowSeconds: 3600, maxCalls, match: { tools: ['counter__bump'] } }];
  };
}

interface Answer {
  surface: 'tools/call' | 'rest';
  status: number;
  verdict: string;
  reasonCode: string;
  decision: string | null;
}

async function viaMcp(client: Client, args: Record<string, unknown>, callId?: string): Promise<Answer> {
  try {
    const r = await client.callTool({ name: 'counter__bump', arguments: args, ...(callId ? { _meta: { [META_TOOL_CALL_ID]: callId } } : {}) });
    const receipt = r._meta?.['helm.mindburn.org/receipt'] as { verdict: string; reasonCode: string; decision: string };
    return { surface: 'tools/call', status: 200, verdict: receipt.verdict, reasonCode: receipt.reasonCode, decision: receipt.decision };
  } catch (e) {
    if (!(e instanceof McpError)) throw e;
    const d = e.data as { verdict: string; reasonCode: string; receipts: { decision?: string }; failure?: string };
    // An unavailable refusal is what a second execution of a taken decision used to produce.
    return { surface: 'tools/call', status: e.code === -32062 ? 503 : 403, verdict: d.verdict, reasonCode: d.reasonCode, decision: d.receipts.decision ?? null };
  }
}

async function viaRest(rig: Rig, args: Record<string, unknown>, callId?: string): Promise<Answer> {
  const r = await fetch(`${rig.url}/mcp/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool: 'counter__bump', arguments: args, ...(callId ? { callId } : {}) }) });
  const b = (await r.json()) as { verdict: string; reasonCode: string; receipts: { decision?: string } };
  return { surface: 'rest', status: r.status, verdict: b.verdict, reasonCode: b.reasonCode, decision: b.receipts?.decision ?? null };
}

/** Starts the calls a little apart, so later ones arrive while earlier ones are running upstream. */
async function staggered(calls: Array<() => Promise<Answer>>): Promise<Answer[]> {
  const started: Array<Promise<Answer>> = [];
  for (const c of calls) {
    started.push(c());
    await new Promise((r) => setTimeout(r, 150));
  }
  return Promise.all(started);
}

async function executions(countFile: string): Promise<number> {
  const text = await readFile(countFile, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '').length;
}

/** ALLOW decisions of counter__bump, and how many effects each has (by status). */
async function allowsAndEffects(rig: Rig): Promise<{ allows: number; executed: number; perDecision: number[] }> {
  const nodes = [...(await decodedLog(rig.h.logDir)).values()];
  const allows = nodes.filter((n) => n.kind === 'decision' && nodeBody(n).tool === 'counter__bump' && nodeBody(n).verdict === 'ALLOW');
  const effects = nodes.filter((n) => n.kind === 'effect' && nodeBody(n).tool === 'counter__bump');
  const parentOf = (n: (typeof effects)[number]) => (n.statement.predicate.parents as Array<{ hash: string }>).map((p) => p.hash);
  return {
    allows: allows.length,
    executed: effects.filter((e) => nodeBody(e).status === 'executed').length,
    perDecision: allows.map((a) => effects.filter((e) => parentOf(e).includes(a.entryHash)).length),
  };
}

describe.each<[string, number | null]>([
  ['maxCalls: 1', 1],
  ['no budget', null],
])('N concurrent identical calls (%s)', (_name, maxCalls) => {
  let rig: Rig;
  let client: Client;
  let countFile: string;
  beforeAll(async () => {
    // The production wiring (sidecar/governed/mcp-surface.ts): proxy decisions are found through the PEP.
    rig = await startRig({ upstreams: (ws) => [counter((countFile = join(ws, 'count.txt')))], bundle: withBump(maxCalls), gateway: { linkedDecision: (q) => linkedDecisionOf(rig.h.pep)(q) } });
    client = new Client({ name: 'host', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${rig.url}/mcp`)));
    await writeFile(countFile, '');
  });
  afterAll(async () => {
    await client?.close();
    await rig?.close();
  });

  it('runs the upstream once per ALLOW with an executed effect, never on a decision another call took', async () => {
    const args = { n: 1 };
    const answers = await staggered([...[0, 1, 2].map(() => () => viaMcp(client, args)), ...[0, 1, 2].map(() => () => viaRest(rig, args))]);
    const ran = await executions(countFile);
    const log = await allowsAndEffects(rig);
    expect(answers.filter((a) => a.status === 503)).toEqual([]);
    expect(ran).toBe(log.executed);
    expect(log.allows).toBe(log.executed);
    expect(log.perDecision.every((n) => n === 1)).toBe(true);
    // Distinct decisions for distinct executions: no two allowed answers share one.
    const allowed = answers.filter((a) => a.verdict === 'ALLOW');
    expect(new Set(allowed.map((a) => a.decision)).size).toBe(allowed.length);
    if (maxCalls === 1) {
      expect(ran).toBe(1);
      expect(answers.filter((a) => a.verdict === 'DENY').map((a) => a.reasonCode)).toEqual(Array(5).fill('BUDGET_EXCEEDED'));
    } else {
      expect(ran).toBe(6);
    }
  });

  it('executes a decision the OpenAI proxy made through exactly one of the calls that name it', async () => {
    const before = await executions(countFile);
    rig.h.clock.advance(3600_000); // a fresh budget window
    const args = { n: 2 };
    const proposed = await rig.h.pep.decide({ callId: 'call_dup', surface: 'openai', principal: rig.principal, tool: 'counter__bump', args });
    const answers = await staggered([...[0, 1, 2].map(() => () => viaMcp(client, args, 'call_dup')), ...[0, 1].map(() => () => viaRest(rig, args, 'call_dup'))]);
    const ran = (await executions(countFile)) - before;
    const log = await allowsAndEffects(rig);
    expect(answers.filter((a) => a.status === 503)).toEqual([]);
    expect(log.perDecision.every((n) => n === 1)).toBe(true);
    expect(log.allows).toBe(log.executed);
    expect(proposed.verdict).toBe('ALLOW');
    if (proposed.verdict === 'ALLOW') expect(answers.filter((a) => a.decision === proposed.decision!.entryHash)).toHaveLength(1);
    const allowed = answers.filter((a) => a.verdict === 'ALLOW');
    expect(new Set(allowed.map((a) => a.decision)).size).toBe(allowed.length);
    expect(ran).toBe(allowed.length);
  });

  it('leaves a pack that verifies', async () => {
    const report = await verifyVolume(rig);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
