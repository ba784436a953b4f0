// helmctl bundle sign FILE --key KEY: a detached signature {contentHash, signature, signerKeyId}.
// The bundle must lint clean first: signing a bundle every PEP would refuse helps no one.
import { nodeSuite } from '../../../kernel/crypto/node.js';
import { lintBundle, signBundle } from '../../../kernel/guardian/index.js';
import { flag, optional, parse, required } from '../../args.js';
import { EXIT_INVALID, EXIT_OK, type Io } from '../../io.js';
import { loadSigningKey, writeNew } from '../../key-files.js';
import { pretty, readBundle } from './files.js';

export const USAGE = 'helmctl bundle sign FILE --key KEY [--out SIGNATURE_FILE] [--force]';

export async function signCmd(argv: readonly string[], io: Io): Promise<number> {
  const p = parse(argv, { key: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } }, { min: 1, max: 1 });
  const keyPath = required(p, 'key');
  const b = await readBundle(p.positionals[0]!);
  if (!b.ok) {
    io.stderr.write(`${b.code}: ${b.message}\n`);
    return EXIT_INVALID;
  }
  const lint = lintBundle(b.doc, nodeSuite);
  if (lint.errors.length > 0) {
    for (const e of lint.errors) io.stderr.write(`error ${e.code} ${e.path}: ${e.message}\n`);
    io.stderr.write('not signed: the bundle fails lint\n');
    return EXIT_INVALID;
  }
  const key = await loadSigningKey(keyPath, 'signing key');
  const sig = signBundle(b.doc, key, nodeSuite);
  const out = optional(p, 'out');
  if (out === undefined) io.stdout.write(pretty(sig));
  else {
    await writeNew(out, pretty(sig), 0o644, flag(p, 'force'));
    io.stdout.write(`wrote ${out}: ${sig.contentHash} signed by ${sig.signerKeyId}\n`);
  }
  return EXIT_OK;
}
