// A tool call made for a delegated A2A task (docs/spec/a2a.md §9). The surface that received the
// call found the task's binding (the a2a.receive decision that accepted it, the delegated tools
// and the calls budget of its token) and recorded it in context.a2a.task, with the uses already
// spent under the token, as it records budget state. The binding only narrows: this check runs
// before the bundle's own policy, which still has to allow the call.
import { isObject, refuse, type A2aRefusal } from '../a2a/refusal.js';
import { matches } from '../a2a/scope.js';
import type { DecisionInput } from './decision-input.js';

export interface TaskBinding {
  /** The task id the agent named (the hash of the a2a.receive decision). */
  id: string;
  /** The a2a.receive decision {origin, index, hash, lamport}; null: no such task here. */
  decision: { origin: string; index: number; hash: string; lamport: number } | null;
  caller?: string;
  /** The delegation token's jti; null when the caller delegated nothing (its grant bounds the tools). */
  jti?: string | null;
  /** Tool patterns the work may use: the token's tools within the caller's grant. */
  tools?: string[];
  /** Calls allowed under the token (null: no token, no budget but the bundle's). */
  budget?: number | null;
  /** Calls already allowed under the token (a2a.receive and tool calls). */
  uses?: number;
}

const names = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 64 && v.every((x) => typeof x === 'string');

/** Null when the call is not made for a task (or is within it); otherwise the refusal. */
export function judgeDelegatedTool(input: DecisionInput): A2aRefusal | null {
  const a = input.context.a2a;
  if (!isObject(a) || !Object.hasOwn(a, 'task')) return null;
  const t = a.task;
  if (!isObject(t) || !isObject(t.decision)) return refuse('A2A_TASK_UNKNOWN', `the call names A2A task ${JSON.stringify(isObject(t) ? t.id : t)}, which this sidecar accepted no delegation for (the id is the helm.task value the sidecar set on the task)`);
  if (!names(t.tools)) return refuse('A2A_TASK_UNKNOWN', 'context.a2a.task.tools (the delegated tools) is missing');
  if (!t.tools.some((p) => matches(p, input.tool))) return refuse('A2A_TOOL_NOT_DELEGATED', `tool ${input.tool} is outside the tools delegated for task ${String(t.id)} (${t.tools.join(', ') || 'none'})`);
  if (t.budget === null) return null;
  if (!Number.isSafeInteger(t.budget) || !Number.isSafeInteger(t.uses) || (t.uses as number) < 0) return refuse('A2A_DELEGATION_BUDGET_EXHAUSTED', 'context.a2a.task.budget and .uses (calls already made under the token) must be integers');
  if ((t.uses as number) >= (t.budget as number)) return refuse('A2A_DELEGATION_BUDGET_EXHAUSTED', `the token's budget of ${String(t.budget)} call(s) is used up (its a2a.receive calls and the tool calls made for it count)`);
  return null;
}
