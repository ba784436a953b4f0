// helmctl replay: re-derive every node of a pack, list the causal chains, and re-evaluate every
// Guardian decision from its recorded input under its pinned bundle (no trust policy needed).
import { nodeSuite } from '../../kernel/crypto/node.js';
import { replayPack, type CausalChain, type NodeRef } from '../../kernel/evidence/replay.js';
import { compileBundle } from '../../kernel/guardian/index.js';
import { guardianReplayer } from '../../kernel/pep/index.js';
import { collectComputeCalls } from '../../sandbox/replay.js';
import { flag, optional, parse } from '../args.js';
import { CliError, EXIT_ERROR, EXIT_INVALID, EXIT_OK } from '../io.js';
import { readBundle } from './bundle/files.js';
import type { Command } from './command.js';
import { computeLines, replaySandboxed } from './replay-compute.js';
import { formatProblem, readInput } from './verify.js';

const at = (r: NodeRef): string => `${r.origin}#${r.index}`;

function chainLine(c: CausalChain): string {
  const steps: string[] = [];
  steps.push(c.intent ? `intent ${at(c.intent)}` : 'intent (not in pack)');
  if (c.decision) steps.push(`decision ${at(c.decision)} ${c.decision.verdict} ${c.decision.reasonCode}`);
  for (const a of c.approvals) steps.push(`approval ${at(a)} ${a.verdict} by ${a.approver}`);
  if (c.effect) steps.push(`effect ${at(c.effect)} ${c.effect.status}${c.effect.confirmed ? '' : ' (unconfirmed)'}`);
  if (c.result) steps.push(`result ${at(c.result)} ${c.result.status}`);
  return `  ${c.callId}${c.tool ? ` (${c.tool})` : ''}: ${steps.join(' -> ')}${c.complete ? '' : '  [incomplete]'}`;
}

async function whatIf(path: string | undefined) {
  if (path === undefined) return undefined;
  const b = await readBundle(path);
  if (!b.ok) throw new CliError(b.message, b.code);
  const c = compileBundle(b.doc, nodeSuite);
  if (!c.ok) throw new CliError(`${path} does not compile: ${c.errors[0]?.path} ${c.errors[0]?.message}`, 'ERR_BUNDLE_LINT');
  return c.bundle;
}

export const replay: Command = {
  name: 'replay',
  usage: 'helmctl replay PACK [--json] [--bundle WHAT_IF_BUNDLE] [--modules DIR]',
  async run(argv, io) {
    const p = parse(argv, { json: { type: 'boolean' }, bundle: { type: 'string' }, modules: { type: 'string' } }, { min: 1, max: 1 });
    const pack = p.positionals[0]!;
    const bundle = await whatIf(optional(p, 'bundle'));
    const collected = collectComputeCalls(guardianReplayer({ suite: nodeSuite, ...(bundle ? { bundle } : {}) }), nodeSuite);
    const r = replayPack(await readInput(pack, 'pack'), { suite: nodeSuite, decisions: collected.replayer });
    const compute = await replaySandboxed(collected.calls, optional(p, 'modules'));
    const computeOk = compute.every((c) => c.status !== 'diverged');
    if (flag(p, 'json')) io.stdout.write(JSON.stringify({ ...r, ok: r.ok && computeOk, compute }, null, 2) + '\n');
    else {
      const out = [`${r.ok ? 'REPLAYED' : 'REPLAY FAILED'}: ${pack} (signatures and checkpoints are not checked here: use helmctl verify)`];
      for (const l of r.logs) out.push(`log ${l.dir} (origin ${l.origin}): entries ${l.from}..${l.size - 1} (${l.entries})`);
      out.push('', `causal chains (${r.chains.length}):`, ...r.chains.map(chainLine));
      const d = r.decisions;
      if (d) {
        const under = bundle ? ` under what-if bundle ${bundle.contentHash}` : ' from recorded inputs under their pinned bundles';
        out.push('', `decisions re-evaluated${under}: ${d.decisions} (${d.identical} identical, ${d.diverged} diverged, ${d.skipped} skipped)`);
        for (const x of d.results.filter((y) => y.status === 'skipped')) out.push(`  skipped ${x.origin}#${x.index} ${x.callId}: ${x.reasons.join('; ')}`);
      }
      out.push(...computeLines(compute, optional(p, 'modules')));
      if (r.problems.length > 0) out.push('', `problems (${r.problems.length}):`, ...r.problems.map((x) => `  ${formatProblem(x)}`));
      if (r.warnings.length > 0) out.push('', `warnings (${r.warnings.length}):`, ...r.warnings.map((x) => `  ${formatProblem(x)}`));
      io.stdout.write(out.join('\n') + '\n');
    }
    return !r.readable ? EXIT_ERROR : r.ok && computeOk ? EXIT_OK : EXIT_INVALID;
  },
};
