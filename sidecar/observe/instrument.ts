// Watches the kernel objects the surfaces use without changing what they do: every ProofGraph
// append is timed and counted, and every PEP outcome feeds the pending-approvals book and the
// store-fault detector. The wrappers sit on the instances the surfaces are handed, so any surface
// that decides through this PEP is observed the same way. (Decision and upstream spans are the
// surfaces' own: they know the model and the tool-call id.)
import type { DecideOptions, Pep, PepOutcome } from '../../kernel/pep/index.js';
import type { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import type { PendingApprovals } from '../approvals/pending.js';
import type { SidecarMetrics } from './metrics.js';

export function instrumentWriter(writer: ProofGraphWriter, metrics: SidecarMetrics): void {
  // stage() is where every node goes in (append() and the PEP's one-round path both call it).
  const stage = writer.stage.bind(writer);
  writer.stage = (kind, body, o) => {
    const t0 = process.hrtime.bigint();
    let staged;
    try {
      staged = stage(kind, body, o);
    } catch (e) {
      metrics.receiptFailed(kind);
      throw e;
    }
    staged.durable.then(
      () => metrics.receiptAppended(kind, Number(process.hrtime.bigint() - t0) / 1e9),
      () => metrics.receiptFailed(kind),
    );
    return staged;
  };
}

export function instrumentPep(pep: Pep, pending: PendingApprovals, onOutcome: (o: PepOutcome) => void): void {
  const decide = pep.decide.bind(pep);
  pep.decide = (request: unknown, options?: DecideOptions) =>
    decide(request, options).then((o) => {
      pending.observeDecision(request, o);
      onOutcome(o);
      return o;
    });
  const approve = pep.approve.bind(pep);
  pep.approve = (submission: unknown) =>
    approve(submission).then((r) => {
      if (r.accepted) pending.observeApproval(submission as Parameters<PendingApprovals['observeApproval']>[0], r);
      return r;
    });
}
