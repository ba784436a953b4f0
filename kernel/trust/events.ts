// Trust events: root-signed statements that authorise, rotate and revoke node-signing keys.
// They travel inside `trust` ProofGraph nodes, so key history is in the log itself, and validity is
// by log position (origin, index), never by wall-clock windows. Spec: docs/spec/receipt.md §Trust.
import type { ValidateFunction } from 'ajv/dist/2020.js';
import * as compiledEvent from './event-validator.gen.js';
import { equalBytes, fromBase64, toBase64, toHex } from '../crypto/bytes.js';
import { jcs, jcsSigned } from '../crypto/jcs.js';
import { parseVerifierKey, ALG_ED25519, type VerifierKey } from '../crypto/keys.js';
import type { SigningKey } from '../crypto/signing-key.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { checkEnvelopeShape, IN_TOTO_PAYLOAD_TYPE, pae, signEnvelope, type DsseEnvelope } from '../contracts/dsse.js';
import { parseJsonStrict } from '../contracts/node.js';
import { TRUST_EVENT_PREDICATE, type TrustEventType } from '../contracts/schemas.js';

/** node: a key that signs ProofGraph nodes. log: a log key that signs the origin's checkpoints. */
export type KeyPurpose = 'node' | 'log';

export interface KeyEvent {
  event: TrustEventType;
  purpose: KeyPurpose;
  origin: string;
  /** vkey: the key published or revoked, or the OLD key of a rotation. */
  key: string;
  /** vkey of the new key (KEY_ROTATE only). */
  newKey?: string;
  /** PUBLISH: valid from this index on. ROTATE: the new key takes over here. REVOKE: invalid from here on. */
  fromIndex: number;
  reason?: string;
  issuedAt: string;
}

export class TrustError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

// Compiled at build time from trustEventSchema (scripts/validators.ts).
const validate = compiledEvent.validate as ValidateFunction;

/**
 * A log-key certification covers every checkpoint of one origin: only a KEY_PUBLISH from index 0
 * of a key named after that origin (checkpoints are signed by a key whose name is the origin).
 */
function checkLogPurpose(ev: KeyEvent): void {
  if (ev.purpose !== 'log') return;
  if (ev.event !== 'KEY_PUBLISH') throw new TrustError('ERR_TRUST_EVENT_INVALID', `a log-key event must be KEY_PUBLISH, not ${ev.event} (a certified log belongs to one boot; a new key is a new origin)`);
  if (ev.fromIndex !== 0) throw new TrustError('ERR_TRUST_EVENT_INVALID', `a log-key certification covers the whole log: fromIndex must be 0, not ${ev.fromIndex}`);
  const name = parseVerifierKey(ev.key).name;
  if (name !== ev.origin) throw new TrustError('ERR_TRUST_EVENT_INVALID', `log key ${name} is not named after the origin ${ev.origin} it is certified for`);
}

/** Keys that must sign an event besides the root: proof of possession and consent. */
function requiredKeys(ev: KeyEvent): VerifierKey[] {
  checkLogPurpose(ev);
  const key = parseVerifierKey(ev.key);
  if (ev.event === 'KEY_PUBLISH') return [key];
  if (ev.event === 'KEY_ROTATE') {
    if (!ev.newKey) throw new TrustError('ERR_TRUST_EVENT_INVALID', 'KEY_ROTATE needs newKey');
    return [key, parseVerifierKey(ev.newKey)];
  }
  return [];
}

