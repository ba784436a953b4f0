// The two primitives every verifier needs. Two implementations: node:crypto (fast, for the
// sidecar and CLI) and @noble (portable, for the browser verifier). Verifiers take a suite as a
// parameter so the same verification logic runs on either and the tests compare them.

export interface CryptoSuite {
  readonly name: string;
  sha256(data: Uint8Array): Uint8Array;
  /** Strict RFC 8032 verification: non-canonical S or A, and small-order keys, are rejected. */
  verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

/** Produces Ed25519 signatures; the private key never leaves the implementation. */
export interface Ed25519Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}
