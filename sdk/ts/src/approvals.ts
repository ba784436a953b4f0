// Answering approvals: list the sidecar's pending ceremonies (admin API, docs/sidecar.md
// §Approvals API), sign the domain-separated message of docs/spec/pep.md §5 with an approver's
// Ed25519 key file (PRIVATE+KEY+name+keyid+base64, as `helmctl keygen` writes it) and submit it.
import { readFile } from 'node:fs/promises';
import { nodeSigner } from '../../../kernel/crypto/node.js';
import { signingKeyFromText, type SigningKey } from '../../../kernel/crypto/signing-key.js';
import { approvalMessage, signApproval, type ApprovalSubmission, type ApprovalVerdict } from '../../../kernel/pep/approval-message.js';
import type { Challenge } from './governance.js';

export { approvalMessage, type ApprovalSubmission, type ApprovalVerdict };

export interface PendingApproval extends Challenge {
  callId: string;
  tool: string;
  principal: string;
  policyDigest: string;
  approvals: unknown[];
}

export type ApproverKey = SigningKey;

/** An approver key from the text of a key file; its key id is checked against the key. */
export function approverKey(text: string): ApproverKey {
  try {
    return signingKeyFromText(text.trim(), nodeSigner);
  } catch (e) {
    throw new ApprovalError('ERR_APPROVER_KEY', 0, `approver key file: ${(e as Error).message} (expected one line PRIVATE+KEY+name+keyid+base64, as helmctl keygen writes)`);
  }
}

export async function readApproverKey(path: string): Promise<ApproverKey> {
  return approverKey(await readFile(path, 'utf8'));
}

/** The signed answer to one ceremony, ready to POST. */
export function signPending(p: Pick<PendingApproval, 'decision' | 'policyDigest' | 'nonce'>, key: ApproverKey, verdict: ApprovalVerdict = 'approve'): ApprovalSubmission {
  return signApproval({ decision: p.decision as `sha256:${string}`, policyDigest: p.policyDigest as `sha256:${string}`, nonce: p.nonce }, key, verdict);
}

export class ApprovalError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ApprovalError';
  }
}

export interface Accepted {
  accepted: true;
  receipt: string;
  index: number;
  approvals: number;
  quorum: number;
  allowedFrom: string | null;
}

/** The admin API of one sidecar (no authentication of its own: keep it on loopback). */
export class ApprovalsClient {
  private readonly base: string;
  constructor(
    adminUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.base = adminUrl.replace(/\/+$/, '');
  }

  private async json(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await this.fetchImpl(`${this.base}${path}`, init);
    const text = await res.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ApprovalError('ERR_APPROVALS_RESPONSE', res.status, `${path} answered ${res.status} with a body that is not JSON`);
    }
    return { status: res.status, body };
  }

  async list(): Promise<PendingApproval[]> {
    const { status, body } = await this.json('/v1/approvals');
    if (status !== 200 || !Array.isArray(body.pending)) throw new ApprovalError(String(body.code ?? 'ERR_APPROVALS_RESPONSE'), status, `GET /v1/approvals answered ${status}`);
    return body.pending as PendingApproval[];
  }

  /** One pending ceremony, or null when the sidecar does not know (or no longer lists) the nonce. */
  async get(nonce: string): Promise<PendingApproval | null> {
    const { status, body } = await this.json(`/v1/approvals/${encodeURIComponent(nonce)}`);
    if (status === 404) return null;
    if (status !== 200) throw new ApprovalError(String(body.code ?? 'ERR_APPROVALS_RESPONSE'), status, `GET /v1/approvals/${nonce} answered ${status}`);
    return body as unknown as PendingApproval;
  }

  /** Submits a signed answer; a refusal throws ApprovalError with the sidecar's code. */
  async submit(s: ApprovalSubmission): Promise<Accepted> {
    const { status, body } = await this.json('/v1/approvals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s) });
    if (status !== 201 || body.accepted !== true) throw new ApprovalError(String(body.code ?? 'ERR_APPROVALS_RESPONSE'), status, String(body.message ?? `POST /v1/approvals answered ${status}`));
    return body as unknown as Accepted;
  }

  /** Signs and submits an answer to the pending ceremony `nonce`. */
  async answer(nonce: string, key: ApproverKey, verdict: ApprovalVerdict = 'approve'): Promise<Accepted> {
    const p = await this.get(nonce);
    if (!p) throw new ApprovalError('ERR_APPROVAL_UNKNOWN_NONCE', 404, `no pending approval ${nonce}`);
    return this.submit(signPending(p, key, verdict));
  }
}
