// Signed A2A requests (docs/spec/a2a.md §3): the calling sidecar signs, with its A2A key, the HTTP
// method, the path, the SHA-256 of the body and an auth object {keyid, aud, ts, nonce, parent,
// delegation}. The callee authenticates the caller by that signature, never by a header the
// caller could simply set; the timestamp must be within the skew and the nonce never seen before.
import { fromUtf8, toHex, utf8 } from '../crypto/bytes.js';
import { jcsSignedString } from '../crypto/jcs.js';
import type { VerifierKey } from '../crypto/keys.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { fromB64u, toB64u } from './b64url.js';
import type { DecisionRef, DelegationToken } from './delegation.js';
import type { NonceStore } from './nonces.js';
import { isObject, keysProblem, refuse, type A2aResult } from './refusal.js';

export const REQUEST_VERSION = 'helm-a2a-request/v1';
export const AUTH_HEADER = 'helm-a2a-auth';
export const SIGNATURE_HEADER = 'helm-a2a-signature';

export interface RequestAuth {
  /** Handle of the caller's A2A key. */
  keyid: string;
  /** Handle of the callee's A2A key (the card signer): a request signed for one agent is refused by another. */
  aud: string;
  ts: string;
  nonce: string;
  /** The caller's decision that allowed this request (the callee's decision cites it). */
  parent: DecisionRef | null;
  delegation: DelegationToken | null;
}

/** What a verifier needs of one request: the evidence the decision input carries. */
export interface SignedRequest {
  method: string;
  path: string;
  bodyDigest: string;
  auth: RequestAuth;
  signature: string;
}

export function bodyDigest(suite: CryptoSuite, body: Uint8Array): string {
  return `sha256:${toHex(suite.sha256(body))}`;
}

export function requestMessage(method: string, path: string, digest: string, auth: RequestAuth): Uint8Array {
  return utf8(`${REQUEST_VERSION}\n${method}\n${path}\n${digest}\n${jcsSignedString(auth)}`);
}

/** The two headers a caller sends. */
export function signRequest(key: { sign(m: Uint8Array): Uint8Array }, method: string, path: string, digest: string, auth: RequestAuth): Record<string, string> {
  return { [AUTH_HEADER]: toB64u(utf8(jcsSignedString(auth))), [SIGNATURE_HEADER]: toB64u(key.sign(requestMessage(method, path, digest, auth))) };
}

const HANDLE = /^[^+\s]{1,128}\+[0-9a-f]{8}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Reads the headers into a SignedRequest (shape only; nothing is verified). */
export function readSignedRequest(method: string, path: string, digest: string, authHeader: unknown, sigHeader: unknown): A2aResult<{ request: SignedRequest }> {
  if (typeof authHeader !== 'string' || typeof sigHeader !== 'string') return refuse('A2A_CALLER_UNKNOWN', `the request is not signed: send ${AUTH_HEADER} and ${SIGNATURE_HEADER} (docs/spec/a2a.md §3)`);
  let auth: unknown;
  try {
    auth = JSON.parse(fromUtf8(fromB64u(authHeader)));
  } catch {
    return refuse('A2A_REQUEST_SIGNATURE_INVALID', `${AUTH_HEADER} is not base64url JSON`);
  }
  const p = authProblem(auth);
  if (p) return refuse('A2A_REQUEST_SIGNATURE_INVALID', `${AUTH_HEADER}: ${p}`);
  return { ok: true, request: { method, path, bodyDigest: digest, auth: auth as RequestAuth, signature: sigHeader } };
}

