// Verification of a PolicyBundle's content with the kernel's own code (docs/spec/policy-bundle.md
// section 2): parse, contentHash, signature against the operator's trust roots, then lint and
// compile, so the operator calls Active exactly what a sidecar will accept.
import { fromBase64, fromUtf8 } from '../../kernel/crypto/bytes.js';
import type { CryptoSuite } from '../../kernel/crypto/suite.js';
import { BundleError, canonicalBundleBytes, loadPolicy, parseBundleText, type BundleSignature, type BundleTrust, type BundleTrustCode } from '../../kernel/guardian/index.js';
import type { PolicyBundleSpec } from '../api/v1alpha1.js';

/** Condition reasons for the kernel's bundle trust codes (CamelCase, as Kubernetes reasons are). */
export const TRUST_REASONS: Record<BundleTrustCode, string> = {
  BUNDLE_MISSING: 'BundleMissing',
  BUNDLE_INVALID: 'BundleInvalid',
  BUNDLE_UNSIGNED: 'BundleUnsigned',
  SIGNATURE_INVALID: 'SignatureInvalid',
  HASH_MISMATCH: 'HashMismatch',
  SIGNER_UNTRUSTED: 'SignerUntrusted',
  SIGNER_REVOKED: 'SignerRevoked',
};

export type Verified = { ok: true; signature: BundleSignature; canonicalText: string; contentHash: string };
/** signature: whether the SignatureVerified condition is True, False or Unknown (not reached). */
export type Rejected = { ok: false; reason: string; message: string; signature: 'verified' | 'failed' | 'unchecked' };

export function signatureOf(spec: PolicyBundleSpec): BundleSignature {
  return { contentHash: spec.contentHash as BundleSignature['contentHash'], signature: spec.signature, signerKeyId: spec.signerKeyId };
}

/**
 * Checks that need no content: a malformed signature or key handle fails before anything is
 * fetched (the same checks verifyBundle makes, so the outcome does not depend on the source).
 */
export function precheckSignature(spec: PolicyBundleSpec): Rejected | null {
  let bytes: Uint8Array | null = null;
  try {
    bytes = fromBase64(spec.signature);
  } catch {
    bytes = null;
  }
  if (!bytes || bytes.length !== 64) return { ok: false, reason: 'SignatureInvalid', message: 'spec.signature is not a standard base64 64-byte Ed25519 signature', signature: 'failed' };
  if (!/^[^+\s]+\+[0-9a-f]{8}$/.test(spec.signerKeyId)) return { ok: false, reason: 'SignatureInvalid', message: 'spec.signerKeyId is not a signed-note key handle (name+8hex)', signature: 'failed' };
  return null;
}

export function verifyContent(text: string, spec: PolicyBundleSpec, trust: BundleTrust, suite: CryptoSuite): Verified | Rejected {
  let doc: unknown;
  try {
    doc = parseBundleText(text);
  } catch (e) {
    const msg = e instanceof BundleError ? e.message : String(e);
    return { ok: false, reason: 'BundleInvalid', message: msg, signature: 'unchecked' };
  }
  const signature = signatureOf(spec);
  const policy = loadPolicy({ bundle: doc, signature }, trust, suite);
  if (policy.status === 'unavailable') {
    // loadPolicy reports a lint failure of a correctly signed bundle as BUNDLE_INVALID with issues.
    const signature = policy.issues ? 'verified' : policy.reasonCode === 'BUNDLE_INVALID' || policy.reasonCode === 'BUNDLE_MISSING' ? 'unchecked' : 'failed';
    return { ok: false, reason: TRUST_REASONS[policy.reasonCode], message: policy.message, signature };
  }
  const identity = identityMismatch(doc, spec);
  if (identity) return identity;
  return { ok: true, signature, canonicalText: fromUtf8(canonicalBundleBytes(doc)), contentHash: spec.contentHash };
}

/**
 * The signature covers the content, not the PolicyBundle's spec: spec.bundleId and spec.version
 * (which pick the ConfigMap and decide supersession) must be what the signed content says
 * (metadata.name, and metadata.version as the decimal spec.version), or a bundle signed as one
 * thing could be presented as another, or an old one replayed as a newer version.
 */
export function identityMismatch(doc: unknown, spec: Pick<PolicyBundleSpec, 'bundleId' | 'version'>): Rejected | null {
  const meta = typeof doc === 'object' && doc !== null ? (doc as { metadata?: { name?: unknown; version?: unknown } }).metadata : undefined;
  const name = meta?.name;
  const version = meta?.version;
  if (name !== spec.bundleId) {
    return {
      ok: false,
      reason: 'BundleIdMismatch',
      message: `spec.bundleId ${JSON.stringify(spec.bundleId)} is not the signed content's metadata.name ${JSON.stringify(name)}: set spec.bundleId to ${JSON.stringify(name)} (the signature covers the content, not the spec)`,
      signature: 'verified',
    };
  }
  if (version !== String(spec.version)) {
    return {
      ok: false,
      reason: 'VersionMismatch',
      message: `spec.version ${spec.version} is not the signed content's metadata.version ${JSON.stringify(version)}: sign the bundle with metadata.version "${spec.version}", or set spec.version to the content's version`,
      signature: 'verified',
    };
  }
  return null;
}
