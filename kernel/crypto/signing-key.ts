// A named signing key: the signer plus its signed-note identity.
import { KeyFormatError, makeVerifierKey, parsePrivateKey, formatPrivateKey, ALG_ED25519, type VerifierKey } from './keys.js';
import type { Ed25519Signer } from './suite.js';

export interface SigningKey extends Ed25519Signer {
  readonly verifier: VerifierKey;
  /** The private key line, for writing key files. */
  readonly privateText: string;
}

export type SignerFactory = (seed: Uint8Array) => Ed25519Signer;

export function signingKeyFromSeed(name: string, seed: Uint8Array, factory: SignerFactory, alg = ALG_ED25519): SigningKey {
  const signer = factory(seed);
  const verifier = makeVerifierKey(name, signer.publicKey, alg);
  return {
    publicKey: signer.publicKey,
    sign: (m) => signer.sign(m),
    verifier,
    privateText: formatPrivateKey(name, seed, signer.publicKey, alg),
  };
}

export function signingKeyFromText(text: string, factory: SignerFactory): SigningKey {
  const p = parsePrivateKey(text);
  const key = signingKeyFromSeed(p.name, p.seed, factory, p.alg);
  if (key.verifier.keyId !== p.keyId) {
    throw new KeyFormatError(`private key id ${p.keyId} does not match its key (expected ${key.verifier.keyId})`);
  }
  return key;
}
