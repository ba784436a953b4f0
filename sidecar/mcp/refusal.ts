// A call the gateway did not carry out (or whose output it withheld), with the verdict, reason code
// and receipts. The same record becomes a JSON-RPC error on the MCP surfaces and a JSON body with
// an HTTP status on the REST surface.
//
// Denials are JSON-RPC errors, not tool results with isError: the tool never ran, so there is no
// tool output to report, and a client cannot mistake a refusal for something the tool said.
import { ProtocolError } from '@modelcontextprotocol/server';
import type { HashRef } from '../../kernel/contracts/node.js';
import type { Challenge } from '../../kernel/pep/types.js';

/** Implementation-defined JSON-RPC server error codes (-32000..-32099, clear of those MCP defines). */
export const RPC_DENIED = -32060;
export const RPC_APPROVAL_PENDING = -32061;
export const RPC_UNAVAILABLE = -32062;

export type RefusalKind = 'denied' | 'approval-pending' | 'unavailable';

/** Why an allowed call still did not produce output (absent for a plain denial). */
export type FailureKind = 'timeout' | 'cancelled' | 'upstream-unavailable' | 'upstream-error' | 'not-offered' | 'definition-drift' | 'output-rejected' | 'unrecorded' | 'draining';

export interface Receipts {
  callId: string;
  intent?: HashRef;
  decision?: HashRef;
  effect?: HashRef;
  result?: HashRef;
}

export interface Refusal {
  kind: RefusalKind;
  verdict: 'ALLOW' | 'DENY' | 'ESCALATE';
  reasonCode: string;
  message: string;
  receipts: Receipts;
  failure?: FailureKind;
  challenge?: Challenge;
  retryAfterMs?: number;
  drift?: { pinned: string; upstream: string };
  /** The upstream's own JSON-RPC error code, when it answered a relayed request with an error. */
  upstreamCode?: number;
}

/** The most specific receipt: what a client quotes when it asks about the call. */
export function lastReceipt(r: Receipts): HashRef | null {
  return r.result ?? r.effect ?? r.decision ?? r.intent ?? null;
}

export function refusalData(r: Refusal): Record<string, unknown> {
  return {
    verdict: r.verdict,
    reasonCode: r.reasonCode,
    callId: r.receipts.callId,
    receipt: lastReceipt(r.receipts),
    receipts: r.receipts,
    ...(r.failure ? { failure: r.failure } : {}),
    ...(r.challenge ? { challenge: r.challenge } : {}),
    ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}),
    ...(r.drift ? { drift: r.drift } : {}),
    ...(r.upstreamCode !== undefined ? { upstreamCode: r.upstreamCode } : {}),
  };
}

export function rpcCode(r: Refusal): number {
  return r.kind === 'denied' ? RPC_DENIED : r.kind === 'approval-pending' ? RPC_APPROVAL_PENDING : RPC_UNAVAILABLE;
}

/** The error message a client sees: it always names the reason code (not only error.data). */
export function refusalMessage(r: Refusal): string {
  return r.message.includes(r.reasonCode) ? r.message : `${r.reasonCode}: ${r.message}`;
}

export function toProtocolError(r: Refusal): ProtocolError {
  return new ProtocolError(r.upstreamCode ?? rpcCode(r), refusalMessage(r), refusalData(r));
}

export function httpStatus(r: Refusal): number {
  if (r.kind === 'approval-pending') return 202;
  if (r.kind === 'denied') return r.failure === 'timeout' ? 504 : r.failure === 'output-rejected' ? 502 : 403;
  return r.failure === 'upstream-error' ? 502 : 503;
}
