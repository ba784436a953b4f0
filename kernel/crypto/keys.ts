// Keys in the C2SP signed-note scheme (c2sp.org/signed-note), the same text forms Go's
// golang.org/x/mod/sumdb/note reads, so our log keys work with the transparency-log ecosystem:
//   verifier key (vkey):  <name>+<key id, 8 hex>+<base64(type || 32-byte public key)>
//   private key file:     PRIVATE+KEY+<name>+<key id>+<base64(type || 32-byte seed)>
// key id = first 4 bytes of SHA-256(name || "\n" || type || public key), big-endian.
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, fromBase64, toBase64, toHex, utf8 } from './bytes.js';

/** Signature type byte for Ed25519 note signatures (and checkpoint signatures). */
export const ALG_ED25519 = 0x01;
/** Signature type byte for Ed25519 timestamped cosignatures (c2sp.org/tlog-cosignature). */
export const ALG_COSIGNATURE_V1 = 0x04;

export class KeyFormatError extends Error {
  readonly code = 'ERR_KEY_FORMAT';
}

export interface VerifierKey {
  readonly name: string;
  readonly alg: number;
  readonly publicKey: Uint8Array;
  /** 32-bit key id as 8 lowercase hex digits. */
  readonly keyId: string;
  /** `name+keyid`: the DSSE keyid we write and the handle reports use. */
  readonly handle: string;
  readonly vkey: string;
}

/** A key name: non-empty, no '+', no white space (as in the Go reference implementation). */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && name.isWellFormed() && !name.includes('+') && !/[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u.test(name);
}

/** Splits at the first n-1 '+' signs; the last field keeps any further '+'. */
function splitPlus(s: string, n: number): string[] | null {
  const out: string[] = [];
  let rest = s;
  for (let i = 0; i < n - 1; i++) {
    const j = rest.indexOf('+');
    if (j < 0) return null;
    out.push(rest.slice(0, j));
    rest = rest.slice(j + 1);
  }
  out.push(rest);
  return out;
}

export function keyIdOf(name: string, alg: number, publicKey: Uint8Array): string {
  return toHex(sha256(concat(utf8(name), utf8('\n'), Uint8Array.of(alg), publicKey)).subarray(0, 4));
}

export function makeVerifierKey(name: string, publicKey: Uint8Array, alg = ALG_ED25519): VerifierKey {
  if (!isValidKeyName(name)) throw new KeyFormatError(`invalid key name ${JSON.stringify(name)}`);
  if (publicKey.length !== 32) throw new KeyFormatError('Ed25519 public key must be 32 bytes');
  const keyId = keyIdOf(name, alg, publicKey);
  return {
    name,
    alg,
    publicKey: Uint8Array.from(publicKey),
    keyId,
    handle: `${name}+${keyId}`,
    vkey: `${name}+${keyId}+${toBase64(concat(Uint8Array.of(alg), publicKey))}`,
  };
}

export function parseVerifierKey(vkey: string): VerifierKey {
  // Base64 may itself contain '+', so split only at the first two.
  const parts = splitPlus(vkey.trim(), 3);
  if (!parts) throw new KeyFormatError('verifier key must be name+keyid+base64');
  const [name, id, b64] = parts as [string, string, string];
  if (!/^[0-9a-f]{8}$/.test(id)) throw new KeyFormatError('verifier key id must be 8 lowercase hex digits');
  let raw: Uint8Array;
  try {
    raw = fromBase64(b64);
  } catch (e) {
    throw new KeyFormatError(`verifier key material: ${(e as Error).message}`);
  }
  if (raw.length !== 33) throw new KeyFormatError('verifier key material must be 1 type byte + 32-byte Ed25519 key');
  const alg = raw[0]!;
  if (alg !== ALG_ED25519 && alg !== ALG_COSIGNATURE_V1) throw new KeyFormatError(`unsupported key type 0x${alg.toString(16)}`);
  const key = makeVerifierKey(name, raw.subarray(1), alg);
  if (key.keyId !== id) throw new KeyFormatError(`verifier key id ${id} does not match its key (expected ${key.keyId})`);
  return key;
}

export interface PrivateKeyText {
  readonly name: string;
  readonly alg: number;
  readonly seed: Uint8Array;
  readonly keyId: string;
}

export function formatPrivateKey(name: string, seed: Uint8Array, publicKey: Uint8Array, alg = ALG_ED25519): string {
  const vk = makeVerifierKey(name, publicKey, alg);
  return `PRIVATE+KEY+${name}+${vk.keyId}+${toBase64(concat(Uint8Array.of(alg), seed))}`;
}

/**
 * Parses a private key line. The key id cannot be checked without deriving the public key,
 * which the caller does (see loadSigningKey) with the implementation it signs with.
 */
export function parsePrivateKey(text: string): PrivateKeyText {
  const parts = splitPlus(text.trim(), 5);
  if (!parts || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') {
    throw new KeyFormatError('private key must be PRIVATE+KEY+name+keyid+base64');
  }
  const [, , name, keyId, b64] = parts as [string, string, string, string, string];
  if (!isValidKeyName(name)) throw new KeyFormatError(`invalid key name ${JSON.stringify(name)}`);
  if (!/^[0-9a-f]{8}$/.test(keyId)) throw new KeyFormatError('private key id must be 8 lowercase hex digits');
  let raw: Uint8Array;
  try {
    raw = fromBase64(b64);
  } catch (e) {
    throw new KeyFormatError(`private key material: ${(e as Error).message}`);
  }
  if (raw.length !== 33) throw new KeyFormatError('private key material must be 1 type byte + 32-byte seed');
  return { name, alg: raw[0]!, seed: raw.slice(1), keyId };
}