export function signKeyEvent(suite: CryptoSuite, ev: KeyEvent, signers: readonly SigningKey[]): DsseEnvelope {
  try {
    checkLogPurpose(ev);
  } catch (e) {
    if (e instanceof TrustError) throw e;
    throw new TrustError('ERR_TRUST_EVENT_INVALID', `trust event key: ${(e as Error).message}`);
  }
  const keyHandle = parseVerifierKey(ev.newKey ?? ev.key).handle;
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: `key/${keyHandle}`, digest: { sha256: toHex(suite.sha256(jcsSigned(ev))) } }],
    predicateType: TRUST_EVENT_PREDICATE,
    predicate: ev,
  };
  if (!validate(statement)) throw new TrustError('ERR_TRUST_EVENT_INVALID', `trust event ${validate.errors?.[0]?.instancePath} ${validate.errors?.[0]?.message}`);
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, jcsSigned(statement), signers.map((s) => ({ keyid: s.verifier.handle, signer: s })));
}

/**
 * Checks a trust event completely: canonical payload, schema, subject digest, and valid signatures
 * by the root and by every key the event names. Unknown extra signatures are ignored.
 */
export function openKeyEvent(suite: CryptoSuite, envelope: unknown, root: VerifierKey): KeyEvent {
  let shaped;
  try {
    shaped = checkEnvelopeShape(envelope);
  } catch (e) {
    throw new TrustError('ERR_TRUST_EVENT_INVALID', (e as Error).message);
  }
  if (shaped.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new TrustError('ERR_TRUST_EVENT_INVALID', 'trust event payloadType is not in-toto');
  let st: { predicate: KeyEvent; subject: [{ digest: { sha256: string } }] };
  try {
    st = parseJsonStrict(shaped.payload, 'trust event') as typeof st;
  } catch (e) {
    throw new TrustError('ERR_TRUST_EVENT_INVALID', (e as Error).message);
  }
  if (!equalBytes(jcs(st), shaped.payload)) throw new TrustError('ERR_TRUST_EVENT_INVALID', 'trust event payload is not canonical JSON');
  if (!validate(st)) throw new TrustError('ERR_TRUST_EVENT_INVALID', `trust event ${validate.errors?.[0]?.instancePath || '/'} ${validate.errors?.[0]?.message}`);
  const ev = st.predicate;
  if (toHex(suite.sha256(jcs(ev))) !== st.subject[0].digest.sha256) throw new TrustError('ERR_TRUST_EVENT_INVALID', 'trust event subject digest mismatch');
  let named: VerifierKey[];
  try {
    named = requiredKeys(ev);
  } catch (e) {
    if (e instanceof TrustError) throw e;
    throw new TrustError('ERR_TRUST_EVENT_INVALID', `trust event key: ${(e as Error).message}`);
  }
  if (named.some((k) => k.alg !== ALG_ED25519)) throw new TrustError('ERR_TRUST_EVENT_INVALID', 'node keys must be Ed25519 note keys (type 0x01)');
  const msg = pae(IN_TOTO_PAYLOAD_TYPE, shaped.payload);
  for (const need of [root, ...named]) {
    const sig = shaped.sigs.find((s) => s.keyid === need.handle);
    if (!sig) {
      throw new TrustError('ERR_TRUST_EVENT_UNAUTHORISED', `${ev.event} for ${ev.origin} lacks a signature by ${need === root ? 'the root key ' : ''}${need.handle}`);
    }
    if (!suite.verifyEd25519(need.publicKey, msg, sig.sig)) {
      throw new TrustError('ERR_TRUST_EVENT_UNAUTHORISED', `${ev.event} for ${ev.origin}: bad signature by ${need.handle}`);
    }
  }
  return ev;
}

/**
 * Adds the signature of `signer` (over the same PAE) to an envelope signed by others: the proof of
 * possession a certified key adds to the root-signed event the operator answered with. The
 * envelope is not checked here; openKeyEvent checks the result.
 */
export function addSignature(envelope: DsseEnvelope, signer: SigningKey): DsseEnvelope {
  const payload = fromBase64(envelope.payload);
  const sig = toBase64(signer.sign(pae(envelope.payloadType, payload)));
  const others = envelope.signatures.filter((s) => s.keyid !== signer.verifier.handle);
  return { payload: envelope.payload, payloadType: envelope.payloadType, signatures: [...others, { keyid: signer.verifier.handle, sig }] };
}
