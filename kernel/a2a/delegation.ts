// Delegation tokens (docs/spec/a2a.md §4): a delegator's sidecar signs, for one audience, the
// scope it hands on (skills, tools, budget) until an expiry, bound to the grant it holds that
// scope under and to the decision that allowed the delegation. A token received under another
// token embeds it as `parent`, so a chain is verified link by link: each link is signed by the
// audience of the one before and asks for no more than it, so no chain widens authority.
import { utf8 } from '../crypto/bytes.js';
import { jcsSignedString } from '../crypto/jcs.js';
import type { VerifierKey } from '../crypto/keys.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { fromB64u, toB64u } from './b64url.js';
import { isObject, keysProblem, refuse, type A2aResult } from './refusal.js';
import { readScope, widening, type Scope } from './scope.js';

export const DELEGATION_VERSION = 'helm-a2a-delegation/v1';
export const MAX_CHAIN_DEPTH = 8;

/** A decision in another log: what a cross-log parent names (docs/spec/receipt.md). */
export interface DecisionRef {
  origin: string;
  index: number;
  hash: `sha256:${string}`;
  lamport: number;
}

export interface DelegationToken {
  v: typeof DELEGATION_VERSION;
  jti: string;
  /** Handle of the delegator's A2A key (the signer). */
  iss: string;
  /** Handle of the delegatee's A2A key. */
  aud: string;
  /** The delegator's principal. */
  sub: string;
  scope: Scope;
  iat: string;
  exp: string;
  /** The delegator's grant (bundle id and contentHash) the scope is held under. */
  grant: { id: string; policyDigest: string };
  /** The delegator's decision that allowed this delegation. */
  decision: DecisionRef;
  parent: DelegationToken | null;
  sig: string;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HANDLE = /^[^+\s]{1,128}\+[0-9a-f]{8}$/;
const HASH = /^sha256:[0-9a-f]{64}$/;

function instantMs(s: unknown): number | null {
  if (typeof s !== 'string' || !INSTANT.test(s)) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) && new Date(t).toISOString() === s ? t : null;
}

/** The bytes a token's signature covers. */
export function delegationMessage(t: Omit<DelegationToken, 'sig'>): Uint8Array {
  return utf8(`${DELEGATION_VERSION}\n${jcsSignedString(t)}`);
}

export interface MintInput {
  signer: { verifier: VerifierKey; sign(m: Uint8Array): Uint8Array };
  aud: string;
  sub: string;
  scope: Scope;
  nowMs: number;
  ttlSeconds: number;
  grant: { id: string; policyDigest: string };
  decision: DecisionRef;
  parent: DelegationToken | null;
  /** 16 random bytes (injected). */
  jti: Uint8Array;
}

export function mintDelegation(m: MintInput): DelegationToken {
  let expMs = m.nowMs + m.ttlSeconds * 1000;
  // A child never outlives its parent.
  if (m.parent) expMs = Math.min(expMs, Date.parse(m.parent.exp));
  const body: Omit<DelegationToken, 'sig'> = {
    v: DELEGATION_VERSION,
    jti: toB64u(m.jti),
    iss: m.signer.verifier.handle,
    aud: m.aud,
    sub: m.sub,
    scope: { skills: [...new Set(m.scope.skills)].sort(), tools: [...new Set(m.scope.tools)].sort(), budget: m.scope.budget },
    iat: new Date(m.nowMs).toISOString(),
    exp: new Date(expMs).toISOString(),
    grant: { ...m.grant },
    decision: { ...m.decision },
    parent: m.parent,
  };
  return { ...body, sig: toB64u(m.signer.sign(delegationMessage(body))) };
}

export interface DelegationTrust {
  /** Keys of issuers this side knows (callers and upstream delegators), by handle. */
  key(handle: string): VerifierKey | null;
  revoked: ReadonlySet<string>;
  nowMs: number;
  /** The leaf's issuer must be the authenticated caller... */
  expectIss: string;
  /** ...and its audience this side's own key. */
  expectAud: string;
  suite: CryptoSuite;
  maxDepth?: number;
}

export interface VerifiedDelegation {
  /** The leaf's scope (every link is within its parent's). */
  scope: Scope;
  /** Leaf first. */
  chain: DelegationToken[];
  /** The principal at the root of the chain. */
  rootSub: string;
}