function authProblem(a: unknown): string | null {
  if (!isObject(a)) return 'must be an object';
  const k = keysProblem(a, ['keyid', 'aud', 'ts', 'nonce', 'parent', 'delegation']);
  if (k) return k;
  if (typeof a.keyid !== 'string' || !HANDLE.test(a.keyid)) return 'keyid must be a key handle name+8hex';
  if (typeof a.aud !== 'string' || !HANDLE.test(a.aud)) return 'aud must be a key handle name+8hex';
  if (typeof a.ts !== 'string' || !INSTANT.test(a.ts) || !Number.isFinite(Date.parse(a.ts))) return 'ts must be an RFC 3339 UTC instant with milliseconds';
  if (typeof a.nonce !== 'string' || !/^[A-Za-z0-9_-]{16,64}$/.test(a.nonce)) return 'nonce must be 16 to 64 base64url characters';
  if (a.parent !== null && !isObject(a.parent)) return 'parent must be a decision reference or null';
  if (a.delegation !== null && !isObject(a.delegation)) return 'delegation must be a token or null';
  return null;
}

export interface CallerTrust {
  /** The caller whose key has this handle, or null. */
  caller(handle: string): { id: string; key: VerifierKey } | null;
  revoked: ReadonlySet<string>;
  /** This side's own key handle (the expected audience). */
  self: string;
  nowMs: number;
  maxSkewMs: number;
  suite: CryptoSuite;
}

/**
 * Pure checks of a signed request: known, unrevoked caller (A2A_CALLER_UNKNOWN), audience and
 * signature (A2A_REQUEST_SIGNATURE_INVALID), timestamp within the skew (A2A_REQUEST_STALE).
 * Replay is checkNonce's job: it needs state.
 */
export function verifySignedRequest(r: SignedRequest, trust: CallerTrust): A2aResult<{ caller: string }> {
  const p = authProblem(r.auth);
  if (p) return refuse('A2A_REQUEST_SIGNATURE_INVALID', `auth: ${p}`);
  const c = trust.caller(r.auth.keyid);
  if (!c || trust.revoked.has(r.auth.keyid)) return refuse('A2A_CALLER_UNKNOWN', `key ${r.auth.keyid} is not a caller key this agent accepts${c ? ' (it is revoked)' : ''}: list it in a2a.inbound.callers`);
  if (r.auth.aud !== trust.self) return refuse('A2A_REQUEST_SIGNATURE_INVALID', `the request is addressed to ${r.auth.aud}, not to this agent ${trust.self}`);
  let sig: Uint8Array;
  let msg: Uint8Array;
  try {
    sig = fromB64u(r.signature);
    msg = requestMessage(r.method, r.path, r.bodyDigest, r.auth);
  } catch (e) {
    return refuse('A2A_REQUEST_SIGNATURE_INVALID', `signature: ${(e as Error).message}`);
  }
  if (sig.length !== 64 || !trust.suite.verifyEd25519(c.key.publicKey, msg, sig)) return refuse('A2A_REQUEST_SIGNATURE_INVALID', `the request signature by ${r.auth.keyid} does not verify over method, path, body digest and auth`);
  const skew = Math.abs(trust.nowMs - Date.parse(r.auth.ts));
  if (skew > trust.maxSkewMs) return refuse('A2A_REQUEST_STALE', `the request was signed at ${r.auth.ts}, ${Math.round(skew / 1000)}s from now (at most ${trust.maxSkewMs / 1000}s)`);
  return { ok: true, caller: c.id };
}

/** Records the nonce of a verified request: A2A_REQUEST_REPLAYED when it was already used. */
export function checkNonce(r: SignedRequest, trust: Pick<CallerTrust, 'nowMs' | 'maxSkewMs'>, nonces: NonceStore): A2aResult<object> {
  const expires = Date.parse(r.auth.ts) + trust.maxSkewMs + 1;
  if (nonces.seen(r.auth.keyid, r.auth.nonce, expires, trust.nowMs)) return refuse('A2A_REQUEST_REPLAYED', `nonce ${r.auth.nonce} of ${r.auth.keyid} was already used: a request is accepted once`);
  return { ok: true };
}

/** verifySignedRequest, then checkNonce: what the callee runs on every request. */
export function authenticateRequest(r: SignedRequest, trust: CallerTrust, nonces: NonceStore): A2aResult<{ caller: string }> {
  const v = verifySignedRequest(r, trust);
  if (!v.ok) return v;
  const n = checkNonce(r, trust, nonces);
  return n.ok ? v : n;
}
