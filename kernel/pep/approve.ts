// Accepting one approver's answer: the submission must name an open ceremony by its nonce and
// escalated decision, arrive inside the window on the PEP's own clock, come from a key the bundle
// that escalated lists, carry a valid signature, and not repeat an answer. Each accepted answer
// becomes an `approval` node (parent: the escalated decision) carrying the approver's signature.
import type { CryptoSuite } from '../crypto/suite.js';
import { formatInstant } from '../guardian/decision-input.js';
import type { AppendedNode, ProofGraphWriter } from '../proofgraph/graph-writer.js';
import { submissionProblem, verifyApproval, type ApprovalSubmission } from './approval-message.js';
import type { BundleShelf } from './bundles.js';
import { acceptProblem, quorumAt, type AcceptRefusal, type CeremonyApproval } from './ceremony.js';
import type { PepState } from './state.js';

export type ApprovalRefusalCode = AcceptRefusal | 'ERR_APPROVAL_MALFORMED' | 'ERR_APPROVAL_BAD_SIGNATURE' | 'ERR_APPROVAL_BUNDLE_UNAVAILABLE' | 'ERR_APPROVAL_UNRECORDED';

export type ApprovalResult =
  | {
      readonly accepted: true;
      readonly node: AppendedNode;
      /** Recorded approvals of the ceremony, and how many it needs. */
      readonly approvals: number;
      readonly quorum: number;
      /** When the retried call may run (quorum time + hold), once quorum is reached. */
      readonly allowedFrom: string | null;
    }
  | { readonly accepted: false; readonly code: ApprovalRefusalCode; readonly message: string };

export interface ApprovalContext {
  readonly state: PepState;
  readonly writer: ProofGraphWriter;
  readonly bundles: BundleShelf;
  readonly suite: CryptoSuite;
  /** The PEP's clock: approvals never carry their own time. */
  readonly now: () => number;
  readonly refusal: () => string | null;
}

const refuse = (code: ApprovalRefusalCode, message: string): ApprovalResult => ({ accepted: false, code, message });

export async function approve(ctx: ApprovalContext, raw: unknown): Promise<ApprovalResult> {
  const problem = submissionProblem(raw);
  if (problem) return refuse('ERR_APPROVAL_MALFORMED', problem);
  const s = raw as ApprovalSubmission;
  const c = ctx.state.ceremonies.nonce(s.nonce);
  if (!c) return refuse('ERR_APPROVAL_UNKNOWN_NONCE', `no escalation issued the challenge nonce ${s.nonce}`);
  const bundle = await ctx.bundles.get(c.policyDigest);
  // From here to the append everything runs in one tick: two answers cannot both pass the checks.
  const down = ctx.refusal();
  if (down) return refuse('ERR_APPROVAL_UNRECORDED', down);
  const nowMs = ctx.now();
  const p = acceptProblem(c, s, nowMs);
  if (p) return refuse(p.code, p.message);
  if (!bundle) return refuse('ERR_APPROVAL_BUNDLE_UNAVAILABLE', `bundle ${c.policyDigest}, which lists the approvers, is not stored`);
  const key = bundle.approvals.get(c.escalation.approval)?.approvers.find((k) => k.handle === s.approver);
  if (!key) return refuse('ERR_APPROVAL_WRONG_KEY', `bundle ${c.policyDigest} has no approver key ${s.approver} for ${c.escalation.approval}`);
  if (!verifyApproval(s, key, ctx.suite)) return refuse('ERR_APPROVAL_BAD_SIGNATURE', `the signature does not verify under ${key.handle}`);

  const entry: CeremonyApproval = { approver: s.approver, verdict: s.verdict, acceptedAtMs: nowMs, node: null };
  c.approvals.push(entry);
  const body = { callId: c.callId, decision: c.decision!, approver: s.approver, verdict: s.verdict, nonce: s.nonce, policyDigest: s.policyDigest, signature: s.signature, acceptedAt: formatInstant(nowMs) };
  let node: AppendedNode;
  try {
    node = await ctx.writer.append('approval', body, { parents: [{ hash: c.decision! }] });
  } catch (e) {
    c.approvals.splice(c.approvals.indexOf(entry), 1);
    return refuse('ERR_APPROVAL_UNRECORDED', `the approval could not be recorded: ${(e as Error).message}`);
  }
  entry.node = node.entryHash;
  const q = quorumAt(c);
  return {
    accepted: true,
    node,
    approvals: c.approvals.filter((a) => a.verdict === 'approve' && a.node !== null).length,
    quorum: c.escalation.quorum,
    allowedFrom: q === null ? null : formatInstant(q + c.escalation.holdSeconds * 1000),
  };
}
