// Agent Card signatures as A2A defines them (spec §8.4): each entry of `signatures` is a JWS in
// flattened JSON form {protected, signature, header?} over the RFC 8785 JCS of the card without
// `signatures`. HELM accepts EdDSA (Ed25519) only, with `kid` the handle (name+8hex) of a card key
// the bundle trusts for that agent; a key on the revocation list is refused even when it verifies.
import { fromUtf8, utf8 } from '../crypto/bytes.js';
import { jcsString } from '../crypto/jcs.js';
import type { VerifierKey } from '../crypto/keys.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { fromB64u, toB64u } from './b64url.js';
import { isObject, refuse, type A2aResult } from './refusal.js';

export interface CardSignature {
  protected: string;
  signature: string;
  header?: Record<string, unknown>;
}

export const MAX_CARD_SIGNATURES = 8;

/** The JWS payload: JCS of the card with `signatures` removed. */
export function cardPayload(card: Record<string, unknown>): string {
  const { signatures: _s, ...rest } = card;
  return jcsString(rest);
}

/** Signs a card (EdDSA, kid = the key's handle) and returns it with the signature appended. */
export function signCard(card: Record<string, unknown>, key: { verifier: VerifierKey; sign(m: Uint8Array): Uint8Array }): Record<string, unknown> {
  const header = toB64u(utf8(JSON.stringify({ alg: 'EdDSA', kid: key.verifier.handle, typ: 'JOSE' })));
  const input = `${header}.${toB64u(utf8(cardPayload(card)))}`;
  const sig: CardSignature = { protected: header, signature: toB64u(key.sign(utf8(input))) };
  const prior = Array.isArray(card.signatures) ? (card.signatures as CardSignature[]) : [];
  return { ...card, signatures: [...prior, sig] };
}

export interface CardTrust {
  /** Keys trusted to sign this agent's card. */
  readonly keys: readonly VerifierKey[];
  /** Handles no longer accepted. */
  readonly revoked: ReadonlySet<string>;
}

/**
 * Accepts the card when one signature verifies under a trusted, unrevoked key. Refusals:
 * A2A_CARD_KEY_REVOKED when the only verifying signatures are by revoked keys, A2A_CARD_UNTRUSTED
 * otherwise (unsigned, malformed, unknown key, bad signature).
 */
export function verifyCard(card: unknown, trust: CardTrust, suite: CryptoSuite): A2aResult<{ kid: string }> {
  if (!isObject(card)) return refuse('A2A_CARD_UNTRUSTED', 'the agent card must be a JSON object');
  const sigs = card.signatures;
  if (!Array.isArray(sigs) || sigs.length === 0) return refuse('A2A_CARD_UNTRUSTED', 'the agent card is unsigned: sign it (JWS, EdDSA) with a key the bundle lists in a2a.agents.<id>.cardKeys');
  if (sigs.length > MAX_CARD_SIGNATURES) return refuse('A2A_CARD_UNTRUSTED', `the agent card carries more than ${MAX_CARD_SIGNATURES} signatures`);
  let payload: string;
  try {
    payload = toB64u(utf8(cardPayload(card)));
  } catch (e) {
    return refuse('A2A_CARD_UNTRUSTED', `the agent card cannot be canonicalized: ${(e as Error).message}`);
  }
  const problems: string[] = [];
  let revoked: string | null = null;
  for (const [i, s] of sigs.entries()) {
    if (!isObject(s) || typeof s.protected !== 'string' || typeof s.signature !== 'string') {
      problems.push(`signatures[${i}] is not {protected, signature}`);
      continue;
    }
    let header: unknown;
    let sig: Uint8Array;
    try {
      header = JSON.parse(fromUtf8(fromB64u(s.protected)));
      sig = fromB64u(s.signature);
    } catch {
      problems.push(`signatures[${i}] is not base64url JSON`);
      continue;
    }
    if (!isObject(header) || header.alg !== 'EdDSA' || typeof header.kid !== 'string') {
      problems.push(`signatures[${i}]: protected header must have alg EdDSA and a kid`);
      continue;
    }
    // RFC 7515 §4.1.11: a critical extension we do not understand makes the signature invalid.
    if (header.crit !== undefined) {
      problems.push(`signatures[${i}]: crit is not supported`);
      continue;
    }
    const key = trust.keys.find((k) => k.handle === header.kid);
    if (!key) {
      problems.push(`signatures[${i}]: kid ${String(header.kid).slice(0, 80)} is not a card key of this agent`);
      continue;
    }
    if (sig.length !== 64 || !suite.verifyEd25519(key.publicKey, utf8(`${s.protected}.${payload}`), sig)) {
      problems.push(`signatures[${i}]: the signature by ${key.handle} does not verify`);
      continue;
    }
    if (trust.revoked.has(key.handle)) {
      revoked = key.handle;
      continue;
    }
    return { ok: true, kid: key.handle };
  }
  if (revoked !== null) return refuse('A2A_CARD_KEY_REVOKED', `the agent card is signed by ${revoked}, which is revoked (a2a.revoked)`);
  return refuse('A2A_CARD_UNTRUSTED', `no signature of the agent card verifies under a trusted key: ${problems.join('; ')}`);
}

/** The skill ids the card declares. */
export function cardSkills(card: Record<string, unknown>): string[] {
  const skills = Array.isArray(card.skills) ? card.skills : [];
  return skills.flatMap((s) => (isObject(s) && typeof s.id === 'string' ? [s.id] : []));
}
