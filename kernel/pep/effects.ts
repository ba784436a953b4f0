// EFFECT and RESULT receipts for allowed calls. An effect is recorded at most once per decision
// (a second one is the duplicate execution idempotency exists to stop), a result at most once per
// effect, and a result's output is checked against the output schema pinned by the bundle that
// allowed the call: a mismatch is recorded as `rejected` ERR_CONNECTOR_CONTRACT_DRIFT.
import { toHex, utf8 } from '../crypto/bytes.js';
import { jcsString } from '../crypto/jcs.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { HashRef } from '../contracts/node.js';
import type { JsonValue } from '../guardian/bundle-types.js';
import { checkOutput } from '../guardian/output.js';
import type { AppendedNode, ProofGraphWriter, StagedNode } from '../proofgraph/graph-writer.js';
import type { BundleShelf } from './bundles.js';
import { resultExtras } from './result-extras.js';
import type { PepState } from './state.js';
import type { EffectOutcome, EffectReport, RecordRefusalCode, ResultOutcome, ResultReport } from './types.js';

interface Ctx {
  readonly state: PepState;
  readonly writer: ProofGraphWriter;
  readonly refusal: () => string | null;
}

const refused = (code: RecordRefusalCode, message: string) => ({ recorded: false as const, code, message });

function effectProblem(e: EffectReport): string | null {
  if (typeof e !== 'object' || e === null) return 'an effect report must be an object';
  if (!['executed', 'failed', 'blocked'].includes(e.status)) return 'status must be executed, failed or blocked';
  if (e.confirmed !== undefined && typeof e.confirmed !== 'boolean') return 'confirmed must be a boolean';
  if (e.durationUs !== undefined && !(Number.isSafeInteger(e.durationUs) && e.durationUs >= 0)) return 'durationUs must be a non-negative integer';
  if (e.error !== undefined && (typeof e.error !== 'string' || e.error.length > 4096)) return 'error must be a string of at most 4096 characters';
  return null;
}

