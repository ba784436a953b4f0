// Checkpoints (c2sp.org/tlog-checkpoint): a signed note whose text is "<origin>\n<size>\n<base64 root>\n"
// plus optional extension lines, signed by the log key (key name == origin). Parsing is strict so
// that one tree head has exactly one text form: the bytes a witness cosigns are the bytes we check.
// Portable: verification takes a CryptoSuite.
import { fromBase64, toBase64 } from '../crypto/bytes.js';
import { ALG_ED25519, type VerifierKey } from '../crypto/keys.js';
import { signNote, verifyNote, type NoteVerification } from '../crypto/note.js';
import type { SigningKey } from '../crypto/signing-key.js';
import type { CryptoSuite } from '../crypto/suite.js';

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  extensions: string[];
}

export type CheckpointErrorCode = 'ERR_CHECKPOINT_MALFORMED' | 'ERR_CHECKPOINT_KEY' | 'ERR_CHECKPOINT_UNTRUSTED';

export class CheckpointError extends Error {
  constructor(
    readonly code: CheckpointErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// Same rule as signed notes (and Go's note.Open): no ASCII control characters except newline.
const CONTROL = /[\x00-\x09\x0b-\x1f]/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

function malformed(message: string): CheckpointError {
  return new CheckpointError('ERR_CHECKPOINT_MALFORMED', message);
}

function checkLine(line: string, what: string): void {
  if (line.length === 0) throw malformed(`${what} is empty`);
  if (line.includes('\n') || CONTROL.test(line)) throw malformed(`${what} contains a newline or control character`);
  if (!line.isWellFormed()) throw malformed(`${what} is not well-formed Unicode`);
}

function checkFields(c: Checkpoint): void {
  checkLine(c.origin, 'origin');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw malformed(`tree size ${c.size} is not an integer in 0..2^53-1`);
  if (c.root.length !== 32) throw malformed(`root hash is ${c.root.length} bytes, not 32`);
  c.extensions.forEach((e, i) => checkLine(e, `extension line ${i + 1}`));
}

export function formatCheckpointText(c: Checkpoint): string {
  checkFields(c);
  return [c.origin, String(c.size), toBase64(c.root), ...c.extensions].join('\n') + '\n';
}

export function parseCheckpointText(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw malformed('checkpoint text must end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed(`checkpoint text has ${lines.length} lines, needs at least 3`);
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  checkLine(origin, 'origin');
  if (!DECIMAL.test(sizeLine)) throw malformed(`tree size ${JSON.stringify(sizeLine)} is not a decimal without leading zeros`);
  // Compare as BigInt: Number() would silently round sizes above 2^53.
  if (sizeLine.length > 16 || BigInt(sizeLine) > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`tree size ${sizeLine} exceeds 2^53-1`);
  let root: Uint8Array;
  try {
    root = fromBase64(rootLine);
  } catch (e) {
    throw malformed(`root hash: ${(e as Error).message}`);
  }
  if (root.length !== 32) throw malformed(`root hash is ${root.length} bytes, not 32`);
  extensions.forEach((e, i) => checkLine(e, `extension line ${i + 1}`));
  return { origin, size: Number(sizeLine), root, extensions };
}

/** Signs a checkpoint as its log. The key name must be the origin, so verifiers can find the log key by origin. */
export function signCheckpoint(c: Checkpoint, logKey: SigningKey): string {
  if (logKey.verifier.name !== c.origin) {
    throw new CheckpointError('ERR_CHECKPOINT_KEY', `log key ${logKey.verifier.handle} cannot sign for origin ${JSON.stringify(c.origin)}: key name must equal the origin`);
  }
  if (logKey.verifier.alg !== ALG_ED25519) {
    throw new CheckpointError('ERR_CHECKPOINT_KEY', `log key ${logKey.verifier.handle} has type 0x0${logKey.verifier.alg.toString(16)}; checkpoints are signed with Ed25519 note keys (0x01)`);
  }
  return signNote(formatCheckpointText(c), [logKey]);
}

/**
 * Verifies a checkpoint note against known keys and parses it. NoteErrors from signature checking
 * propagate unchanged. Besides a valid signature by some known key, the note needs one by a known
 * Ed25519 key named after the origin: a witness cosignature alone does not make a checkpoint.
 */
export function openCheckpoint(note: string, known: readonly VerifierKey[], suite: CryptoSuite): { checkpoint: Checkpoint; verification: NoteVerification } {
  const verification = verifyNote(note, known, suite);
  const checkpoint = parseCheckpointText(verification.text);
  if (!verification.verified.some((v) => v.key.name === checkpoint.origin && v.key.alg === ALG_ED25519)) {
    const by = verification.verified.map((v) => v.key.handle).join(', ');
    throw new CheckpointError('ERR_CHECKPOINT_UNTRUSTED', `checkpoint for ${JSON.stringify(checkpoint.origin)} has no signature by a known log key of that name (verified: ${by})`);
  }
  return { checkpoint, verification };
}
