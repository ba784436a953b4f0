// Request side, tool results: every role:"tool" message must answer a call the kernel ALLOWED for
// this principal. Its first appearance is recorded as EFFECT (executed, reported by the agent and
// so not confirmed) and RESULT, with the content checked against the tool's pinned output schema;
// the chain is INTENT <- DECISION <- EFFECT <- RESULT. Later turns repeat the same message: it is
// accepted when its content is unchanged and refused when it differs.
import { parseStrictJson } from '../../kernel/json/index.js';
import { MAX_ARGUMENT_DEPTH } from './calls.js';
import { createHash } from 'node:crypto';
import type { Pep, ResultOutcome } from '../../kernel/pep/index.js';
import { ProxyError } from './errors.js';
import { usableCallId, type CallDecision, type ToolCallGate } from './gate.js';
import type { LedgerEntry, ToolCallLedger } from './ledger.js';
import type { ProxyObserver } from './observer.js';

interface ToolMessage {
  id: string;
  content: string;
}

export interface ResultContext {
  pep: Pep;
  gate: ToolCallGate;
  ledger: ToolCallLedger;
  observer: ProxyObserver;
  model: string | null;
}

/** The text of a tool message: a string or an array of text parts; null when it is neither. */
function contentText(c: unknown): string | null {
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return null;
  let out = '';
  for (const p of c) {
    if (typeof p !== 'object' || p === null || (p as { type?: unknown }).type !== 'text' || typeof (p as { text?: unknown }).text !== 'string') return null;
    out += (p as { text: string }).text;
  }
  return out;
}

/**
 * What the output schema is checked against: the JSON the text holds, or the text itself. Strict
 * and depth-limited, so a hostile result cannot reach the recursive schema check too deep.
 */
function outputOf(text: string): unknown {
  const r = parseStrictJson(text, { maxLength: Number.MAX_SAFE_INTEGER, maxDepth: MAX_ARGUMENT_DEPTH });
  return r.ok ? r.value : text;
}

const digestOf = (text: string) => createHash('sha256').update(text).digest('hex');

async function refusal(ctx: ResultContext, status: number, code: ConstructorParameters<typeof ProxyError>[1], message: string, r: { toolCallId?: string | null; tool?: unknown }): Promise<ProxyError> {
  const d = await ctx.gate.refuse({ ...r, problem: message }, ctx.model);
  if (!d.recorded) return new ProxyError(503, 'receipt_unavailable', `${message}; and the refusal could not be recorded`).with([d]);
  return new ProxyError(status, code, message, 'messages').with([d]);
}

/** Finds the tool messages; a malformed or duplicated one is refused before anything is recorded. */
async function toolMessages(ctx: ResultContext, messages: readonly unknown[]): Promise<ToolMessage[]> {
  const out: ToolMessage[] = [];
  const seen = new Set<string>();
  for (const [i, m] of messages.entries()) {
    if (typeof m !== 'object' || m === null || (m as { role?: unknown }).role !== 'tool') continue;
    const id = (m as { tool_call_id?: unknown }).tool_call_id;
    if (!usableCallId(id)) throw await refusal(ctx, 400, 'invalid_request', `messages[${i}] (role tool) has no usable tool_call_id`, {});
    const content = contentText((m as { content?: unknown }).content);
    if (content === null) throw await refusal(ctx, 400, 'invalid_request', `messages[${i}] content must be a string or an array of text parts`, { toolCallId: id });
    if (seen.has(id)) throw await refusal(ctx, 400, 'duplicate_tool_call_id', `tool_call_id ${JSON.stringify(id)} is answered twice in one request`, { toolCallId: id });
    seen.add(id);
    out.push({ id, content });
  }
  return out;
}

function driftError(e: LedgerEntry, id: string): ProxyError {
  const r = e.result!;
  const d: CallDecision = {
    toolCallId: id,
    callId: e.callId,
    tool: e.tool,
    verdict: 'DENY',
    reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT',
    detail: r.detail ?? 'the output does not match the pinned output schema',
    recorded: true,
    receiptId: r.node,
    intentId: null,
    lamport: r.lamport,
  };
  return new ProxyError(422, 'tool_result_contract_drift', `the result of ${e.tool} (${id}) does not match its pinned output schema: ${d.detail}`, 'messages').with([d]);
}

