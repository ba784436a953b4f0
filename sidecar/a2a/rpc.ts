// The parts of an A2A JSON-RPC request the PEP judges: method (v1.0 names; the v0.3 names are
// read as their v1.0 equivalents), the skill the caller names in metadata["helm.skill"], the
// number of message parts, and the HELM metadata of a delegation. Never throws.
import { isObject } from '../../kernel/a2a/refusal.js';
import { parseStrictJson } from '../../kernel/json/parse.js';

export const SKILL_KEY = 'helm.skill';
/** Outbound: the scope the agent asks to hand on, {scope: {skills, tools, budget}, ttlSeconds}. */
export const DELEGATE_KEY = 'helm.delegate';
/** Outbound: the token the agent acts under (as it received it in helm.delegation). */
export const ON_BEHALF_KEY = 'helm.onBehalfOf';
/** Inbound, set by the sidecar only: the verified token and the caller's id. */
export const DELEGATION_KEY = 'helm.delegation';
export const CALLER_KEY = 'helm.caller';
/** Inbound, set by the sidecar only: the task id the agent names in the helm-a2a-task header of its tool calls. */
export const TASK_KEY = 'helm.task';

const LEGACY: Record<string, string> = { 'message/send': 'SendMessage', 'message/stream': 'SendStreamingMessage', 'tasks/get': 'GetTask', 'tasks/cancel': 'CancelTask', 'tasks/resubscribe': 'SubscribeToTask' };

export interface RpcCall {
  /** The JSON-RPC id (echoed in an error answer). */
  id: string | number | null;
  /** As sent. */
  rawMethod: string;
  /** The v1.0 name. */
  method: string;
  streaming: boolean;
  skill: string | null;
  parts: number;
  delegate: unknown;
  onBehalfOf: unknown;
  /** GetTask / CancelTask: the task named (params.id). */
  taskId: string | null;
  body: Record<string, unknown>;
}

export function readRpc(bytes: Uint8Array): RpcCall | null {
  // The strict parser (kernel/json): a duplicate key, a lone surrogate or an out-of-range number
  // could make the remote agent read another skill or method than the one judged here (outbound
  // forwards these very bytes), so such a body is not a call at all and is denied.
  const parsed = parseStrictJson(bytes);
  if (!parsed.ok) return null;
  const body = parsed.value;
  if (!isObject(body) || body.jsonrpc !== '2.0' || typeof body.method !== 'string') return null;
  const id = typeof body.id === 'string' || typeof body.id === 'number' ? body.id : null;
  const method = LEGACY[body.method] ?? body.method;
  const params = isObject(body.params) ? body.params : {};
  const message = isObject(params.message) ? params.message : {};
  const meta = isObject(params.metadata) ? params.metadata : {};
  const mmeta = isObject(message.metadata) ? message.metadata : {};
  // A key set in both places with different values is ambiguous (a receiver may read either): no value.
  const pick = (k: string): unknown => (k in meta && k in mmeta && JSON.stringify(meta[k]) !== JSON.stringify(mmeta[k]) ? null : (meta[k] ?? mmeta[k] ?? null));
  const skill = pick(SKILL_KEY);
  return {
    id,
    rawMethod: body.method,
    method,
    streaming: method === 'SendStreamingMessage' || method === 'SubscribeToTask',
    skill: typeof skill === 'string' ? skill : null,
    parts: Array.isArray(message.parts) ? message.parts.length : 0,
    delegate: pick(DELEGATE_KEY),
    onBehalfOf: pick(ON_BEHALF_KEY),
    taskId: typeof params.id === 'string' && params.id.length <= 256 ? params.id : null,
    body,
  };
}

/** The body forwarded inbound: HELM's metadata keys as the sidecar vouches for them, never the caller's. */
export function withVerifiedMetadata(body: Record<string, unknown>, set: Record<string, unknown> | null): Uint8Array {
  const params = isObject(body.params) ? { ...body.params } : {};
  // A method without metadata (GetTask): nothing of the caller's passes, nothing is added.
  if (set === null) {
    delete params.metadata;
    return new TextEncoder().encode(JSON.stringify({ ...body, params }));
  }
  const clean = (m: unknown) => Object.fromEntries(Object.entries(isObject(m) ? m : {}).filter(([k]) => !k.startsWith('helm.') || k === SKILL_KEY));
  params.metadata = { ...clean(params.metadata), ...set };
  if (isObject(params.message)) params.message = { ...params.message, metadata: clean(params.message.metadata) };
  return new TextEncoder().encode(JSON.stringify({ ...body, params }));
}

/** The task ids an answer (a JSON-RPC result, or one stream event) names: v1.0 and v0.3 shapes. */
export function taskIdsOf(json: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return [];
  }
  const r = isObject(v) && isObject(v.result) ? v.result : null;
  if (!r) return [];
  const ids = [isObject(r.task) ? r.task.id : undefined, r.kind === 'task' ? r.id : undefined, r.taskId, isObject(r.statusUpdate) ? r.statusUpdate.taskId : undefined, isObject(r.artifactUpdate) ? r.artifactUpdate.taskId : undefined];
  return [...new Set(ids.filter((x): x is string => typeof x === 'string' && x.length >= 1 && x.length <= 256))];
}
