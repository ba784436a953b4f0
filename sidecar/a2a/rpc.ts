// The parts of an A2A JSON-RPC request the PEP judges: method (v1.0 names; the v0.3 names are
// read as their v1.0 equivalents), the skill the caller names in metadata["helm.skill"], the
// number of message parts, and the HELM metadata of a delegation. Never throws.
import { isObject } from '../../kernel/a2a/refusal.js';

export const SKILL_KEY = 'helm.skill';
/** Outbound: the scope the agent asks to hand on, {scope: {skills, tools, budget}, ttlSeconds}. */
export const DELEGATE_KEY = 'helm.delegate';
/** Outbound: the token the agent acts under (as it received it in helm.delegation). */
export const ON_BEHALF_KEY = 'helm.onBehalfOf';
/** Inbound, set by the sidecar only: the verified token and the caller's id. */
export const DELEGATION_KEY = 'helm.delegation';
export const CALLER_KEY = 'helm.caller';

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
  body: Record<string, unknown>;
}

export function readRpc(bytes: Uint8Array): RpcCall | null {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  if (!isObject(body) || body.jsonrpc !== '2.0' || typeof body.method !== 'string') return null;
  const id = typeof body.id === 'string' || typeof body.id === 'number' ? body.id : null;
  const method = LEGACY[body.method] ?? body.method;
  const params = isObject(body.params) ? body.params : {};
  const message = isObject(params.message) ? params.message : {};
  const meta = isObject(params.metadata) ? params.metadata : {};
  const mmeta = isObject(message.metadata) ? message.metadata : {};
  const pick = (k: string): unknown => meta[k] ?? mmeta[k] ?? null;
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
    body,
  };
}

/** The body forwarded inbound: HELM's metadata keys as the sidecar vouches for them, never the caller's. */
export function withVerifiedMetadata(body: Record<string, unknown>, set: Record<string, unknown>): Uint8Array {
  const params = isObject(body.params) ? { ...body.params } : {};
  const clean = (m: unknown) => Object.fromEntries(Object.entries(isObject(m) ? m : {}).filter(([k]) => !k.startsWith('helm.') || k === SKILL_KEY));
  params.metadata = { ...clean(params.metadata), ...set };
  if (isObject(params.message)) params.message = { ...params.message, metadata: clean(params.message.metadata) };
  return new TextEncoder().encode(JSON.stringify({ ...body, params }));
}