/** Shape of one link (the parent is checked as its own link). */
function linkProblem(t: Record<string, unknown>): string | null {
  const k = keysProblem(t, ['v', 'jti', 'iss', 'aud', 'sub', 'scope', 'iat', 'exp', 'grant', 'decision', 'parent', 'sig']);
  if (k) return k;
  if (t.v !== DELEGATION_VERSION) return `v must be ${DELEGATION_VERSION}`;
  if (typeof t.jti !== 'string' || !/^[A-Za-z0-9_-]{16,64}$/.test(t.jti)) return 'jti must be 16 to 64 base64url characters';
  if (typeof t.iss !== 'string' || !HANDLE.test(t.iss)) return 'iss must be a key handle name+8hex';
  if (typeof t.aud !== 'string' || !HANDLE.test(t.aud)) return 'aud must be a key handle name+8hex';
  if (typeof t.sub !== 'string' || t.sub.length < 1 || t.sub.length > 512) return 'sub must be a principal id of 1 to 512 characters';
  if (instantMs(t.iat) === null || instantMs(t.exp) === null) return 'iat and exp must be RFC 3339 UTC instants with milliseconds';
  const g = t.grant;
  if (!isObject(g) || keysProblem(g, ['id', 'policyDigest']) || typeof g.id !== 'string' || g.id.length > 128 || typeof g.policyDigest !== 'string' || !HASH.test(g.policyDigest)) return 'grant must be {id, policyDigest sha256:<hex>}';
  const d = t.decision;
  if (!isObject(d) || keysProblem(d, ['origin', 'index', 'hash', 'lamport']) || typeof d.origin !== 'string' || d.origin.length > 256 || !Number.isSafeInteger(d.index) || (d.index as number) < 0 || typeof d.hash !== 'string' || !HASH.test(d.hash) || !Number.isSafeInteger(d.lamport) || (d.lamport as number) < 1) {
    return 'decision must be {origin, index, hash, lamport} of the delegator decision';
  }
  if (t.parent !== null && !isObject(t.parent)) return 'parent must be a token or null';
  if (typeof t.sig !== 'string') return 'sig must be base64url';
  return null;
}

/**
 * Verifies a token and its whole chain. Refusals: A2A_DELEGATION_INVALID (shape, signature,
 * unknown or revoked issuer, audience, broken chain, too deep), A2A_DELEGATION_EXPIRED (any link
 * past its exp or not yet valid), A2A_DELEGATION_EXCEEDS_GRANT (a link asks for more than its
 * parent, or outlives it).
 */
export function verifyDelegation(raw: unknown, trust: DelegationTrust): A2aResult<VerifiedDelegation> {
  if (!isObject(raw)) return refuse('A2A_DELEGATION_INVALID', 'the delegation token must be an object');
  const chain: DelegationToken[] = [];
  const scopes: Scope[] = [];
  let cur: unknown = raw;
  const max = trust.maxDepth ?? MAX_CHAIN_DEPTH;
  while (cur !== null) {
    const at = chain.length === 0 ? 'token' : `token${'.parent'.repeat(chain.length)}`;
    if (chain.length >= max) return refuse('A2A_DELEGATION_INVALID', `the delegation chain is deeper than ${max} links`);
    if (!isObject(cur)) return refuse('A2A_DELEGATION_INVALID', `${at} must be an object`);
    const p = linkProblem(cur);
    if (p) return refuse('A2A_DELEGATION_INVALID', `${at}: ${p}`);
    const scope = readScope(cur.scope, `${at}.scope`);
    if (typeof scope === 'string') return refuse('A2A_DELEGATION_INVALID', scope);
    const t = cur as unknown as DelegationToken;
    const key = trust.key(t.iss);
    if (!key) return refuse('A2A_DELEGATION_INVALID', `${at}: issuer ${t.iss} is not a key this side trusts (a2a.inbound.callers or a2a.delegators)`);
    if (trust.revoked.has(t.iss)) return refuse('A2A_DELEGATION_INVALID', `${at}: issuer ${t.iss} is revoked`);
    let sig: Uint8Array;
    let msg: Uint8Array;
    try {
      sig = fromB64u(t.sig);
      const { sig: _s, ...body } = t;
      msg = delegationMessage(body);
    } catch (e) {
      return refuse('A2A_DELEGATION_INVALID', `${at}: ${(e as Error).message}`);
    }
    if (sig.length !== 64 || !trust.suite.verifyEd25519(key.publicKey, msg, sig)) return refuse('A2A_DELEGATION_INVALID', `${at}: the signature by ${t.iss} does not verify`);
    const iat = instantMs(t.iat)!;
    const exp = instantMs(t.exp)!;
    if (exp <= iat) return refuse('A2A_DELEGATION_INVALID', `${at}: exp is not after iat`);
    if (trust.nowMs >= exp) return refuse('A2A_DELEGATION_EXPIRED', `${at} expired at ${t.exp}`);
    if (trust.nowMs < iat - 300_000) return refuse('A2A_DELEGATION_EXPIRED', `${at} is not valid before ${t.iat}`);
    const child = chain[chain.length - 1];
    if (child) {
      if (child.iss !== t.aud) return refuse('A2A_DELEGATION_INVALID', `${at} was issued to ${t.aud}, but its child is signed by ${child.iss}`);
      const wider = widening(scopes[scopes.length - 1]!, scope);
      if (wider.length) return refuse('A2A_DELEGATION_EXCEEDS_GRANT', `a delegation link asks for more than its parent holds: ${wider.join(', ')}`);
      if (instantMs(child.exp)! > exp) return refuse('A2A_DELEGATION_EXCEEDS_GRANT', `a delegation link outlives its parent (${child.exp} > ${t.exp})`);
    }
    chain.push(t);
    scopes.push(scope);
    cur = t.parent;
  }
  const leaf = chain[0]!;
  if (leaf.iss !== trust.expectIss) return refuse('A2A_DELEGATION_INVALID', `the token is signed by ${leaf.iss}, not by the calling agent ${trust.expectIss}`);
  if (leaf.aud !== trust.expectAud) return refuse('A2A_DELEGATION_INVALID', `the token is issued to ${leaf.aud}, not to this agent ${trust.expectAud}`);
  return { ok: true, scope: scopes[0]!, chain, rootSub: chain[chain.length - 1]!.sub };
}
