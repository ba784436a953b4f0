// Unpadded base64url (RFC 4648 §5) as JWS and the A2A headers use it. Decoding is strict: only
// the one canonical encoding of a byte string is accepted, so signed values are not malleable.
import { fromBase64, toBase64 } from '../crypto/bytes.js';

export function toB64u(b: Uint8Array): string {
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Throws on any character outside the alphabet, padding, or non-zero trailing bits. */
export function fromB64u(s: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new Error('not unpadded base64url');
  const std = s.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(std + '='.repeat((4 - (std.length % 4)) % 4));
}
