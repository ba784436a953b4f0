// helmctl bundle compose BASE OVERLAY...: the base narrowed by each overlay in order. Writes the
// composed bundle (JSON; sign it like any bundle) and prints its contentHash. An overlay that
// would widen anything fails the whole composition (exit 1) with each refusal named.
import { nodeSuite } from '../../../kernel/crypto/node.js';
import { composeBundles } from '../../../kernel/guardian/index.js';
import { flag, optional, parse } from '../../args.js';
import { EXIT_INVALID, EXIT_OK, type Io } from '../../io.js';
import { writeNew } from '../../key-files.js';
import { pretty, readBundle } from './files.js';

export const USAGE = 'helmctl bundle compose BASE OVERLAY [OVERLAY...] [--out FILE] [--force]';

export async function composeCmd(argv: readonly string[], io: Io): Promise<number> {
  const p = parse(argv, { out: { type: 'string' }, force: { type: 'boolean' } }, { min: 2, max: 64 });
  const docs: unknown[] = [];
  for (const path of p.positionals) {
    const b = await readBundle(path);
    if (!b.ok) {
      io.stderr.write(`${b.code}: ${b.message}\n`);
      return EXIT_INVALID;
    }
    docs.push(b.doc);
  }
  const r = composeBundles(docs[0], docs.slice(1), nodeSuite);
  if (!r.ok) {
    for (const e of r.errors) io.stderr.write(`refused: ${e.overlay < 0 ? 'base' : `overlay ${e.overlay + 1} (${p.positionals[e.overlay + 1]})`} ${e.path}: ${e.message}\n`);
    return EXIT_INVALID;
  }
  const out = optional(p, 'out');
  if (out === undefined) io.stdout.write(pretty(r.bundle));
  else {
    await writeNew(out, pretty(r.bundle), 0o644, flag(p, 'force'));
    io.stdout.write(`wrote ${out}\n`);
  }
  io.stderr.write(`composed ${r.contentHash} from ${p.positionals.length} documents\n`);
  return EXIT_OK;
}
