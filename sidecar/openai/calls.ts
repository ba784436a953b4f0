// Response side: the tool calls a model proposed, judged one by one. A call reaches the agent
// only with a recorded ALLOW. Before asking the kernel about its merits, the proxy refuses (with a
// receipt) what it cannot govern unambiguously: a type other than function, a missing or
// duplicated id (the id links the later tool result to this decision), a non-string name,
// arguments that are not JSON text.
import type { CallDecision, ToolCallGate } from './gate.js';
import { usableCallId } from './gate.js';
import type { ToolCallLedger } from './ledger.js';

export interface ProposedCall {
  id: unknown;
  type: unknown;
  name: unknown;
  arguments: unknown;
  /** Set when the proxy already knows the call is malformed (e.g. an ambiguous stream). */
  problem?: string;
}

export interface CallsContext {
  gate: ToolCallGate;
  ledger: ToolCallLedger;
  model: string | null;
}

/**
 * Arguments longer than this are refused unread: the kernel's whole decision input is capped at
 * 48 KiB, so no such call could be allowed, and the refusal keeps them as evidence.
 */
export const MAX_ARGUMENT_CHARS = 64 * 1024;

function problemOf(c: ProposedCall, duplicated: boolean): string | null {
  if (c.problem) return c.problem;
  if (c.type !== 'function') return `tool calls of type ${JSON.stringify(c.type ?? null)} are not governed by this proxy`;
  if (!usableCallId(c.id)) return 'the tool call has no usable id';
  if (duplicated) return `the tool call id ${JSON.stringify(c.id)} appears more than once in the response`;
  if (typeof c.name !== 'string' || c.name.length === 0) return 'the tool call has no function name';
  if (typeof c.arguments !== 'string') return 'the tool call arguments are not a string';
  if (c.arguments.length > MAX_ARGUMENT_CHARS) return `the arguments exceed ${MAX_ARGUMENT_CHARS} characters`;
  return null;
}

/** Decides every call (in order, so the receipts are in the order the model proposed them). */
export function judgeCalls(ctx: CallsContext, calls: readonly ProposedCall[]): Promise<CallDecision[]> {
  const principal = ctx.gate.principalId;
  const counts = new Map<unknown, number>();
  for (const c of calls) counts.set(c.id, (counts.get(c.id) ?? 0) + 1);
  return Promise.all(
    calls.map(async (c): Promise<CallDecision> => {
      const toolCallId = usableCallId(c.id) ? c.id : null;
      const tool = typeof c.name === 'string' ? c.name : undefined;
      let problem = problemOf(c, (counts.get(c.id) ?? 0) > 1);
      let args: unknown = null;
      if (problem === null) {
        try {
          args = JSON.parse(c.arguments as string) as unknown;
        } catch {
          problem = 'the arguments are not JSON';
        }
      }
      if (problem === null && !ctx.ledger.reserve(principal, toolCallId!)) problem = `the tool call id ${JSON.stringify(toolCallId)} was already used by an earlier call`;
      if (problem !== null) {
        // The arguments go to the receipt's stored input as evidence, never back to the agent.
        const evidence = typeof c.arguments === 'string' && c.arguments.length <= MAX_ARGUMENT_CHARS ? { arguments: c.arguments } : undefined;
        return ctx.gate.refuse({ toolCallId, tool, problem, ...(evidence ? { evidence } : {}) }, ctx.model);
      }

      const d = await ctx.gate.decide({ toolCallId, callId: toolCallId!, tool, args }, ctx.model);
      if (d.recorded && d.receiptId !== null) ctx.ledger.settle(principal, toolCallId!, { callId: d.callId, tool: d.tool, verdict: d.verdict, decision: d.receiptId, effect: null, result: null, pending: null });
      else ctx.ledger.release(principal, toolCallId!);
      return d;
    }),
  );
}

const RANK = { ALLOW: 0, ESCALATE: 1, DENY: 2 } as const;

/** The decision the X-Helm-Decision header reports: an unrecorded one, else the strictest verdict. */
export function strictest(ds: readonly CallDecision[]): CallDecision | null {
  let best: CallDecision | null = null;
  for (const d of ds) {
    if (!best) best = d;
    else if (!d.recorded && best.recorded) best = d;
    else if (d.recorded === best.recorded && RANK[d.verdict] > RANK[best.verdict]) best = d;
  }
  return best;
}
