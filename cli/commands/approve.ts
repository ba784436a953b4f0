// helmctl approve: an approver signs one answer to an escalation. The challenge (escalated
// decision hash, bundle hash, nonce) comes from the PEP's ESCALATE answer, as a file or as flags;
// the output is the submission the PEP's approve endpoint takes. Signing happens offline, with
// the approver's own key: the PEP checks that key against the bundle and the time on its clock.
import { signApproval, submissionProblem, type ApprovalTarget } from '../../kernel/pep/index.js';
import { flag, optional, parse, required } from '../args.js';
import { EXIT_OK, UsageError } from '../io.js';
import { loadSigningKey, writeNew } from '../key-files.js';
import { pretty, readText } from './bundle/files.js';
import type { Command } from './command.js';

async function target(challenge: string | undefined, flags: { decision?: string; policyDigest?: string; nonce?: string }): Promise<ApprovalTarget> {
  let t: Record<string, unknown> = flags;
  if (challenge !== undefined) {
    let c: unknown;
    try {
      c = JSON.parse(await readText(challenge, 'challenge'));
    } catch (e) {
      if (e instanceof SyntaxError) throw new UsageError(`challenge ${challenge} is not JSON: ${e.message}`);
      throw e;
    }
    const o = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
    t = { decision: o.decision, policyDigest: o.policyDigest, nonce: o.nonce };
  }
  // Shape-check with placeholder answer fields: only the challenge part can be wrong here.
  const problem = submissionProblem({ ...t, approver: 'x+00000000', verdict: 'approve', signature: `${'A'.repeat(86)}==` });
  if (problem) throw new UsageError(problem);
  return t as unknown as ApprovalTarget;
}

export const approve: Command = {
  name: 'approve',
  usage: 'helmctl approve --key APPROVER_KEY (--challenge FILE | --decision HASH --policy-digest HASH --nonce NONCE) [--reject] [--out FILE] [--force]',
  async run(argv, io) {
    const p = parse(
      argv,
      { key: { type: 'string' }, challenge: { type: 'string' }, decision: { type: 'string' }, 'policy-digest': { type: 'string' }, nonce: { type: 'string' }, reject: { type: 'boolean' }, out: { type: 'string' }, force: { type: 'boolean' } },
      { min: 0, max: 0 },
    );
    const keyPath = required(p, 'key');
    const challenge = optional(p, 'challenge');
    const flags = { decision: optional(p, 'decision'), policyDigest: optional(p, 'policy-digest'), nonce: optional(p, 'nonce') };
    const given = Object.values(flags).filter((v) => v !== undefined).length;
    if (challenge !== undefined && given > 0) throw new UsageError('give --challenge or --decision/--policy-digest/--nonce, not both');
    if (challenge === undefined && given < 3) throw new UsageError('--challenge FILE, or all of --decision, --policy-digest and --nonce, are required');
    const t = await target(challenge, flags);
    const key = await loadSigningKey(keyPath, 'approver key');
    const submission = signApproval(t, key, flag(p, 'reject') ? 'reject' : 'approve');
    const out = optional(p, 'out');
    if (out === undefined) io.stdout.write(pretty(submission));
    else {
      await writeNew(out, pretty(submission), 0o600, flag(p, 'force'));
      io.stdout.write(`wrote ${out}: ${submission.verdict} of ${submission.decision} by ${submission.approver}\n`);
    }
    return EXIT_OK;
  },
};
