// The primitives under the receipts, exposed for conformance tests and callers that need them.
import { jcs as kernelJcs } from '../../../kernel/crypto/jcs.js';
import { nodeSuite } from '../../../kernel/crypto/node.js';

/** RFC 8785 canonical JSON bytes of a value. */
export const jcs = (value: unknown): Uint8Array => kernelJcs(value);

/** Strict Ed25519 verification (RFC 8032, cofactorless, canonical S), as receipts are checked. */
export const verifyEd25519 = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => nodeSuite.verifyEd25519(publicKey, message, signature);
