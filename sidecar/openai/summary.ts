// How the decisions behind an answer are reported: X-Helm-Decision / -Reason-Code / -Receipt-Id
// for the strictest one, X-Helm-Decisions for every call (id=VERDICT:REASON, ids URI-encoded),
// X-Helm-Tools-Removed for the tools taken out of the request, and the same in full (receipt
// and intent hashes, lamport, approval challenge) in a `helm` field of the JSON body, of the
// error object, or of a last stream chunk.
import { strictest } from './calls.js';
import type { CallDecision } from './gate.js';

export interface DecisionView {
  toolCallId: string | null;
  callId: string;
  tool: string;
  verdict: CallDecision['verdict'];
  reasonCode: string;
  recorded: boolean;
  receiptId: string | null;
  intentId: string | null;
  lamport: number | null;
  delivered: boolean;
  detail: string;
  approval?: CallDecision['challenge'];
  retryAfterMs?: number;
  sandbox?: string;
}

export interface HelmSummary {
  decisions: DecisionView[];
  toolsRemoved: DecisionView[];
}

/** At most this many entries in a list header (the body field has them all). */
const HEADER_ENTRIES = 32;

export function view(d: CallDecision, delivered: boolean): DecisionView {
  return {
    toolCallId: d.toolCallId,
    callId: d.callId,
    tool: d.tool,
    verdict: d.verdict,
    reasonCode: d.reasonCode,
    recorded: d.recorded,
    receiptId: d.receiptId,
    intentId: d.intentId,
    lamport: d.lamport,
    delivered,
    detail: d.detail,
    ...(d.challenge ? { approval: d.challenge } : {}),
    ...(d.retryAfterMs !== undefined ? { retryAfterMs: d.retryAfterMs } : {}),
    ...(d.sandbox !== undefined ? { sandbox: d.sandbox } : {}),
  };
}

export function summary(decisions: readonly CallDecision[], removed: readonly CallDecision[], delivered: ReadonlySet<CallDecision>): HelmSummary {
  return { decisions: decisions.map((d) => view(d, delivered.has(d))), toolsRemoved: removed.map((d) => view(d, false)) };
}

function list(ds: readonly CallDecision[], key: (d: CallDecision) => string): string {
  const shown = ds.slice(0, HEADER_ENTRIES).map((d) => `${encodeURIComponent(key(d).toWellFormed())}=${d.verdict}:${d.reasonCode}`);
  return ds.length > HEADER_ENTRIES ? `${shown.join(', ')}, ...` : shown.join(', ');
}

/** Header values are ASCII by construction (codes, hashes, base64url nonces, URI-encoded names). */
export function helmHeaders(decisions: readonly CallDecision[], removed: readonly CallDecision[] = []): Record<string, string> {
  const h: Record<string, string> = {};
  const top = strictest(decisions);
  if (top) {
    h['x-helm-decision'] = top.verdict;
    h['x-helm-reason-code'] = top.reasonCode;
    if (top.receiptId !== null) h['x-helm-receipt-id'] = top.receiptId;
    if (top.challenge) h['x-helm-approval-id'] = top.challenge.nonce;
    h['x-helm-decisions'] = list(decisions, (d) => d.toolCallId ?? d.callId);
  }
  if (removed.length > 0) h['x-helm-tools-removed'] = list(removed, (d) => d.tool);
  return h;
}
