// The approval ceremony as a state machine over the PEP's own clock (docs/spec/pep.md §5). An
// ESCALATE opens one with a challenge nonce; approvals are accepted inside [notBefore, expiresAt)
// and count once their approval node is durable; the retried call is then allowed once, after
// the hold, or denied when the window closed first. Pure: times come in as arguments.
import { BoundedMap } from './bounded.js';
import type { HashRef } from '../contracts/node.js';
import { parseInstant } from '../guardian/decision-input.js';
import type { ApprovalVerdict } from './approval-message.js';
import type { EscalationRecord } from './types.js';

export interface CeremonyApproval {
  readonly approver: string;
  readonly verdict: ApprovalVerdict;
  readonly acceptedAtMs: number;
  /** The approval node's entry hash, once it is durable; until then the approval does not count. */
  node: HashRef | null;
}

export type CeremonyStatus = 'open' | 'granted' | 'expired' | 'rejected' | 'superseded';

export interface Ceremony {
  readonly nonce: string;
  readonly callKey: string;
  readonly callId: string;
  readonly principal: string;
  readonly tool: string;
  readonly argsDigest: HashRef;
  readonly policyDigest: HashRef;
  readonly escalation: EscalationRecord;
  readonly notBeforeMs: number;
  readonly expiresAtMs: number;
  /** Entry hash of the ESCALATE decision, once it is durable. */
  decision: HashRef | null;
  readonly approvals: CeremonyApproval[];
  status: CeremonyStatus;
}

export function newCeremony(f: Omit<Ceremony, 'notBeforeMs' | 'expiresAtMs' | 'decision' | 'approvals' | 'status'>): Ceremony {
  return { ...f, notBeforeMs: parseInstant(f.escalation.notBefore)!, expiresAtMs: parseInstant(f.escalation.expiresAt)!, decision: null, approvals: [], status: 'open' };
}

/** When the quorum-th recorded approval was accepted, or null without quorum. */
export function quorumAt(c: Ceremony): number | null {
  const counted = c.approvals.filter((a) => a.verdict === 'approve' && a.node !== null);
  return counted.length >= c.escalation.quorum ? counted[c.escalation.quorum - 1]!.acceptedAtMs : null;
}

export type RetryJudgement =
  | { kind: 'granted'; approvals: HashRef[] }
  | { kind: 'pending'; retryAfterMs?: number; message: string }
  | { kind: 'timeout'; message: string }
  | { kind: 'rejected'; by: string };

/** What a retry of the escalated call gets at `nowMs` (PEP clock). */
export function judgeRetry(c: Ceremony, nowMs: number): RetryJudgement {
  const reject = c.approvals.find((a) => a.verdict === 'reject' && a.node !== null);
  if (reject) return { kind: 'rejected', by: reject.approver };
  const q = quorumAt(c);
  if (nowMs >= c.expiresAtMs) return { kind: 'timeout', message: `approval ${c.escalation.approval} (nonce ${c.nonce}) expired at ${c.escalation.expiresAt}${q === null ? ' without quorum' : ' before the hold ended'}` };
  const holdMs = c.escalation.holdSeconds * 1000;
  if (q !== null && nowMs >= q + holdMs) {
    const used = c.approvals.filter((a) => a.verdict === 'approve' && a.node !== null).slice(0, c.escalation.quorum);
    return { kind: 'granted', approvals: used.map((a) => a.node!) };
  }
  if (q !== null) return { kind: 'pending', retryAfterMs: q + holdMs - nowMs, message: `quorum reached; held until ${new Date(q + holdMs).toISOString()}` };
  const have = c.approvals.filter((a) => a.verdict === 'approve' && a.node !== null).length;
  return { kind: 'pending', message: `waiting for approval ${c.escalation.approval}: ${have} of ${c.escalation.quorum} (nonce ${c.nonce})` };
}

export type AcceptRefusal =
  | 'ERR_APPROVAL_UNKNOWN_NONCE'
  | 'ERR_APPROVAL_DECISION_MISMATCH'
  | 'ERR_APPROVAL_REPLAYED'
  | 'ERR_APPROVAL_TOO_EARLY'
  | 'ERR_APPROVAL_EXPIRED'
  | 'ERR_APPROVAL_WRONG_KEY';

