// Offline proofs of logging (c2sp.org/tlog-proof@v1): an entry's index, its RFC 6962 inclusion
// proof and the (cosigned) checkpoint it is proved against, as one text file. Verification needs
// only the entry, the proof file and a trust policy: no log server. Portable (CryptoSuite).
import { fromBase64, toBase64 } from '../crypto/bytes.js';
import type { VerifierKey } from '../crypto/keys.js';
import { NoteError, parseNote } from '../crypto/note.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { verifyCheckpointWithPolicy, type TrustPolicy } from '../evidence/trust-policy.js';
import type { Checkpoint } from './checkpoint.js';
import { leafHash, verifyInclusion } from './merkle.js';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';
/** A tree of at most 2^53-1 leaves has audit paths of at most 53 hashes. */
const MAX_PROOF_HASHES = 63;

export type TlogProofErrorCode = 'ERR_TLOG_PROOF_MALFORMED' | 'ERR_TLOG_PROOF_INDEX' | 'ERR_TLOG_PROOF_INCLUSION';

export class TlogProofError extends Error {
  constructor(
    readonly code: TlogProofErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function malformed(message: string): TlogProofError {
  return new TlogProofError('ERR_TLOG_PROOF_MALFORMED', message);
}

function checkNote(checkpoint: string): void {
  try {
    parseNote(checkpoint);
  } catch (e) {
    if (e instanceof NoteError) throw malformed(`checkpoint: ${e.message}`);
    throw e;
  }
}

export function formatTlogProof(p: { index: number; proof: readonly Uint8Array[]; checkpoint: string; extra?: Uint8Array }): string {
  if (!Number.isSafeInteger(p.index) || p.index < 0) throw malformed(`index ${p.index} is not an integer in 0..2^53-1`);
  if (p.proof.length > MAX_PROOF_HASHES) throw malformed(`proof has ${p.proof.length} hashes`);
  p.proof.forEach((h, i) => {
    if (h.length !== 32) throw malformed(`proof hash ${i} is ${h.length} bytes, not 32`);
  });
  checkNote(p.checkpoint);
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${toBase64(p.extra)}`);
  lines.push(`index ${p.index}`, ...p.proof.map(toBase64), '');
  return lines.join('\n') + '\n' + p.checkpoint;
}

export function parseTlogProof(text: string): { index: number; proof: Uint8Array[]; checkpoint: string; extra: Uint8Array | null } {
  const lines = text.split('\n');
  let i = 0;
  const next = (): string | undefined => lines[i++];
  if (next() !== TLOG_PROOF_HEADER) throw malformed(`first line must be ${TLOG_PROOF_HEADER}`);
  let line = next();
  let extra: Uint8Array | null = null;
  if (line?.startsWith('extra ')) {
    try {
      extra = fromBase64(line.slice('extra '.length));
    } catch (e) {
      throw malformed(`extra: ${(e as Error).message}`);
    }
    line = next();
  }
  const m = line === undefined ? null : /^index (0|[1-9][0-9]*)$/.exec(line);
  if (!m) throw malformed(`expected "index <decimal without leading zeros>", got ${JSON.stringify(line ?? '')}`);
  if (m[1]!.length > 16 || BigInt(m[1]!) > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`index ${m[1]} exceeds 2^53-1`);
  const index = Number(m[1]);
  const proof: Uint8Array[] = [];
  for (line = next(); line !== undefined && line !== ''; line = next()) {
    if (proof.length === MAX_PROOF_HASHES) throw malformed(`proof has more than ${MAX_PROOF_HASHES} hashes`);
    let h: Uint8Array;
    try {
      h = fromBase64(line);
    } catch (e) {
      throw malformed(`proof line ${proof.length + 1}: ${(e as Error).message}`);
    }
    if (h.length !== 32) throw malformed(`proof line ${proof.length + 1} is ${h.length} bytes, not a SHA-256 hash`);
    proof.push(h);
  }
  if (line === undefined) throw malformed('no empty line before the checkpoint');
  const checkpoint = lines.slice(i).join('\n');
  checkNote(checkpoint);
  return { index, proof, checkpoint, extra };
}

/**
 * Verifies a proof file for `entry`: the checkpoint must satisfy the policy (log signature and
 * witness quorum; PolicyError otherwise), then the entry's leaf hash must be included at `index`.
 * The extra data is not authenticated and plays no part.
 */
export function verifyTlogProof(
  text: string,
  entry: Uint8Array,
  policy: TrustPolicy,
  suite: CryptoSuite,
): { index: number; checkpoint: Checkpoint; logKey: VerifierKey; witnesses: string[] } {
  const p = parseTlogProof(text);
  const { checkpoint, logKey, witnesses } = verifyCheckpointWithPolicy(p.checkpoint, policy, suite);
  if (p.index >= checkpoint.size) {
    throw new TlogProofError('ERR_TLOG_PROOF_INDEX', `index ${p.index} is not below the checkpoint size ${checkpoint.size} of ${checkpoint.origin}`);
  }
  if (!verifyInclusion(suite, p.index, checkpoint.size, leafHash(suite, entry), p.proof, checkpoint.root)) {
    throw new TlogProofError('ERR_TLOG_PROOF_INCLUSION', `entry is not included at index ${p.index} of ${checkpoint.origin}@${checkpoint.size} (proof of ${p.proof.length} hashes does not lead to the signed root)`);
  }
  return { index: p.index, checkpoint, logKey: logKey.key, witnesses };
}
