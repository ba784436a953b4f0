// helmctl conformance: run the L1/L2/L3 conformance checks and the OWASP threat vectors against a
// live sidecar started from a conformance kit, write a signed report; verify such a report.
// docs/conformance.md. Exit 0: every requirement and vector passed (or the report verifies);
// 1: a requirement or vector failed (or the report does not verify); 2: usage or I/O error.
// The runner (MCP clients, the scripted model) loads only when this command runs, so it adds
// nothing to the start of other commands such as helmctl serve.
import { readFile, writeFile } from 'node:fs/promises';
import { LEVELS, type Level } from '../../conformance/requirements.js';
import { flag, optional, parse, required } from '../args.js';
import { CliError, EXIT_INVALID, EXIT_OK, UsageError, type Io } from '../io.js';
import { loadSigningKey } from '../key-files.js';
import type { Command } from './command.js';

const USAGE = [
  'helmctl conformance init --dir KIT [--listen HOST:PORT] [--admin-listen HOST:PORT] [--model-listen HOST:PORT]',
  '       helmctl conformance --level L1|L2|L3 --target URL --kit KIT --key REPORT_KEY --out REPORT.json [--admin URL] [--crash-command CMD] [--json]',
  '       helmctl conformance verify REPORT --trust-policy FILE',
].join('\n');

async function init(argv: readonly string[], io: Io): Promise<number> {
  const p = parse(argv, { dir: { type: 'string' }, listen: { type: 'string' }, 'admin-listen': { type: 'string' }, 'model-listen': { type: 'string' } }, { min: 0, max: 0 });
  const dir = required(p, 'dir');
  const { initKit } = await import('../../conformance/kit.js');
  const m = await initKit(dir, { ...(optional(p, 'listen') ? { listen: optional(p, 'listen')! } : {}), ...(optional(p, 'admin-listen') ? { adminListen: optional(p, 'admin-listen')! } : {}), ...(optional(p, 'model-listen') ? { modelListen: optional(p, 'model-listen')! } : {}) });
  io.stdout.write(`conformance kit in ${dir} (bundle ${m.bundleDigest})\nstart the sidecar:  helmctl serve --config ${dir}/sidecar.yaml\nthen run:           helmctl conformance --level L3 --target http://${m.listen} --kit ${dir} --key REPORT_KEY --out report.json\n`);
  return EXIT_OK;
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const p = parse(argv, { level: { type: 'string' }, target: { type: 'string' }, admin: { type: 'string' }, kit: { type: 'string' }, key: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, 'crash-command': { type: 'string' } }, { min: 0, max: 0 });
  const level = required(p, 'level') as Level;
  if (!LEVELS.includes(level)) throw new UsageError(`--level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  const kitDir = required(p, 'kit');
  const key = await loadSigningKey(required(p, 'key'), 'report signing key');
  const out = required(p, 'out');
  let admin = optional(p, 'admin');
  if (admin === undefined) {
    const { readKit } = await import('../../conformance/kit.js');
    admin = `http://${(await readKit(kitDir)).manifest.adminListen}`;
  }
  const { runConformance } = await import('../../conformance/run.js');
  const { formatReport, signReport } = await import('../../conformance/report.js');
  const progress = flag(p, 'json') ? undefined : (l: string) => io.stderr.write(`${l}\n`);
  let body;
  try {
    const crashCommand = optional(p, 'crash-command');
    body = await runConformance({ level, target: required(p, 'target'), admin, kitDir, ...(crashCommand ? { crashCommand } : {}), ...(progress ? { progress } : {}) });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CliError((e as Error).message, typeof code === 'string' ? code : 'ERR_CONFORMANCE');
  }
  const signed = signReport(body, key);
  try {
    await writeFile(out, JSON.stringify(signed, null, 2) + '\n');
  } catch (e) {
    throw new CliError(`cannot write ${out}: ${(e as Error).message}`, 'ERR_CLI_IO');
  }
  io.stdout.write(flag(p, 'json') ? JSON.stringify(signed, null, 2) + '\n' : formatReport(body));
  return body.ok ? EXIT_OK : EXIT_INVALID;
}

async function verify(argv: readonly string[], io: Io): Promise<number> {
  const p = parse(argv, { 'trust-policy': { type: 'string' } }, { min: 1, max: 1 });
  const { reportSigners, verifyReport } = await import('../../conformance/report.js');
  const read = async (path: string, what: string) => {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      throw new CliError(`cannot read ${what} ${path}: ${(e as Error).message}`, 'ERR_CLI_IO');
    }
  };
  let signers;
  try {
    signers = reportSigners(await read(required(p, 'trust-policy'), 'trust policy'));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`trust policy: ${(e as Error).message}`, 'ERR_POLICY_SYNTAX');
  }
  if (signers.length === 0) throw new CliError('the trust policy has no "conformance <vkey>" line: no key is trusted to sign reports', 'ERR_POLICY_NO_SIGNER');
  let value: unknown;
  try {
    value = JSON.parse(await read(p.positionals[0]!, 'report'));
  } catch (e) {
    if (e instanceof CliError) throw e;
    value = null;
  }
  const r = verifyReport(value, signers);
  if (!r.ok) {
    io.stdout.write(`INVALID: ${p.positionals[0]}: ${r.code}: ${r.message}\n`);
    return EXIT_INVALID;
  }
  io.stdout.write(`VALID: ${p.positionals[0]}: signed by ${r.signer}; level ${r.report.level} ${r.report.ok ? 'PASS' : 'FAIL'} (${r.report.summary.passed} passed, ${r.report.summary.failed} failed, ${r.report.summary.notApplicable} not applicable)\n`);
  return EXIT_OK;
}

export const conformance: Command = {
  name: 'conformance',
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'init') return init(rest, io);
    if (sub === 'verify') return verify(rest, io);
    return run(argv, io);
  },
};
