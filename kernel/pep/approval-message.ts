// What an approver signs: a domain-separated statement naming the escalated decision (its entry
// hash), the bundle that required the approval, the PEP's challenge nonce and the answer. The
// domain line keeps this signature from ever being valid as a note, checkpoint, bundle or DSSE
// signature, and the nonce keeps one ceremony's approval from being replayed in another.
import { fromBase64, toBase64, utf8 } from '../crypto/bytes.js';
import { ALG_ED25519, type VerifierKey } from '../crypto/keys.js';
import type { CryptoSuite, Ed25519Signer } from '../crypto/suite.js';
import type { HashRef } from '../contracts/node.js';

export const APPROVAL_DOMAIN = 'helm-approval/v1';

export type ApprovalVerdict = 'approve' | 'reject';

export interface ApprovalTarget {
  decision: HashRef;
  policyDigest: HashRef;
  nonce: string;
}

/** An approver's signed answer, as `helmctl approve` writes it and Pep.approve takes it. */
export interface ApprovalSubmission extends ApprovalTarget {
  /** The approver's key handle (name+8hex). */
  approver: string;
  verdict: ApprovalVerdict;
  /** Standard base64 of the 64-byte Ed25519 signature over approvalMessage. */
  signature: string;
}

/** UTF-8 of "helm-approval/v1\n<decision>\n<policyDigest>\n<nonce>\n<verdict>\n". */
export function approvalMessage(t: ApprovalTarget, verdict: ApprovalVerdict): Uint8Array {
  return utf8(`${APPROVAL_DOMAIN}\n${t.decision}\n${t.policyDigest}\n${t.nonce}\n${verdict}\n`);
}

export function signApproval(t: ApprovalTarget, signer: Ed25519Signer & { readonly verifier: VerifierKey }, verdict: ApprovalVerdict = 'approve'): ApprovalSubmission {
  return { decision: t.decision, policyDigest: t.policyDigest, nonce: t.nonce, approver: signer.verifier.handle, verdict, signature: toBase64(signer.sign(approvalMessage(t, verdict))) };
}

const HASH = /^sha256:[0-9a-f]{64}$/;
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const HANDLE = /^[^+\s]+\+[0-9a-f]{8}$/;

/** Shape check of a submission; returns the problem, or null when it is well formed. */
export function submissionProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'an approval must be an object';
  const s = v as Record<string, unknown>;
  const extra = Object.keys(s).filter((k) => !['decision', 'policyDigest', 'nonce', 'approver', 'verdict', 'signature'].includes(k));
  if (extra.length) return `unknown field ${extra[0]}`;
  if (typeof s.decision !== 'string' || !HASH.test(s.decision)) return 'decision must be the entry hash sha256:<64 hex> of the escalated decision';
  if (typeof s.policyDigest !== 'string' || !HASH.test(s.policyDigest)) return 'policyDigest must be sha256:<64 hex>';
  if (typeof s.nonce !== 'string' || !NONCE.test(s.nonce)) return 'nonce must be the challenge nonce (16 to 128 base64url characters)';
  if (typeof s.approver !== 'string' || !HANDLE.test(s.approver)) return 'approver must be a key handle name+8hex';
  if (s.verdict !== 'approve' && s.verdict !== 'reject') return 'verdict must be approve or reject';
  if (typeof s.signature !== 'string') return 'signature must be base64';
  try {
    if (fromBase64(s.signature).length !== 64) return 'signature must be 64 bytes';
  } catch (e) {
    return `signature: ${(e as Error).message}`;
  }
  return null;
}

/** Verifies the signature under one approver key (Ed25519 signed-note keys only). */
export function verifyApproval(s: ApprovalSubmission, key: VerifierKey, suite: CryptoSuite): boolean {
  if (key.alg !== ALG_ED25519 || key.handle !== s.approver) return false;
  let sig: Uint8Array;
  try {
    sig = fromBase64(s.signature);
  } catch {
    return false;
  }
  return sig.length === 64 && suite.verifyEd25519(key.publicKey, approvalMessage(s, s.verdict), sig);
}
