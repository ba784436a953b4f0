// The escalations waiting for approvers, as the approvals API lists them. The PEP keeps its own
// ceremony state and stays the only judge of a submission; this book is a read model of the same
// facts, taken from the PEP's ceremonies as restored at start (so a restart still lists what is
// pending) and then from the outcomes the sidecar observes.
import { toHex, utf8 } from '../../kernel/crypto/bytes.js';
import { jcsString } from '../../kernel/crypto/jcs.js';
import type { CryptoSuite } from '../../kernel/crypto/suite.js';
import type { HashRef } from '../../kernel/contracts/node.js';
import type { Ceremony } from '../../kernel/pep/ceremony.js';
import { callKey, type ApprovalResult, type ApprovalSubmission, type EscalationRecord, type PepOutcome } from '../../kernel/pep/index.js';

export interface PendingApproval {
  nonce: string;
  callId: string;
  tool: string;
  principal: string;
  /** Entry hash of the ESCALATE decision: what approvers sign, with policyDigest and nonce. */
  decision: HashRef;
  policyDigest: HashRef;
  approval: string;
  approvers: string[];
  quorum: number;
  notBefore: string;
  expiresAt: string;
  approvals: Array<{ approver: string; verdict: 'approve' | 'reject'; receipt: HashRef }>;
}

interface Entry extends PendingApproval {
  key: string;
  expiresAtMs: number;
}

const CLOSING = new Set(['approved', 'approval-timeout', 'approval-rejected']);

type Body = Record<string, unknown>;

export class PendingApprovals {
  private readonly byNonce = new Map<string, Entry>();
  private readonly byKey = new Map<string, Entry>();

  constructor(private readonly suite: CryptoSuite) {}

  /**
   * From the PEP's own open ceremonies as restored at start (snapshot plus log tail), so a start
   * does not fold the whole log a second time.
   */
  static fromCeremonies(ceremonies: readonly Readonly<Ceremony>[], suite: CryptoSuite): PendingApprovals {
    const book = new PendingApprovals(suite);
    for (const c of ceremonies) {
      if (c.decision === null) continue;
      book.open(c.callKey, { callId: c.callId, tool: c.tool, principal: c.principal, decision: c.decision, policyDigest: c.policyDigest, escalation: c.escalation });
      for (const a of c.approvals) if (a.node !== null) book.addApproval(c.nonce, a.approver, a.verdict === 'reject' ? 'reject' : 'approve', a.node);
    }
    return book;
  }

  /** Records what one decision tells about ceremonies. `request` is what the surface handed the PEP. */
  observeDecision(request: unknown, o: PepOutcome): void {
    if (!o.recorded) return;
    const basis = o.basis;
    if (basis?.nonce !== undefined && CLOSING.has(basis.kind)) {
      this.close(basis.nonce);
      return;
    }
    const c = o.challenge;
    if (o.verdict !== 'ESCALATE' || !c || basis !== undefined || o.decision === null) return;
    const r = (typeof request === 'object' && request !== null ? request : {}) as Body;
    const principal = String((r.principal as Body | undefined)?.id ?? '');
    let argsText = '';
    try {
      argsText = jcsString(r.args);
    } catch {
      argsText = '';
    }
    const argsDigest: HashRef = `sha256:${toHex(this.suite.sha256(utf8(argsText)))}`;
    const tool = typeof r.tool === 'string' ? r.tool : '';
    const key = callKey(principal, tool, argsDigest, typeof r.idempotencyKey === 'string' ? r.idempotencyKey : null);
    const escalation: EscalationRecord = { approval: c.approval, approvers: [...c.approvers], quorum: c.quorum, nonce: c.nonce, notBefore: c.notBefore, expiresAt: c.expiresAt, timelockSeconds: 0, holdSeconds: 0, timeoutSeconds: 0 };
    this.open(key, { callId: c.callId, tool, principal, decision: c.decision, policyDigest: c.policyDigest, escalation });
  }

  observeApproval(s: ApprovalSubmission, r: ApprovalResult): void {
    if (r.accepted) this.addApproval(s.nonce, s.approver, s.verdict, r.node.entryHash);
  }

  /** Open ceremonies that are neither expired (at nowMs) nor answered with a rejection. */
  list(nowMs: number): PendingApproval[] {
    const out: PendingApproval[] = [];
    for (const e of this.byNonce.values()) {
      if (e.expiresAtMs <= nowMs) {
        this.drop(e);
        continue;
      }
      if (e.approvals.some((a) => a.verdict === 'reject')) continue;
      out.push(view(e));
    }
    return out;
  }

  get(nonce: string, nowMs: number): PendingApproval | null {
    return this.list(nowMs).find((e) => e.nonce === nonce) ?? null;
  }

  private open(key: string, f: { callId: string; tool: string; principal: string; decision: HashRef; policyDigest: HashRef; escalation: EscalationRecord }): void {
    const old = this.byKey.get(key);
    if (old) this.drop(old);
    const x = f.escalation;
    const e: Entry = {
      key,
      nonce: x.nonce,
      callId: f.callId,
      tool: f.tool,
      principal: f.principal,
      decision: f.decision,
      policyDigest: f.policyDigest,
      approval: x.approval,
      approvers: [...x.approvers],
      quorum: x.quorum,
      notBefore: x.notBefore,
      expiresAt: x.expiresAt,
      expiresAtMs: Date.parse(x.expiresAt),
      approvals: [],
    };
    this.byNonce.set(e.nonce, e);
    this.byKey.set(key, e);
  }

  private addApproval(nonce: string, approver: string, verdict: 'approve' | 'reject', receipt: HashRef): void {
    this.byNonce.get(nonce)?.approvals.push({ approver, verdict, receipt });
  }

  private close(nonce: string): void {
    const e = this.byNonce.get(nonce);
    if (e) this.drop(e);
  }

  private drop(e: Entry): void {
    this.byNonce.delete(e.nonce);
    if (this.byKey.get(e.key) === e) this.byKey.delete(e.key);
  }
}

function view(e: Entry): PendingApproval {
  const { key: _key, expiresAtMs: _exp, ...rest } = e;
  return { ...rest, approvers: [...rest.approvers], approvals: rest.approvals.map((a) => ({ ...a })) };
}
