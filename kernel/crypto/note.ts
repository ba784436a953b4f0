// C2SP signed notes (c2sp.org/signed-note): text, a blank line, then "— name base64(keyid || sig)"
// lines. Checkpoints are notes. Portable: verification takes a CryptoSuite.
import { concat, fromBase64, fromHex, toBase64, utf8 } from './bytes.js';
import { ALG_COSIGNATURE_V1, ALG_ED25519, isValidKeyName, type VerifierKey } from './keys.js';
import type { SigningKey } from './signing-key.js';
import type { CryptoSuite } from './suite.js';

const DASH = '\u2014 ';
const MAX_NOTE_BYTES = 1 << 20;
const MAX_SIGNATURES = 100;

export class NoteError extends Error {
  constructor(readonly code: 'ERR_NOTE_MALFORMED' | 'ERR_NOTE_BAD_SIGNATURE' | 'ERR_NOTE_UNVERIFIED', message: string) {
    super(message);
  }
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: string;
  /** Signature bytes after the 4-byte key id (for cosignatures: 8-byte timestamp || signature). */
  readonly sig: Uint8Array;
  readonly line: string;
}

export interface ParsedNote {
  /** The signed text, ending in a newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export function parseNote(note: string): ParsedNote {
  if (utf8(note).length > MAX_NOTE_BYTES) throw new NoteError('ERR_NOTE_MALFORMED', 'note is too large');
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new NoteError('ERR_NOTE_MALFORMED', 'note has no signature block');
  const text = note.slice(0, split + 1);
  if (/[\x00-\x09\x0b-\x1f]/.test(text)) throw new NoteError('ERR_NOTE_MALFORMED', 'note text contains control characters');
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError('ERR_NOTE_MALFORMED', 'too many signatures');
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    if (!line.startsWith(DASH)) throw new NoteError('ERR_NOTE_MALFORMED', `malformed signature line ${JSON.stringify(line)}`);
    const rest = line.slice(DASH.length);
    const sp = rest.indexOf(' ');
    const name = rest.slice(0, sp);
    if (sp < 0 || !isValidKeyName(name)) throw new NoteError('ERR_NOTE_MALFORMED', `malformed signature line ${JSON.stringify(line)}`);
    let raw: Uint8Array;
    try {
      raw = fromBase64(rest.slice(sp + 1));
    } catch {
      throw new NoteError('ERR_NOTE_MALFORMED', `signature line for ${name} is not base64`);
    }
    if (raw.length < 5) throw new NoteError('ERR_NOTE_MALFORMED', `signature line for ${name} is too short`);
    const keyId = Array.from(raw.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    signatures.push({ name, keyId, sig: raw.slice(4), line });
  }
  return { text, signatures };
}

/** The message a cosignature/v1 signs (c2sp.org/tlog-cosignature). */
export function cosignatureMessage(text: string, timestamp: bigint): Uint8Array {
  return utf8(`cosignature/v1\ntime ${timestamp.toString()}\n${text}`);
}

function signatureLine(key: SigningKey, text: string, timestamp?: bigint): string {
  const id = fromHex(key.verifier.keyId);
  let body: Uint8Array;
  if (key.verifier.alg === ALG_COSIGNATURE_V1) {
    if (timestamp === undefined) throw new Error('a cosignature needs a timestamp');
    const ts = new Uint8Array(8);
    new DataView(ts.buffer).setBigUint64(0, timestamp);
    body = concat(id, ts, key.sign(cosignatureMessage(text, timestamp)));
  } else {
    body = concat(id, key.sign(utf8(text)));
  }
  return `${DASH}${key.verifier.name} ${toBase64(body)}\n`;
}

/** Signs `text` (which must end in a newline) with each key, in order. */
export function signNote(text: string, keys: readonly SigningKey[], timestamp?: bigint): string {
  if (!text.endsWith('\n') || text.includes('\n\n')) throw new NoteError('ERR_NOTE_MALFORMED', 'note text must end in one newline and have no blank line');
  return text + '\n' + keys.map((k) => signatureLine(k, text, timestamp)).join('');
}

/** Adds signature lines to an already signed note (a witness cosigning a checkpoint). */
export function addSignatures(note: string, keys: readonly SigningKey[], timestamp?: bigint): string {
  const { text } = parseNote(note);
  return note + keys.map((k) => signatureLine(k, text, timestamp)).join('');
}

export interface NoteVerification {
  readonly text: string;
  /** Keys whose signature verified, with the cosignature timestamp where there is one. */
  readonly verified: ReadonlyArray<{ key: VerifierKey; timestamp?: bigint }>;
  /** Signature lines by keys we were not given: ignored, as the spec requires. */
  readonly unknown: readonly NoteSignature[];
}

/**
 * Verifies a note against known keys. Unknown signatures are ignored; a signature by a known key
 * that does not verify is an error (it means tampering, not an unfamiliar witness); a note with no
 * verified signature is an error.
 */
export function verifyNote(note: string, known: readonly VerifierKey[], suite: CryptoSuite): NoteVerification {
  const parsed = parseNote(note);
  const verified: Array<{ key: VerifierKey; timestamp?: bigint }> = [];
  const unknown: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const s of parsed.signatures) {
    const key = known.find((k) => k.name === s.name && k.keyId === s.keyId);
    if (!key) {
      unknown.push(s);
      continue;
    }
    if (seen.has(key.handle)) throw new NoteError('ERR_NOTE_MALFORMED', `two signatures by ${key.handle}`);
    seen.add(key.handle);
    if (key.alg === ALG_ED25519) {
      if (!suite.verifyEd25519(key.publicKey, utf8(parsed.text), s.sig)) {
        throw new NoteError('ERR_NOTE_BAD_SIGNATURE', `invalid signature by ${key.handle}`);
      }
      verified.push({ key });
    } else if (key.alg === ALG_COSIGNATURE_V1) {
      if (s.sig.length !== 72) throw new NoteError('ERR_NOTE_BAD_SIGNATURE', `malformed cosignature by ${key.handle}`);
      const ts = new DataView(s.sig.buffer, s.sig.byteOffset, 8).getBigUint64(0);
      if (ts >= 1n << 63n || !suite.verifyEd25519(key.publicKey, cosignatureMessage(parsed.text, ts), s.sig.subarray(8))) {
        throw new NoteError('ERR_NOTE_BAD_SIGNATURE', `invalid cosignature by ${key.handle}`);
      }
      verified.push({ key, timestamp: ts });
    }
  }
  if (verified.length === 0) throw new NoteError('ERR_NOTE_UNVERIFIED', 'no signature by a known key');
  return { text: parsed.text, verified, unknown };
}