function effectBody(d: { callId: string; tool: string }, e: EffectReport): Record<string, unknown> {
  return {
    callId: d.callId,
    tool: d.tool,
    status: e.status,
    confirmed: e.confirmed ?? false,
    ...(e.durationUs !== undefined ? { durationUs: e.durationUs } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
  };
}

/** Why an effect cannot follow this decision (null: it can). */
function effectRefusal(ctx: Ctx, decision: HashRef, e: EffectReport): EffectOutcome | null {
  const d = ctx.state.decisions.get(decision);
  if (!d) return refused('ERR_PEP_UNKNOWN_DECISION', `no recorded decision ${decision}`);
  const problem = effectProblem(e);
  if (problem) return refused('ERR_PEP_MALFORMED', problem);
  if (d.verdict !== 'ALLOW' && e.status !== 'blocked') return refused('ERR_PEP_NOT_ALLOWED', `decision ${decision} is ${d.verdict}: only a blocked effect can follow it`);
  if (d.effect !== null) return refused('ERR_IDEMPOTENCY_DUPLICATE', `decision ${decision} already has an effect${d.effect === 'pending' ? ' being recorded' : ` (${d.effect})`}: a call is executed at most once`);
  const down = ctx.refusal();
  if (down) return refused('ERR_PEP_UNRECORDED', down);
  return null;
}

export async function recordEffect(ctx: Ctx, decision: HashRef, e: EffectReport): Promise<EffectOutcome> {
  const no = effectRefusal(ctx, decision, e);
  if (no) return no;
  const d = ctx.state.decisions.get(decision)!;
  // An effect is an execution: recording one takes an open ALLOW's claim (pep.md §6.1). A claim is
  // never given back, also when the append fails: the call may have run.
  if (d.verdict === 'ALLOW') d.claimed = true;
  d.effect = 'pending';
  const body = effectBody(d, e);
  let node: AppendedNode;
  try {
    node = await ctx.writer.append('effect', body, { parents: [{ hash: decision }] });
  } catch (err) {
    d.effect = null;
    return refused('ERR_PEP_UNRECORDED', `the effect could not be recorded: ${(err as Error).message}`);
  }
  d.effect = node.entryHash;
  ctx.state.effects.set(node.entryHash, { decision, callId: d.callId, tool: d.tool, policyDigest: d.policyDigest, result: null });
  return { recorded: true, node };
}

type ResultCtx = Ctx & { readonly bundles: BundleShelf; readonly suite: CryptoSuite };

/** The RESULT body: the output's digest and its check against the pinned output schema. */
async function resultBody(ctx: ResultCtx, e: { callId: string; tool: string; policyDigest: HashRef | null }, r: ResultReport, extra: Record<string, unknown>) {
  let text: string | null;
  try {
    text = jcsString(r.output);
  } catch {
    text = null;
  }
  const outputDigest: HashRef = `sha256:${toHex(ctx.suite.sha256(utf8(text ?? '')))}`;
  let drift: string | null = null;
  if (r.status === 'ok') {
    const bundle = await ctx.bundles.get(e.policyDigest);
    if (text === null) drift = 'the output is not JSON';
    else if (!bundle) drift = `the bundle ${e.policyDigest ?? '(none)'} that pins the output schema is not available`;
    else {
      const check = checkOutput(bundle, e.tool, JSON.parse(text) as JsonValue);
      if (!check.ok) drift = check.message;
    }
  }
  const status = drift !== null ? ('rejected' as const) : r.status;
  const body = { callId: e.callId, tool: e.tool, status, outputDigest, ...extra, ...(drift !== null ? { reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT' } : {}) };
  return { body, outputDigest, drift, status };
}

export async function recordResult(ctx: ResultCtx, effect: HashRef, r: ResultReport): Promise<ResultOutcome> {
  const e = ctx.state.effects.get(effect);
  if (!e) return refused('ERR_PEP_UNKNOWN_EFFECT', `no recorded effect ${effect}`);
  if (typeof r !== 'object' || r === null || (r.status !== 'ok' && r.status !== 'error')) return refused('ERR_PEP_MALFORMED', 'status must be ok or error');
  if (e.result !== null) return refused('ERR_IDEMPOTENCY_DUPLICATE', `effect ${effect} already has a result`);
  const extra = resultExtras(r);
  if (typeof extra === 'string') return refused('ERR_PEP_MALFORMED', extra);
  e.result = 'pending';
  const { body, outputDigest, drift, status } = await resultBody(ctx, e, r, extra);
  const down = ctx.refusal();
  if (down) {
    e.result = null;
    return refused('ERR_PEP_UNRECORDED', down);
  }
  let node: AppendedNode;
  try {
    node = await ctx.writer.append('result', body, { parents: [{ hash: effect }] });
  } catch (err) {
    e.result = null;
    return refused('ERR_PEP_UNRECORDED', `the result could not be recorded: ${(err as Error).message}`);
  }
  e.result = node.entryHash;
  return drift !== null ? { recorded: true, node, status, outputDigest, reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT', detail: drift } : { recorded: true, node, status, outputDigest };
}

/**
 * An execution the caller reports whole (it ran the call and has its output): the EFFECT and its
 * RESULT are staged in the same tick, so both become durable in one group commit instead of two
 * rounds one after the other. Same checks and outcomes as recordEffect then recordResult.
 */
export async function recordExecution(ctx: ResultCtx, decision: HashRef, eff: EffectReport, r: ResultReport): Promise<{ effect: EffectOutcome; result: ResultOutcome | null }> {
  const no = effectRefusal(ctx, decision, eff);
  if (no) return { effect: no, result: null };
  if (typeof r !== 'object' || r === null || (r.status !== 'ok' && r.status !== 'error')) return { effect: refused('ERR_PEP_MALFORMED', 'status must be ok or error'), result: null };
  const extra = resultExtras(r);
  if (typeof extra === 'string') return { effect: refused('ERR_PEP_MALFORMED', extra), result: null };
  const d = ctx.state.decisions.get(decision)!;
  // Taken now, before the output check awaits: a second execution of this decision is refused.
  if (d.verdict === 'ALLOW') d.claimed = true;
  d.effect = 'pending';
  const res = await resultBody(ctx, { callId: d.callId, tool: d.tool, policyDigest: d.policyDigest }, r, extra);
  const down = ctx.refusal();
  if (down) {
    d.effect = null;
    return { effect: refused('ERR_PEP_UNRECORDED', down), result: null };
  }
  let effectNode: StagedNode;
  try {
    effectNode = ctx.writer.stage('effect', effectBody(d, eff), { parents: [{ hash: decision }] });
  } catch (err) {
    d.effect = null;
    return { effect: refused('ERR_PEP_UNRECORDED', `the effect could not be recorded: ${(err as Error).message}`), result: null };
  }
  effectNode.durable.catch(() => undefined);
  let resultNode: StagedNode | null = null;
  let resultFault: unknown = null;
  try {
    resultNode = ctx.writer.stage('result', res.body, { parents: [{ hash: effectNode.node.entryHash }] });
    resultNode.durable.catch(() => undefined);
  } catch (err) {
    resultFault = err;
  }
  try {
    await effectNode.durable;
  } catch (err) {
    d.effect = null;
    return { effect: refused('ERR_PEP_UNRECORDED', `the effect could not be recorded: ${(err as Error).message}`), result: null };
  }
  const effectHash = effectNode.node.entryHash;
  d.effect = effectHash;
  const info = { decision, callId: d.callId, tool: d.tool, policyDigest: d.policyDigest, result: 'pending' as HashRef | 'pending' | null };
  ctx.state.effects.set(effectHash, info);
  const effect: EffectOutcome = { recorded: true, node: effectNode.node };
  try {
    if (resultNode === null) throw resultFault;
    await resultNode.durable;
  } catch (err) {
    info.result = null;
    return { effect, result: refused('ERR_PEP_UNRECORDED', `the result could not be recorded: ${(err as Error)?.message ?? String(err)}`) };
  }
  info.result = resultNode.node.entryHash;
  const node = resultNode.node;
  return {
    effect,
    result: res.drift !== null ? { recorded: true, node, status: res.status, outputDigest: res.outputDigest, reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT', detail: res.drift } : { recorded: true, node, status: res.status, outputDigest: res.outputDigest },
  };
}
