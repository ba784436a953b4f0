// What the PEP adds to the Guardian's verdict, in the same tick as the evaluation: the request
// check of PEP-only fields, backpressure, idempotency, the approval ceremony, and the reservation
// of what an ALLOW consumes. It runs only when the evaluation allowed or escalated the call, so
// it can narrow a verdict (or let an approved escalation through once) but never widen a denial.
import { toBase64 } from '../crypto/bytes.js';
import type { GuardianPolicy } from '../guardian/policy.js';
import { formatInstant, parseInstant, type DecisionInput } from '../guardian/decision-input.js';
import type { Decision } from '../guardian/evaluate.js';
import type { Consumption } from '../guardian/limits.js';
import type { ReasonCode, Verdict } from '../guardian/reason-codes.js';
import { judgeRetry, newCeremony, type Ceremony } from './ceremony.js';
import { consumptionFor } from './consumption.js';
import { callKey, type ReadRequest } from './request.js';
import type { PepState, UsedKey } from './state.js';
import type { Basis, EscalationRecord } from './types.js';

export interface Adjudication {
  verdict: Verdict;
  reasonCode: ReasonCode;
  ruleIds: string[];
  detail: string;
  consumed?: Consumption;
  escalation?: EscalationRecord;
  retryAfterMs?: number;
  sandbox?: string;
  basis?: Basis;
  /** The ceremony this decision opened: it learns its decision hash once the node is durable. */
  opened?: Ceremony;
  /** The ceremony whose challenge goes back to the caller (opened or still pending). */
  ceremony?: Ceremony;
  /** The idempotency key this ALLOW used: it learns the decision hash once durable. */
  usedKey?: UsedKey;
}

export interface AdjudicationContext {
  readonly state: PepState;
  readonly policy: GuardianPolicy;
  readonly evaluation: Decision;
  /** The canonical input (non-null whenever the evaluation did not deny). */
  readonly input: DecisionInput | null;
  readonly request: ReadRequest;
  readonly nowMs: number;
  readonly snapshotVersion: number;
  /** Too many decisions are waiting to be recorded: shed load with a receipted throttle. */
  readonly overloaded: boolean;
  readonly overloadRetryMs: number;
  /** Challenge nonce bytes (16) from the injected random source. */
  readonly random: (n: number) => Uint8Array;
}

