// Response side of a whole (non-streamed) completion: every tool call of every choice is judged;
// only calls with a recorded ALLOW stay in the message, each other one is replaced by a line of
// explanation in the assistant content ('explain' mode) or the whole answer becomes an error
// ('error' mode). A decision that could not be recorded turns the answer into a 503.
import { judgeCalls, type CallsContext, type ProposedCall } from './calls.js';
import { ProxyError } from './errors.js';
import { explainAll } from './explain.js';
import type { CallDecision } from './gate.js';
import { UpstreamFailure } from './upstream.js';

export type DeniedCallMode = 'explain' | 'error';

export interface GovernedCompletion {
  body: Record<string, unknown>;
  decisions: CallDecision[];
  delivered: Set<CallDecision>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(why: string): UpstreamFailure {
  return new UpstreamFailure('malformed', `the upstream completion is malformed: ${why}`);
}

interface Slot {
  message: Record<string, unknown>;
  choice: Record<string, unknown>;
  raw: unknown;
  legacy: boolean;
}

function proposed(v: unknown): ProposedCall {
  if (!isObject(v)) return { id: undefined, type: undefined, name: undefined, arguments: undefined, problem: 'a tool call entry is not an object' };
  const fn = isObject(v.function) ? v.function : {};
  return { id: v.id, type: v.type, name: fn.name, arguments: fn.arguments };
}

/** Throws the error to answer with when the completion cannot be delivered as governed. */
export function rejectUndeliverable(decisions: readonly CallDecision[], mode: DeniedCallMode): void {
  const unrecorded = decisions.filter((d) => !d.recorded);
  if (unrecorded.length > 0) throw new ProxyError(503, 'receipt_unavailable', `the decision on ${unrecorded.length} tool call(s) could not be recorded; no tool call is delivered`).with(decisions);
  if (mode === 'error') {
    const refused = decisions.filter((d) => d.verdict !== 'ALLOW');
    if (refused.length > 0) {
      const code = refused.some((d) => d.verdict === 'DENY') ? 'tool_call_denied' : 'approval_required';
      throw new ProxyError(403, code, explainAll(refused)).with(decisions);
    }
  }
}

export async function governCompletion(ctx: CallsContext, completion: unknown, mode: DeniedCallMode): Promise<GovernedCompletion> {
  if (!isObject(completion)) throw malformed('not a JSON object');
  if (!Array.isArray(completion.choices)) throw malformed('choices is not an array');
  const slots: Slot[] = [];
  for (const [i, choice] of completion.choices.entries()) {
    if (!isObject(choice) || !isObject(choice.message)) throw malformed(`choices[${i}] has no message object`);
    const m = choice.message;
    if (m.tool_calls !== undefined && m.tool_calls !== null && !Array.isArray(m.tool_calls)) throw malformed(`choices[${i}].message.tool_calls is not an array`);
    for (const tc of (m.tool_calls as unknown[] | undefined | null) ?? []) slots.push({ message: m, choice, raw: tc, legacy: false });
    if (m.function_call !== undefined && m.function_call !== null) slots.push({ message: m, choice, raw: m.function_call, legacy: true });
  }
  const calls = slots.map((s): ProposedCall => {
    if (!s.legacy) return proposed(s.raw);
    const f = isObject(s.raw) ? s.raw : {};
    return { id: undefined, type: 'function', name: f.name, arguments: f.arguments, problem: 'a legacy function_call is not governed by this proxy' };
  });
  const decisions = await judgeCalls(ctx, calls);
  rejectUndeliverable(decisions, mode);

  const delivered = new Set<CallDecision>();
  const byMessage = new Map<Record<string, unknown>, { choice: Record<string, unknown>; kept: unknown[]; refused: CallDecision[] }>();
  slots.forEach((s, i) => {
    const d = decisions[i]!;
    const e = byMessage.get(s.message) ?? { choice: s.choice, kept: [], refused: [] };
    byMessage.set(s.message, e);
    if (!s.legacy && d.verdict === 'ALLOW') {
      const tc = s.raw as Record<string, unknown>;
      e.kept.push({ ...tc, function: { ...(tc.function as Record<string, unknown>), arguments: d.arguments } });
      delivered.add(d);
    } else e.refused.push(d);
  });
  for (const [m, e] of byMessage) {
    delete m.function_call;
    if (e.kept.length > 0) m.tool_calls = e.kept;
    else delete m.tool_calls;
    if (e.refused.length > 0) {
      const text = explainAll(e.refused);
      m.content = typeof m.content === 'string' && m.content.length > 0 ? `${m.content}\n\n${text}` : text;
      if (e.kept.length === 0 && (e.choice.finish_reason === 'tool_calls' || e.choice.finish_reason === 'function_call')) e.choice.finish_reason = 'stop';
    }
  }
  return { body: completion, decisions, delivered };
}
