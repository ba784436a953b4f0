// helmctl bundle lint FILE: every error and warning compile would report. Exit 0 when there is no
// error (warnings allowed), 1 otherwise.
import { nodeSuite } from '../../../kernel/crypto/node.js';
import { lintBundle } from '../../../kernel/guardian/index.js';
import { schemaIssues } from '../../../kernel/guardian/compile.js';
import { flag, parse } from '../../args.js';
import { EXIT_INVALID, EXIT_OK, type Io } from '../../io.js';
import { pretty, readBundle } from './files.js';

export const USAGE = 'helmctl bundle lint FILE [--json]';

export async function lintCmd(argv: readonly string[], io: Io): Promise<number> {
  const p = parse(argv, { json: { type: 'boolean' } }, { min: 1, max: 1 });
  const path = p.positionals[0]!;
  const b = await readBundle(path);
  // An overlay is linted for its shape; its rules are checked when it is composed with a base.
  const overlay = b.ok && (b.doc as { kind?: unknown }).kind === 'PolicyOverlay';
  const report = !b.ok
    ? { errors: [{ code: b.code, path: '/', message: b.message }], warnings: [] }
    : overlay
      ? { errors: schemaIssues(b.doc), warnings: [] }
      : lintBundle(b.doc, nodeSuite);
  if (flag(p, 'json')) io.stdout.write(pretty(report));
  else {
    for (const e of report.errors) io.stdout.write(`error ${e.code} ${e.path}: ${e.message}\n`);
    for (const w of report.warnings) io.stdout.write(`warning ${w.code} ${w.path}: ${w.message}\n`);
    io.stdout.write(`${path}: ${report.errors.length} error(s), ${report.warnings.length} warning(s)${overlay ? ' (overlay: shape only; compose it to check its rules)' : ''}\n`);
  }
  return report.errors.length === 0 ? EXIT_OK : EXIT_INVALID;
}
