// What the sidecar trusts as "cosigned": only a checkpoint note carrying a cosignature by the
// collector key it was configured with (HELM_COLLECTOR_VKEY, c2sp.org/tlog-cosignature over the
// checkpoint text). An HTTP 200 body, or a marker file on the volume, is not proof by itself:
// whoever answers on the collector URL, or writes to the volume, could otherwise make the sidecar
// count (and free) entries that no collector has read back.
import { nodeSuite } from '../../kernel/crypto/node.js';
import { parseNote, verifyNote } from '../../kernel/crypto/note.js';
import type { VerifierKey } from '../../kernel/crypto/keys.js';

export class CosignatureError extends Error {
  readonly code = 'ERR_SHIP_COSIGNATURE';
}

/**
 * Checks that `cosignedNote` (the writer's checkpoint note with signature lines appended) holds a
 * valid cosignature by `collector` over the text of `note` (when given); returns the cosignature
 * time (seconds). Throws CosignatureError saying why not.
 */
export function verifyCosignature(cosignedNote: string, collector: VerifierKey, note?: string): bigint {
  let text: string;
  let verified: ReadonlyArray<{ key: VerifierKey; timestamp?: bigint }>;
  try {
    ({ text, verified } = verifyNote(cosignedNote, [collector], nodeSuite));
  } catch (e) {
    throw new CosignatureError(`no valid cosignature by the collector key ${collector.handle} (HELM_COLLECTOR_VKEY): ${(e as Error).message}`);
  }
  if (note !== undefined && parseNote(note).text !== text) throw new CosignatureError('the cosigned note is not the checkpoint that was sent');
  const mine = verified.find((v) => v.key.handle === collector.handle);
  if (!mine) throw new CosignatureError(`no cosignature by the collector key ${collector.handle}`);
  return mine.timestamp ?? 0n;
}
