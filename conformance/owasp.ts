// Runs the OWASP threat vectors (protocols/conformance/v1/owasp/vectors.json) through the live
// sidecar's surfaces and compares each observed verdict and reason code with the expected one.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { escalateAndApprove } from './checks-surface.js';
import { connectEra, mcpCall } from './checks-mcp-eras.js';
import { chatDecision, restVerdict, type Failures } from './expect.js';
import { newId, type Target } from './target.js';

export interface Vector {
  id: string;
  title: string;
  catalog: string;
  reference: string;
  surface: 'openai' | 'mcp' | 'rest' | 'approvals';
  input: { tool: string; arguments?: Record<string, unknown>; argumentsText?: string; prompt?: string; repeat?: number; poisonDescription?: boolean };
  expect: { verdict: string; reasonCode: string; executed: boolean; withheld?: string };
}

export interface VectorResult {
  id: string;
  reference: string;
  surface: Vector['surface'];
  tool: string;
  expected: { verdict: string; reasonCode: string; executed: boolean };
  observed: { verdict: string; reasonCode: string; executed: boolean };
  status: 'pass' | 'fail';
  detail: string[];
}

/** <repo>/protocols/conformance/v1/owasp, from conformance/ (sources) or dist/conformance/ (built). */
export const VECTORS_DIR = ['..', '../..'].map((up) => resolve(dirname(fileURLToPath(import.meta.url)), up, 'protocols/conformance/v1/owasp')).find((d) => existsSync(d)) ?? resolve('protocols/conformance/v1/owasp');

export async function loadVectors(file = resolve(VECTORS_DIR, 'vectors.json')): Promise<Vector[]> {
  const schema = JSON.parse(await readFile(resolve(dirname(file), 'vectors.schema.json'), 'utf8')) as object;
  const doc = JSON.parse(await readFile(file, 'utf8')) as { vectors: Vector[] };
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
  if (!validate(doc)) throw Object.assign(new Error(`${file} does not match vectors.schema.json: ${JSON.stringify(validate.errors?.slice(0, 3))}`), { code: 'ERR_CONFORMANCE_VECTORS' });
  return doc.vectors;
}

const upstreamName = (tool: string) => tool.replace(/^conf__/, '');

interface Outcome {
  verdict: string;
  reasonCode: string;
  executed: boolean;
  text: string;
}

async function once(t: Target, v: Vector): Promise<Outcome> {
  const args = v.input.argumentsText ?? JSON.stringify(v.input.arguments ?? {});
  if (v.surface === 'openai') {
    const c = await t.chat({ content: v.input.prompt ?? '', toolCalls: [{ id: newId('call'), name: v.input.tool, arguments: args }] });
    const d = chatDecision(c, v.input.tool);
    return { verdict: d?.verdict ?? `(HTTP ${c.status})`, reasonCode: d?.reasonCode ?? '', executed: c.delivered.some((x) => x.name === v.input.tool), text: JSON.stringify(c) };
  }
  if (v.surface === 'rest') {
    const raw = v.input.argumentsText !== undefined ? `{"tool":${JSON.stringify(v.input.tool)},"callId":"${newId('call')}","arguments":${v.input.argumentsText}}` : undefined;
    const a = await t.execute(v.input.tool, v.input.arguments ?? {}, raw ? { raw } : {});
    return { ...restVerdict(a), executed: false, text: JSON.stringify(a.body) };
  }
  const c = await connectEra(t, '2025');
  try {
    const r = await mcpCall(t, c, v.input.tool, v.input.arguments ?? {});
    return { verdict: r.verdict, reasonCode: r.reasonCode, executed: false, text: '' };
  } finally {
    await c.close().catch(() => undefined);
  }
}

async function poisoned<T>(t: Target, on: boolean, body: () => Promise<T>): Promise<T> {
  if (!on) return body();
  await writeFile(t.kit.paths.upstreamState, JSON.stringify({ poisoned: true }));
  try {
    return await body();
  } finally {
    await writeFile(t.kit.paths.upstreamState, JSON.stringify({ poisoned: false }));
  }
}

async function approvalReplay(t: Target, v: Vector, detail: Failures): Promise<Outcome> {
  const done = await escalateAndApprove(t, detail);
  if (!done) return { verdict: '(no escalation)', reasonCode: '', executed: false, text: '' };
  const retry = await t.execute(v.input.tool, done.args);
  if (restVerdict(retry).reasonCode !== 'APPROVAL_GRANTED') detail.push(`the first retry was not APPROVAL_GRANTED: ${JSON.stringify(restVerdict(retry))}`);
  const again = await t.admin('/v1/approvals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(done.approval) });
  const after = await t.execute(v.input.tool, done.args);
  const executed = restVerdict(after).verdict === 'ALLOW';
  return { verdict: again.body.accepted === false ? 'REFUSED' : `(HTTP ${again.status})`, reasonCode: String(again.body.code ?? ''), executed, text: JSON.stringify(after.body) };
}

export async function runVector(t: Target, v: Vector): Promise<VectorResult> {
  const detail: Failures = [];
  let o: Outcome;
  try {
    if (v.surface === 'approvals') o = await approvalReplay(t, v, detail);
    else {
      const n = v.input.repeat ?? 1;
      for (let i = 1; i < n; i++) await once(t, v);
      const before = (await t.executions()).filter((e) => e.tool === upstreamName(v.input.tool)).length;
      o = await poisoned(t, v.input.poisonDescription === true, async () => {
        if (v.input.poisonDescription) {
          const c = await connectEra(t, '2025');
          const names = (await c.listTools()).tools.map((x) => x.name);
          await c.close().catch(() => undefined);
          if (names.includes(v.input.tool)) detail.push(`tools/list still shows ${v.input.tool} with a poisoned description`);
        }
        return once(t, v);
      });
      if (v.surface !== 'openai') o.executed = (await t.executions()).filter((e) => e.tool === upstreamName(v.input.tool)).length > before;
    }
  } catch (e) {
    o = { verdict: '(error)', reasonCode: (e as Error).message, executed: false, text: '' };
  }
  if (o.verdict !== v.expect.verdict || o.reasonCode !== v.expect.reasonCode) detail.push(`expected ${v.expect.verdict} ${v.expect.reasonCode}, observed ${o.verdict} ${o.reasonCode}`);
  if (o.executed !== v.expect.executed) detail.push(`expected the call ${v.expect.executed ? 'to' : 'not to'} reach the tool, it ${o.executed ? 'did' : 'did not'}`);
  if (v.expect.withheld && o.text.includes(v.expect.withheld)) detail.push('the output that must be withheld reached the client');
  return {
    id: v.id,
    reference: v.reference,
    surface: v.surface,
    tool: v.input.tool,
    expected: { verdict: v.expect.verdict, reasonCode: v.expect.reasonCode, executed: v.expect.executed },
    observed: { verdict: o.verdict, reasonCode: o.reasonCode, executed: o.executed },
    status: detail.length === 0 ? 'pass' : 'fail',
    detail,
  };
}
