// DSSE v1 envelopes (github.com/secure-systems-lab/dsse). We sign PAE over the exact payload bytes;
// lengths are BYTE counts, not string lengths.
import { concat, fromBase64, toBase64, utf8 } from '../crypto/bytes.js';
import type { Ed25519Signer } from '../crypto/suite.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8(payloadType);
  return concat(utf8(`DSSEv1 ${type.length} `), type, utf8(` ${payload.length} `), payload);
}

export interface EnvelopeSigner {
  readonly keyid: string;
  readonly signer: Ed25519Signer;
}

export function signEnvelope(payloadType: string, payload: Uint8Array, signers: readonly EnvelopeSigner[], paeBytes?: Uint8Array): DsseEnvelope {
  if (signers.length === 0) throw new Error('a DSSE envelope needs at least one signature');
  const msg = paeBytes ?? pae(payloadType, payload);
  return {
    payload: toBase64(payload),
    payloadType,
    signatures: signers.map((s) => ({ keyid: s.keyid, sig: toBase64(s.signer.sign(msg)) })),
  };
}

export class EnvelopeError extends Error {
  readonly code = 'ERR_ENVELOPE_MALFORMED';
}

/** Checks the envelope's shape strictly: exactly these fields, strings, base64 that round-trips. */
export function checkEnvelopeShape(v: unknown): { envelope: DsseEnvelope; payload: Uint8Array; sigs: Array<{ keyid: string; sig: Uint8Array }> } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EnvelopeError('envelope is not an object');
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  if (keys !== 'payload,payloadType,signatures') throw new EnvelopeError(`envelope has fields [${keys}], expected payload, payloadType, signatures`);
  if (typeof o.payload !== 'string' || typeof o.payloadType !== 'string') throw new EnvelopeError('payload and payloadType must be strings');
  if (!Array.isArray(o.signatures) || o.signatures.length === 0 || o.signatures.length > 16) throw new EnvelopeError('signatures must be an array of 1 to 16 entries');
  let payload: Uint8Array;
  try {
    payload = fromBase64(o.payload);
  } catch (e) {
    throw new EnvelopeError(`payload: ${(e as Error).message}`);
  }
  const sigs = o.signatures.map((s, i) => {
    if (typeof s !== 'object' || s === null) throw new EnvelopeError(`signature ${i} is not an object`);
    const so = s as Record<string, unknown>;
    if (Object.keys(so).sort().join(',') !== 'keyid,sig' || typeof so.keyid !== 'string' || typeof so.sig !== 'string') {
      throw new EnvelopeError(`signature ${i} must have exactly string fields keyid and sig`);
    }
    let sig: Uint8Array;
    try {
      sig = fromBase64(so.sig);
    } catch (e) {
      throw new EnvelopeError(`signature ${i}: ${(e as Error).message}`);
    }
    return { keyid: so.keyid, sig };
  });
  return { envelope: o as unknown as DsseEnvelope, payload, sigs };
}
