// helmctl verify: check an evidence pack offline against a trust policy.
// Exit 0: valid. 1: a readable pack that fails a check (including unsafe members such as `../`
// paths or symlinks). 2: usage error, unreadable file or policy, or bytes that are not a gzip/tar
// pack at all (or exceed the reader's limits).
import { readFile } from 'node:fs/promises';
import { parseTrustPolicy, PolicyError, type TrustPolicy } from '../../kernel/evidence/trust-policy.js';
import type { Problem, VerifyReport } from '../../kernel/evidence/verify-core.js';
import { verifyPackNode } from '../../kernel/evidence/verify-node.js';
import { flag, nonNegativeInt, optional, parse, required } from '../args.js';
import { CliError, EXIT_ERROR, EXIT_INVALID, EXIT_OK, UsageError, type Io } from '../io.js';
import type { Command } from './command.js';
import { fleetVerify } from './fleet.js';

export async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new CliError(`cannot read ${what} ${path}: ${(e as Error).message}`, 'ERR_CLI_IO');
  }
}

export async function loadPolicy(path: string): Promise<TrustPolicy> {
  const bytes = await readInput(path, 'trust policy');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CliError(`trust policy ${path} is not UTF-8`, 'ERR_POLICY_SYNTAX');
  }
  try {
    return parseTrustPolicy(text, path);
  } catch (e) {
    if (e instanceof PolicyError) throw new CliError(e.message, e.code);
    throw e;
  }
}

export function formatProblem(p: Problem): string {
  return `${p.file}${p.index !== undefined ? ` index ${p.index}` : ''}: ${p.code}: ${p.message}`;
}

export function formatReport(pack: string, r: VerifyReport): string {
  const out: string[] = [];
  out.push(`${r.ok ? 'VALID' : 'INVALID'}: ${pack}`);
  if (r.format) {
    const s = r.selection ?? {};
    out.push(`format ${r.format}; selection ${s.from || s.to ? `from ${s.from ?? 'the start'} to ${s.to ?? 'the latest checkpoint'}` : 'everything up to the latest checkpoints'}`);
  }
  if (r.manifestSigners.length > 0) out.push(`manifest signed by ${r.manifestSigners.join(', ')}`);
  if (r.logs.length > 0) {
    out.push('', 'logs:');
    for (const l of r.logs) {
      const kinds = Object.entries(l.kinds)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      out.push(`  ${l.dir} (origin ${l.origin}): entries ${l.from}..${l.size - 1} (${l.entries}) [${kinds}]`);
      out.push(`    checkpoints at sizes ${l.checkpoints.join(', ') || 'none'}; signed by log key ${l.logKey ?? '(not verified)'}; witnesses: ${l.witnesses.join(', ') || 'none'}`);
    }
  }
  if (r.keySources.length > 0) {
    out.push('', 'trusted keys (and where that trust came from):');
    for (const k of r.keySources) out.push(`  ${k}`);
  }
  if (r.firstProblem) {
    out.push('', `first bad record: ${formatProblem(r.firstProblem)}`, '', `problems (${r.problems.length}):`);
    for (const p of r.problems) out.push(`  ${formatProblem(p)}`);
  }
  if (r.warnings.length > 0) {
    out.push('', `warnings (${r.warnings.length}):`);
    for (const w of r.warnings) out.push(`  ${formatProblem(w)}`);
  }
  return out.join('\n') + '\n';
}

export const verify: Command = {
  name: 'verify',
  usage: 'helmctl verify PACK --trust-policy FILE [--json] [--workers N] [--max-pack-mib N]',
  async run(argv, io: Io) {
    if (argv.includes('--fleet')) return fleetVerify(argv, io); // a fleet pack (fleet.ts)
    const p = parse(argv, { 'trust-policy': { type: 'string' }, json: { type: 'boolean' }, workers: { type: 'string' }, 'max-pack-mib': { type: 'string' } }, { min: 1, max: 1 });
    const pack = p.positionals[0]!;
    const policy = await loadPolicy(required(p, 'trust-policy'));
    const w = optional(p, 'workers');
    const bytes = await readInput(pack, 'pack');
    // The memory bound (docs/spec/evidence-pack.md §Limits): decompressed members held, per member
    // and in total. Raise it to verify a larger pack, with the memory to match.
    const mib = optional(p, 'max-pack-mib');
    const maxBytes = mib !== undefined ? nonNegativeInt(mib, '--max-pack-mib') * 1024 * 1024 : undefined;
    if (maxBytes === 0) throw new UsageError('--max-pack-mib must be at least 1');
    const r = await verifyPackNode(bytes, policy, {
      ...(w !== undefined ? { workers: nonNegativeInt(w, '--workers') } : {}),
      ...(maxBytes !== undefined ? { limits: { maxFileBytes: maxBytes, maxTotalBytes: maxBytes } } : {}),
    });
    io.stdout.write(flag(p, 'json') ? JSON.stringify(r, null, 2) + '\n' : formatReport(pack, r));
    return !r.readable ? EXIT_ERROR : r.ok ? EXIT_OK : EXIT_INVALID;
  },
};
