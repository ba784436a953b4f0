// helmctl bundle test FILE: runs the bundle's fixtures through the real evaluator. Exit 0 when
// every fixture passes, 1 when one fails or the bundle does not compile.
import { nodeSuite } from '../../../kernel/crypto/node.js';
import { compileBundle, runFixtures } from '../../../kernel/guardian/index.js';
import { flag, parse } from '../../args.js';
import { EXIT_INVALID, EXIT_OK, type Io } from '../../io.js';
import { pretty, readBundle } from './files.js';

export const USAGE = 'helmctl bundle test FILE [--json]';

export async function testCmd(argv: readonly string[], io: Io): Promise<number> {
  const p = parse(argv, { json: { type: 'boolean' } }, { min: 1, max: 1 });
  const b = await readBundle(p.positionals[0]!);
  if (!b.ok) {
    io.stderr.write(`${b.code}: ${b.message}\n`);
    return EXIT_INVALID;
  }
  const c = compileBundle(b.doc, nodeSuite);
  if (!c.ok) {
    for (const e of c.errors) io.stderr.write(`error ${e.code} ${e.path}: ${e.message}\n`);
    return EXIT_INVALID;
  }
  const results = runFixtures(c.bundle).map((r) => ({ name: r.name, pass: r.pass, expected: r.expected, actual: r.actual, detail: r.decision.detail }));
  const failed = results.filter((r) => !r.pass).length;
  if (flag(p, 'json')) io.stdout.write(pretty({ contentHash: c.bundle.contentHash, passed: results.length - failed, failed, results }));
  else {
    for (const r of results) {
      const got = `${r.actual.verdict} ${r.actual.reasonCode} [${r.actual.ruleIds.join(', ')}]`;
      io.stdout.write(r.pass ? `PASS ${r.name}: ${got}\n` : `FAIL ${r.name}: expected ${r.expected.verdict}${r.expected.reasonCode ? ` ${r.expected.reasonCode}` : ''}${r.expected.ruleIds ? ` [${r.expected.ruleIds.join(', ')}]` : ''}, got ${got} (${r.detail})\n`);
    }
    io.stdout.write(`${results.length - failed} passed, ${failed} failed${results.length === 0 ? ' (the bundle has no fixtures)' : ''}\n`);
  }
  return failed === 0 ? EXIT_OK : EXIT_INVALID;
}
