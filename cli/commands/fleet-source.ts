// Reads what a fleet pack needs from the bucket alone: the latest fleet checkpoint, every fleet
// leaf under it (checked against it), and writer entries as published (docs/fleet.md §Export).
import { nodeSuite } from '../../kernel/crypto/node.js';
import { FLEET_PREFIX, fleetCheckpointKey, parseFleetCheckpointKey, writerPrefix } from '../../kernel/fleet/layout.js';
import type { FleetSource } from '../../kernel/fleet/pack.js';
import { parseCheckpointText } from '../../kernel/proofgraph/checkpoint.js';
import { parseNote } from '../../kernel/crypto/note.js';
import type { FleetBucket } from '../../sidecar/ship/object-store.js';
import { readEntries } from '../../sidecar/ship/publish.js';
import { CliError } from '../io.js';

export async function fleetSourceFromBucket(bucket: FleetBucket): Promise<FleetSource> {
  const sizes = (await bucket.list(`${FLEET_PREFIX}checkpoints/`)).map(parseFleetCheckpointKey).filter((s): s is number => s !== null);
  if (sizes.length === 0) throw new CliError(`no fleet checkpoint under s3://${bucket.config.bucket}/${FLEET_PREFIX}checkpoints/: has a collector run against this bucket?`, 'ERR_FLEET_EXPORT_EMPTY');
  const size = Math.max(...sizes);
  const fleetNote = new TextDecoder().decode((await bucket.get(fleetCheckpointKey(size)))!);
  const cp = parseCheckpointText(parseNote(fleetNote).text);
  if (cp.size !== size) throw new CliError(`fleet checkpoint object for size ${size} holds size ${cp.size}`, 'ERR_FLEET_EXPORT_BUCKET');
  return {
    fleetNote,
    fleetLeaves: await readEntries(bucket, FLEET_PREFIX, 0, size),
    writerEntries: (origin, n) => readEntries(bucket, writerPrefix(nodeSuite, origin), 0, n),
  };
}
