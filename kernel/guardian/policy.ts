// The policy in force: either a verified, compiled bundle or the reason there is none. An
// unavailable policy is not an exception but a state in which every call is denied with its code.
import type { VerifierKey } from '../crypto/keys.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { HashRef } from './bundle-parse.js';
import { verifyBundle, type BundleTrust, type BundleTrustCode } from './bundle-trust.js';
import { compileBundle, type CompiledBundle, type LintIssue } from './compile.js';

export type GuardianPolicy =
  | { readonly status: 'ready'; readonly bundle: CompiledBundle; readonly signer: VerifierKey | null; readonly suite: CryptoSuite }
  | {
      readonly status: 'unavailable';
      readonly reasonCode: BundleTrustCode;
      readonly policyDigest: HashRef | null;
      readonly message: string;
      readonly suite: CryptoSuite;
      readonly issues?: readonly LintIssue[];
    };

export interface PolicySource {
  /** The parsed bundle document (parseBundleText), or undefined/null when none is configured. */
  readonly bundle?: unknown;
  /** The detached signature object, or undefined/null when the bundle is unsigned. */
  readonly signature?: unknown;
}

/** Verifies the signature, then lints and compiles. Never throws. */
export function loadPolicy(source: PolicySource, trust: BundleTrust, suite: CryptoSuite): GuardianPolicy {
  const v = verifyBundle(source.bundle, source.signature, trust, suite);
  if (!v.ok) return { status: 'unavailable', reasonCode: v.code, policyDigest: v.contentHash, message: v.message, suite };
  const c = compileBundle(source.bundle, suite);
  if (!c.ok) {
    const first = c.errors[0];
    return { status: 'unavailable', reasonCode: 'BUNDLE_INVALID', policyDigest: v.contentHash, message: `bundle fails lint: ${first?.path} ${first?.message}`, suite, issues: c.errors };
  }
  return { status: 'ready', bundle: c.bundle, signer: v.signer, suite };
}

/**
 * A policy from a compiled bundle without a signature check: for `bundle test` fixtures and
 * replay of an already-verified pack, never for serving calls.
 */
export function policyFromCompiled(bundle: CompiledBundle): GuardianPolicy {
  return { status: 'ready', bundle, signer: null, suite: bundle.suite };
}
