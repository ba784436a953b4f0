// Bundle trust: a detached Ed25519 signature over a domain-separated statement of the bundle's
// contentHash, by a key that is a trust root and not revoked. The field names contentHash,
// signature and signerKeyId match the upstream CRD so the operator passes them through as is.
import { fromBase64, toBase64, utf8 } from '../crypto/bytes.js';
import { ALG_ED25519, type VerifierKey } from '../crypto/keys.js';
import type { CryptoSuite, Ed25519Signer } from '../crypto/suite.js';
import { bundleContentHash, BundleError, type HashRef } from './bundle-parse.js';

export const BUNDLE_SIGNATURE_DOMAIN = 'helm-policy-bundle/v1';

export interface BundleSignature {
  contentHash: HashRef;
  /** Standard base64 of the 64-byte Ed25519 signature. */
  signature: string;
  /** The signer's signed-note key handle, name+8hex. */
  signerKeyId: string;
}

export interface BundleTrust {
  readonly roots: readonly VerifierKey[];
  /** Key handles (name+8hex) whose signatures are no longer accepted. */
  readonly revoked: readonly string[];
}

export type BundleTrustCode = 'BUNDLE_MISSING' | 'BUNDLE_INVALID' | 'BUNDLE_UNSIGNED' | 'SIGNATURE_INVALID' | 'SIGNER_REVOKED' | 'SIGNER_UNTRUSTED' | 'HASH_MISMATCH';

export type BundleVerification =
  | { readonly ok: true; readonly contentHash: HashRef; readonly signer: VerifierKey }
  | { readonly ok: false; readonly code: BundleTrustCode; readonly message: string; readonly contentHash: HashRef | null };

/** The signed message: UTF-8 of "helm-policy-bundle/v1\n<contentHash>\n". */
export function bundleSignatureMessage(contentHash: string): Uint8Array {
  return utf8(`${BUNDLE_SIGNATURE_DOMAIN}\n${contentHash}\n`);
}

export function signBundle(doc: unknown, signer: Ed25519Signer & { readonly verifier: VerifierKey }, suite: CryptoSuite): BundleSignature {
  if (signer.verifier.alg !== ALG_ED25519) throw new BundleError('ERR_BUNDLE_LINT', `bundle signing key ${signer.verifier.handle} is not a plain Ed25519 signed-note key`);
  const contentHash = bundleContentHash(doc, suite);
  return { contentHash, signature: toBase64(signer.sign(bundleSignatureMessage(contentHash))), signerKeyId: signer.verifier.handle };
}

const HASH_RE = /^sha256:[0-9a-f]{64}$/;
const HANDLE_RE = /^[^+\s]+\+[0-9a-f]{8}$/;

function fail(code: BundleTrustCode, message: string, contentHash: HashRef | null): BundleVerification {
  return { ok: false, code, message, contentHash };
}

/**
 * Checks, in this order: a bundle is present and canonicalizable; a signature object is present
 * and well formed; it names this bundle's hash; its signer is not revoked; its signer is a trust
 * root; the Ed25519 signature verifies. Never throws: every failure is a coded result.
 */
export function verifyBundle(bundle: unknown, sig: unknown, trust: BundleTrust, suite: CryptoSuite): BundleVerification {
  if (bundle === undefined || bundle === null) return fail('BUNDLE_MISSING', 'no policy bundle', null);
  let contentHash: HashRef;
  try {
    contentHash = bundleContentHash(bundle, suite);
  } catch (e) {
    return fail('BUNDLE_INVALID', (e as Error).message, null);
  }
  if (sig === undefined || sig === null) return fail('BUNDLE_UNSIGNED', 'the bundle has no signature', contentHash);
  const s = sig as Partial<Record<keyof BundleSignature, unknown>>;
  const keys = typeof sig === 'object' && !Array.isArray(sig) ? Object.keys(sig) : [];
  if (keys.length !== 3 || typeof s.contentHash !== 'string' || typeof s.signature !== 'string' || typeof s.signerKeyId !== 'string') {
    return fail('SIGNATURE_INVALID', 'signature object must be exactly {contentHash, signature, signerKeyId} strings', contentHash);
  }
  if (!HASH_RE.test(s.contentHash)) return fail('SIGNATURE_INVALID', 'signature contentHash is not sha256:<64 hex>', contentHash);
  if (!HANDLE_RE.test(s.signerKeyId)) return fail('SIGNATURE_INVALID', 'signerKeyId is not a key handle name+8hex', contentHash);
  let sigBytes: Uint8Array;
  try {
    sigBytes = fromBase64(s.signature);
  } catch (e) {
    return fail('SIGNATURE_INVALID', `signature: ${(e as Error).message}`, contentHash);
  }
  if (sigBytes.length !== 64) return fail('SIGNATURE_INVALID', 'signature is not 64 bytes', contentHash);
  if (s.contentHash !== contentHash) return fail('HASH_MISMATCH', `signature covers ${s.contentHash}, the bundle hashes to ${contentHash}`, contentHash);
  if (trust.revoked.includes(s.signerKeyId)) return fail('SIGNER_REVOKED', `signer ${s.signerKeyId} is revoked`, contentHash);
  const candidates = trust.roots.filter((k) => k.handle === s.signerKeyId && k.alg === ALG_ED25519);
  if (candidates.length === 0) return fail('SIGNER_UNTRUSTED', `signer ${s.signerKeyId} is not a trust root`, contentHash);
  const message = bundleSignatureMessage(contentHash);
  const signer = candidates.find((k) => suite.verifyEd25519(k.publicKey, message, sigBytes));
  if (!signer) return fail('SIGNATURE_INVALID', `signature by ${s.signerKeyId} does not verify`, contentHash);
  return { ok: true, contentHash, signer };
}
