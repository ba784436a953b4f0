// Portable crypto on @noble: no node: imports, so it runs in a browser.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { CryptoSuite, Ed25519Signer } from './suite.js';

export const portableSuite: CryptoSuite = {
  name: 'noble',
  sha256: (data) => sha256(data),
  verifyEd25519(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      // zip215: false = RFC 8032 / FIPS 186-5 strict rules (as Wycheproof expects); the default
      // would accept non-canonical encodings and so make signatures malleable.
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};

export function portableSigner(seed: Uint8Array): Ed25519Signer {
  if (seed.length !== 32) throw new Error('Ed25519 seed must be 32 bytes');
  const secret = Uint8Array.from(seed);
  return {
    publicKey: ed25519.getPublicKey(secret),
    sign: (message) => ed25519.sign(message, secret),
  };
}