/** The ceremony-level checks of one approval (the signature is checked by the caller). */
export function acceptProblem(c: Ceremony, s: { decision: HashRef; policyDigest: HashRef; approver: string }, nowMs: number): { code: AcceptRefusal; message: string } | null {
  if (c.decision === null) return { code: 'ERR_APPROVAL_DECISION_MISMATCH', message: `the escalated decision for nonce ${c.nonce} is not recorded yet` };
  if (s.decision !== c.decision) return { code: 'ERR_APPROVAL_DECISION_MISMATCH', message: `nonce ${c.nonce} belongs to decision ${c.decision}, not ${s.decision}` };
  if (s.policyDigest !== c.policyDigest) return { code: 'ERR_APPROVAL_DECISION_MISMATCH', message: `the decision was made under bundle ${c.policyDigest}, not ${s.policyDigest}` };
  if (c.status !== 'open') return { code: 'ERR_APPROVAL_REPLAYED', message: `the ceremony of nonce ${c.nonce} is closed (${c.status}): its nonce cannot be used again` };
  if (nowMs < c.notBeforeMs) return { code: 'ERR_APPROVAL_TOO_EARLY', message: `approvals are accepted from ${c.escalation.notBefore} (timelock ${c.escalation.timelockSeconds}s)` };
  if (nowMs >= c.expiresAtMs) return { code: 'ERR_APPROVAL_EXPIRED', message: `the approval window closed at ${c.escalation.expiresAt}` };
  if (c.approvals.some((a) => a.verdict === 'reject')) return { code: 'ERR_APPROVAL_REPLAYED', message: `nonce ${c.nonce} was already answered with a rejection` };
  if (!c.escalation.approvers.includes(s.approver)) return { code: 'ERR_APPROVAL_WRONG_KEY', message: `${s.approver} is not an approver of ${c.escalation.approval} (${c.escalation.approvers.join(', ')})` };
  if (c.approvals.some((a) => a.approver === s.approver)) return { code: 'ERR_APPROVAL_REPLAYED', message: `${s.approver} already answered nonce ${c.nonce}` };
  return null;
}

/** Closed ceremonies remembered by nonce and decision (open ones are always kept). */
export const MAX_CLOSED_CEREMONIES = 10_000;

/**
 * Open ceremonies by call, and ceremonies by nonce: a closed nonce is never accepted again (a
 * closed ceremony past the cap is forgotten; an answer to its nonce is then refused as unknown).
 */
export class CeremonyBook {
  private readonly byNonce = new BoundedMap<string, Ceremony>(MAX_CLOSED_CEREMONIES, (c) => c.status !== 'open');
  private readonly byDecision = new BoundedMap<string, Ceremony>(MAX_CLOSED_CEREMONIES, (c) => c.status !== 'open');
  private readonly open = new Map<string, Ceremony>();

  openFor(callKey: string): Ceremony | null {
    return this.open.get(callKey) ?? null;
  }

  nonce(n: string): Ceremony | null {
    return this.byNonce.get(n) ?? null;
  }

  ofDecision(hash: string): Ceremony | null {
    return this.byDecision.get(hash) ?? null;
  }

  /** Registers a new ceremony; an open one for the same call is superseded. */
  start(c: Ceremony): void {
    const old = this.open.get(c.callKey);
    if (old) old.status = 'superseded';
    this.byNonce.set(c.nonce, c);
    this.open.set(c.callKey, c);
  }

  recorded(c: Ceremony, decision: HashRef): void {
    c.decision = decision;
    this.byDecision.set(decision, c);
  }

  close(c: Ceremony, status: Exclude<CeremonyStatus, 'open'>): void {
    c.status = status;
    if (this.open.get(c.callKey) === c) this.open.delete(c.callKey);
  }

  /** The open ceremonies, oldest first. */
  openCeremonies(): Ceremony[] {
    return [...this.open.values()];
  }

  footprint(): { ceremonies: number; openCeremonies: number } {
    return { ceremonies: this.byNonce.size, openCeremonies: this.open.size };
  }
}
