// helmctl replay: re-derive every node of a pack and list the causal chains (no trust policy).
import { nodeSuite } from '../../kernel/crypto/node.js';
import { replayPack, type CausalChain, type NodeRef } from '../../kernel/evidence/replay.js';
import { flag, parse } from '../args.js';
import { EXIT_ERROR, EXIT_INVALID, EXIT_OK } from '../io.js';
import type { Command } from './command.js';
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

export const replay: Command = {
  name: 'replay',
  summary: 're-derive every node of a pack and list causal chains (no trust policy needed)',
  usage: 'helmctl replay PACK [--json]',
  async run(argv, io) {
    const p = parse(argv, { json: { type: 'boolean' } }, { min: 1, max: 1 });
    const pack = p.positionals[0]!;
    const r = replayPack(await readInput(pack, 'pack'), { suite: nodeSuite });
    if (flag(p, 'json')) io.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else {
      const out = [`${r.ok ? 'REPLAYED' : 'REPLAY FAILED'}: ${pack} (signatures and checkpoints are not checked here: use helmctl verify)`];
      for (const l of r.logs) out.push(`log ${l.dir} (origin ${l.origin}): entries ${l.from}..${l.size - 1} (${l.entries})`);
      out.push('', `causal chains (${r.chains.length}):`, ...r.chains.map(chainLine));
      if (r.problems.length > 0) out.push('', `problems (${r.problems.length}):`, ...r.problems.map((x) => `  ${formatProblem(x)}`));
      if (r.warnings.length > 0) out.push('', `warnings (${r.warnings.length}):`, ...r.warnings.map((x) => `  ${formatProblem(x)}`));
      io.stdout.write(out.join('\n') + '\n');
    }
    return !r.readable ? EXIT_ERROR : r.ok ? EXIT_OK : EXIT_INVALID;
  },
};
