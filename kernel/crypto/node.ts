// node:crypto implementation: a cached KeyObject signs in ~40 µs, ~25x faster than pure JS.
import { hash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { CryptoSuite, Ed25519Signer } from './suite.js';

// DER prefixes for Ed25519 keys (RFC 8410): PKCS#8 private key and SubjectPublicKeyInfo.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function spkiDer(publicKey: Uint8Array): Buffer {
  return Buffer.concat([SPKI_PREFIX, publicKey]);
}

// Verifying many signatures by the same few keys: parse each key once.
const publicKeyCache = new Map<string, KeyObject>();
function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const k = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('hex');
  let ko = publicKeyCache.get(k);
  if (!ko) {
    ko = createPublicKey({ key: spkiDer(publicKey), format: 'der', type: 'spki' });
    if (publicKeyCache.size > 1024) publicKeyCache.clear();
    publicKeyCache.set(k, ko);
  }
  return ko;
}

export const nodeSuite: CryptoSuite = {
  name: 'node:crypto',
  // One-shot crypto.hash avoids the Hash object: ~4x faster for 1 KB inputs.
  sha256: (data) => hash('sha256', data, 'buffer'),
  verifyEd25519(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return verify(null, message, publicKeyObject(publicKey), signature);
    } catch {
      return false;
    }
  },
};

export function nodeSigner(seed: Uint8Array): Ed25519Signer {
  if (seed.length !== 32) throw new Error('Ed25519 seed must be 32 bytes');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(spki.length - 32));
  return {
    publicKey,
    sign: (message) => new Uint8Array(sign(null, message, key)),
  };
}
