// helmctl bundle hash FILE: the contentHash (sha256 of the JCS bytes) a signature covers.
import { nodeSuite } from '../../../kernel/crypto/node.js';
import { bundleContentHash } from '../../../kernel/guardian/index.js';
import { parse } from '../../args.js';
import { EXIT_INVALID, EXIT_OK, type Io } from '../../io.js';
import { readBundle } from './files.js';

export const USAGE = 'helmctl bundle hash FILE';

export async function hashCmd(argv: readonly string[], io: Io): Promise<number> {
  const p = parse(argv, {}, { min: 1, max: 1 });
  const b = await readBundle(p.positionals[0]!);
  if (!b.ok) {
    io.stderr.write(`${b.code}: ${b.message}\n`);
    return EXIT_INVALID;
  }
  io.stdout.write(`${bundleContentHash(b.doc, nodeSuite)}\n`);
  return EXIT_OK;
}
