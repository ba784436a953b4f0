// The add-checkpoint request body of c2sp.org/tlog-witness: "old <size>", the consistency proof
// (one base64 hash per line), an empty line, then the checkpoint note. Pure and strict: the
// collector answers 400 to anything that does not parse.
import { fromBase64, toBase64 } from '../crypto/bytes.js';

export class WitnessRequestError extends Error {
  readonly code = 'ERR_WITNESS_REQUEST_MALFORMED';
}

export interface AddCheckpointRequest {
  oldSize: number;
  proof: Uint8Array[];
  note: string;
}

const MAX_PROOF = 63;

export function formatAddCheckpoint(r: AddCheckpointRequest): string {
  return [`old ${r.oldSize}`, ...r.proof.map(toBase64), '', r.note].join('\n');
}

export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  const lines = body.split('\n');
  const m = /^old (0|[1-9][0-9]{0,15})$/.exec(lines[0] ?? '');
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw new WitnessRequestError(`first line must be "old <size>", got ${JSON.stringify(lines[0] ?? '')}`);
  const proof: Uint8Array[] = [];
  let i = 1;
  for (; i < lines.length && lines[i] !== ''; i++) {
    if (proof.length === MAX_PROOF) throw new WitnessRequestError(`consistency proof has more than ${MAX_PROOF} hashes`);
    let h: Uint8Array;
    try {
      h = fromBase64(lines[i]!);
    } catch {
      throw new WitnessRequestError(`proof line ${i} is not base64`);
    }
    if (h.length !== 32) throw new WitnessRequestError(`proof line ${i} is ${h.length} bytes, not 32`);
    proof.push(h);
  }
  if (i >= lines.length) throw new WitnessRequestError('no empty line before the checkpoint');
  const note = lines.slice(i + 1).join('\n');
  if (note === '') throw new WitnessRequestError('no checkpoint after the empty line');
  return { oldSize: Number(m[1]), proof, note };
}