function base64url(b: Uint8Array): string {
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function adjudicate(ctx: AdjudicationContext): Adjudication {
  const d = ctx.evaluation;
  const evaluated: Adjudication = {
    verdict: d.verdict,
    reasonCode: d.reasonCode,
    ruleIds: [...d.ruleIds],
    detail: d.detail,
    ...(d.sandbox !== undefined ? { sandbox: d.sandbox } : {}),
    ...(d.retryAfterMs !== undefined ? { retryAfterMs: d.retryAfterMs } : {}),
  };
  if (d.verdict === 'DENY') return evaluated;
  const input = ctx.input;
  if (input === null || ctx.policy.status !== 'ready') {
    // The Guardian never allows a non-canonical input or without a policy; if it ever did, deny.
    return { verdict: 'DENY', reasonCode: 'GUARDIAN_ERROR', ruleIds: [], detail: 'the evaluation did not deny an input the PEP cannot judge' };
  }
  const denied = (reasonCode: ReasonCode, detail: string, basis: Basis, extra: Partial<Adjudication> = {}): Adjudication => ({ verdict: 'DENY', reasonCode, ruleIds: [], detail, basis, ...extra });
  const req = ctx.request;
  if (req.problem !== null) return denied('ENVELOPE_INVALID', req.problem, { kind: 'request' });
  if (ctx.overloaded) return denied('TEMPORAL_THROTTLE', 'the PEP is overloaded: too many decisions wait to be recorded', { kind: 'overload' }, { retryAfterMs: ctx.overloadRetryMs });

  const argsDigest = req.intent.argsDigest;
  const key = callKey(input.principal.id, input.tool, argsDigest, req.idempotencyKey);
  const open = ctx.state.ceremonies.openFor(key);
  if (req.idempotencyKey !== null) {
    if (ctx.state.usedKeys.has(key)) return denied('ERR_IDEMPOTENCY_DUPLICATE', `idempotency key ${JSON.stringify(req.idempotencyKey)} of ${input.principal.id} was already used by an allowed call`, { kind: 'duplicate' });
    if (open && (open.tool !== input.tool || open.argsDigest !== argsDigest)) {
      return denied('ERR_IDEMPOTENCY_DUPLICATE', `idempotency key ${JSON.stringify(req.idempotencyKey)} is awaiting approval for other arguments`, { kind: 'duplicate', nonce: open.nonce });
    }
  }

  if (d.verdict === 'ESCALATE') {
    const esc = d.escalation!;
    if (open && open.policyDigest === d.policyDigest && open.escalation.approval === esc.approval) return retry(ctx, evaluated, open, key);
    const t0 = parseInstant(input.time)!;
    const escalation: EscalationRecord = {
      approval: esc.approval,
      approvers: [...esc.approvers],
      quorum: esc.quorum,
      timelockSeconds: esc.timelockSeconds,
      holdSeconds: esc.holdSeconds,
      timeoutSeconds: esc.timeoutSeconds,
      nonce: base64url(ctx.random(16)),
      notBefore: formatInstant(t0 + esc.timelockSeconds * 1000),
      expiresAt: formatInstant(t0 + esc.timeoutSeconds * 1000),
    };
    const c = newCeremony({ nonce: escalation.nonce, callKey: key, callId: input.callId, principal: input.principal.id, tool: input.tool, argsDigest, policyDigest: ctx.policy.bundle.contentHash, escalation });
    ctx.state.ceremonies.start(c);
    return { ...evaluated, escalation, opened: c, ceremony: c };
  }
  return reserve(ctx, evaluated, d.consumed!, key);
}

/** An ALLOW takes what it consumes now, in the evaluation's tick. */
function reserve(ctx: AdjudicationContext, a: Adjudication, consumed: Consumption, key: string): Adjudication {
  const stale = ctx.state.ledger.commit(consumed, ctx.snapshotVersion);
  if (stale !== null) return { verdict: 'DENY', reasonCode: 'BUDGET_ERROR', ruleIds: [], detail: stale };
  if (ctx.request.idempotencyKey === null) return { ...a, consumed };
  const usedKey: UsedKey = { decision: null };
  ctx.state.usedKeys.set(key, usedKey);
  return { ...a, consumed, usedKey };
}

function retry(ctx: AdjudicationContext, evaluated: Adjudication, c: Ceremony, key: string): Adjudication {
  const j = judgeRetry(c, ctx.nowMs);
  const nonce = c.nonce;
  switch (j.kind) {
    case 'rejected':
      ctx.state.ceremonies.close(c, 'rejected');
      return { verdict: 'DENY', reasonCode: 'APPROVAL_REJECTED', ruleIds: evaluated.ruleIds, detail: `approval ${c.escalation.approval} was rejected by ${j.by}`, basis: { kind: 'approval-rejected', nonce } };
    case 'timeout':
      ctx.state.ceremonies.close(c, 'expired');
      return { verdict: 'DENY', reasonCode: 'APPROVAL_TIMEOUT', ruleIds: evaluated.ruleIds, detail: j.message, basis: { kind: 'approval-timeout', nonce } };
    case 'pending':
      return { ...evaluated, detail: j.message, basis: { kind: 'approval-pending', nonce }, ceremony: c, ...(j.retryAfterMs !== undefined ? { retryAfterMs: j.retryAfterMs } : {}) };
    case 'granted': {
      const consumed = ctx.policy.status === 'ready' && ctx.input ? consumptionFor(ctx.policy.bundle, ctx.input) : 'no policy';
      if (typeof consumed === 'string') return { verdict: 'DENY', reasonCode: 'BUDGET_ERROR', ruleIds: [], detail: consumed };
      const granted: Adjudication = {
        ...evaluated,
        verdict: 'ALLOW',
        reasonCode: 'APPROVAL_GRANTED',
        detail: `approval ${c.escalation.approval} granted by ${j.approvals.length} approver(s); allowed once`,
        basis: { kind: 'approved', nonce, decision: c.decision!, approvals: j.approvals },
      };
      const out = reserve(ctx, granted, consumed, key);
      if (out.verdict === 'ALLOW') ctx.state.ceremonies.close(c, 'granted');
      return out;
    }
  }
}
