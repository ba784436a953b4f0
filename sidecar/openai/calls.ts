// Response side: the tool calls a model proposed, judged one by one. A call reaches the agent
// only with a recorded ALLOW. Before asking the kernel about its merits, the proxy refuses (with a
// receipt) what it cannot govern unambiguously: a type other than function, a missing or
// duplicated id (the id links the later tool result to this decision), a non-string name,
// arguments that are not JSON text.
import { canonicalJson } from '../../kernel/json/index.js';
import type { SurfaceRefusalCode } from '../../kernel/guardian/refusal.js';
import { refusalCodeOf } from '../../kernel/json/codes.js';
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
/** Deepest nesting of arguments (objects and arrays); deeper is refused INPUT_TOO_DEEP. */
export const MAX_ARGUMENT_DEPTH = 64;

interface Problem {
  text: string;
  reasonCode?: SurfaceRefusalCode;
}

function problemOf(c: ProposedCall, duplicated: boolean): Problem | null {
  const p = (text: string): Problem => ({ text });
  if (c.problem) return p(c.problem);
  if (c.type !== 'function') return p(`tool calls of type ${JSON.stringify(c.type ?? null)} are not governed by this proxy`);
  if (!usableCallId(c.id)) return p('the tool call has no usable id');
  if (duplicated) return p(`the tool call id ${JSON.stringify(c.id)} appears more than once in the response`);
  if (typeof c.name !== 'string' || c.name.length === 0) return p('the tool call has no function name');
  if (typeof c.arguments !== 'string') return p('the tool call arguments are not a string');
  return null;
}

/** Strict JSON (kernel/json): the parsed arguments and their JCS text, or why they are refused. */
export function strictArguments(text: string): { ok: true; value: unknown; canonical: string } | { ok: false; problem: Problem } {
  const r = canonicalJson(text, { maxLength: MAX_ARGUMENT_CHARS, maxDepth: MAX_ARGUMENT_DEPTH });
  if (r.ok) return r;
  const code = refusalCodeOf(r.error.code);
  const text2 = code === null ? `the arguments are not JSON: ${r.error.message}` : `the arguments are refused: ${r.error.message} (at ${r.error.path || '/'})`;
  return { ok: false, problem: { text: text2, ...(code ? { reasonCode: code } : {}) } };
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
      let canonical = '';
      if (problem === null) {
        const parsed = strictArguments(c.arguments as string);
        if (parsed.ok) ({ value: args, canonical } = parsed);
        else problem = parsed.problem;
      }
      if (problem === null && !ctx.ledger.reserve(principal, toolCallId!)) {
        problem = { text: `tool call id reused: the provider proposed id ${JSON.stringify(toolCallId)} again, which an earlier call already used (the id links a result to its decision, so the repeat is not delivered)`, reasonCode: 'TOOL_CALL_ID_REUSED' };
      }
      if (problem !== null) {
        // The arguments go to the receipt's stored input as evidence, never back to the agent.
        const evidence = typeof c.arguments === 'string' && c.arguments.length <= MAX_ARGUMENT_CHARS ? { arguments: c.arguments } : undefined;
        return ctx.gate.refuse({ toolCallId, tool, problem: problem.text, ...(problem.reasonCode ? { reasonCode: problem.reasonCode } : {}), ...(evidence ? { evidence } : {}) }, ctx.model);
      }

      const d = await ctx.gate.decide({ toolCallId, callId: toolCallId!, tool, args }, ctx.model);
      // What the agent gets is the canonical text of exactly the value the kernel judged.
      if (d.verdict === 'ALLOW') d.arguments = canonical;
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