async function recordOne(ctx: ResultContext, e: LedgerEntry, m: ToolMessage): Promise<void> {
  const text = m.content;
  const elsewhere = e.effect === null ? ctx.pep.executionOf(e.decision) : null;
  if (elsewhere !== null && elsewhere.result !== null) {
    // The agent executed this allowed call through the MCP gateway, which continued this decision's
    // chain with its own EFFECT and RESULT; the tool message only carries the output to the model.
    e.effect = elsewhere.effect;
    e.result = { digest: digestOf(text), node: elsewhere.result, lamport: 0, rejected: false };
    return;
  }
  if (e.effect === null) {
    // The agent reports it executed the call: that execution takes the decision's one claim. A
    // decision the MCP gateway took and is still executing (or failed to record) is not ours.
    if (e.claimed !== true && !ctx.pep.claim(e.decision)) {
      throw await refusal(ctx, 409, 'tool_result_unlinkable', `the call ${m.id} cannot be claimed for this result: it was taken for execution elsewhere (the MCP gateway) without a recorded result, or the PEP no longer holds its decision; its output cannot be recorded here`, { toolCallId: m.id, tool: e.tool });
    }
    e.claimed = true;
    // Effect and result in one group commit (one fdatasync round).
    const both = await ctx.pep.recordExecution(e.decision, { status: 'executed', confirmed: false }, { status: 'ok', output: outputOf(text) });
    const eff = both.effect;
    if (!eff.recorded) {
      if (eff.code === 'ERR_PEP_UNRECORDED') throw new ProxyError(503, 'receipt_unavailable', `the effect of ${m.id} could not be recorded: ${eff.message}`);
      throw await refusal(ctx, 409, 'tool_result_unlinkable', `the effect of ${m.id} cannot be recorded here: ${eff.message}`, { toolCallId: m.id, tool: e.tool });
    }
    e.effect = eff.node.entryHash;
    return noteResult(ctx, e, m, both.result!);
  }
  return noteResult(ctx, e, m, await ctx.pep.recordResult(e.effect, { status: 'ok', output: outputOf(text) }));
}

async function noteResult(ctx: ResultContext, e: LedgerEntry, m: ToolMessage, res: ResultOutcome): Promise<void> {
  const text = m.content;
  if (!res.recorded) {
    if (res.code === 'ERR_PEP_UNRECORDED') throw new ProxyError(503, 'receipt_unavailable', `the result of ${m.id} could not be recorded: ${res.message}`);
    throw await refusal(ctx, 409, 'tool_result_unlinkable', `the result of ${m.id} cannot be recorded: ${res.message}`, { toolCallId: m.id, tool: e.tool });
  }
  const rejected = res.reasonCode !== undefined;
  e.result = { digest: digestOf(text), node: res.node.entryHash, lamport: res.node.lamport, rejected, ...(res.detail !== undefined ? { detail: res.detail } : {}) };
  if (rejected) ctx.observer.decision({ surface: 'openai', tool: e.tool, verdict: 'DENY', reasonCode: res.reasonCode!, seconds: 0, recorded: true });
}

async function checkOne(ctx: ResultContext, m: ToolMessage): Promise<void> {
  const principal = ctx.gate.principalId;
  const e = ctx.ledger.get(principal, m.id);
  if (!e) throw await refusal(ctx, 400, 'unknown_tool_call', `tool_call_id ${JSON.stringify(m.id)} does not answer a tool call this proxy delivered to ${principal}`, { toolCallId: m.id });
  if (e.verdict !== 'ALLOW') throw await refusal(ctx, 403, 'tool_call_not_allowed', `tool_call_id ${JSON.stringify(m.id)} answers a call the kernel did not allow (${e.verdict})`, { toolCallId: m.id, tool: e.tool });
  while (e.pending) await e.pending.catch(() => undefined);
  if (e.result === null) {
    const p = recordOne(ctx, e, m);
    e.pending = p;
    try {
      await p;
    } finally {
      e.pending = null;
    }
  } else if (e.result.digest !== digestOf(m.content)) {
    throw await refusal(ctx, 409, 'tool_result_changed', `the result of tool_call_id ${JSON.stringify(m.id)} differs from the one already recorded`, { toolCallId: m.id, tool: e.tool });
  }
  if (e.result?.rejected) throw driftError(e, m.id);
}

/** Checks and records every tool result of a request; throws the ProxyError to answer with. */
export async function checkToolResults(ctx: ResultContext, messages: readonly unknown[]): Promise<void> {
  const found = await toolMessages(ctx, messages);
  if (found.length === 0) return;
  const outcomes = await Promise.allSettled(found.map((m) => checkOne(ctx, m)));
  const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
  if (errors.length === 0) return;
  // The most severe answer wins: a store failure (503) over a policy refusal.
  const proxyErrors = errors.filter((e): e is ProxyError => e instanceof ProxyError);
  if (proxyErrors.length < errors.length) throw errors.find((e) => !(e instanceof ProxyError));
  proxyErrors.sort((a, b) => b.status - a.status);
  const first = proxyErrors[0]!;
  for (const other of proxyErrors.slice(1)) first.with(other.decisions);
  throw first;
}
