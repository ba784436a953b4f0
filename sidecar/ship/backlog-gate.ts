// Backpressure (docs/fleet.md §Backlog): when more receipt bytes than the high-water mark are not
// yet cosigned by the collector, every new call is denied RECEIPT_BACKLOG with a signed local
// receipt. The local log keeps working, so the deny is durable; the guardian is not consulted, so
// nothing is allowed that could not be shipped. Below the mark, calls go through untouched: the
// decision path never waits on the network.
import type { CryptoSuite } from '../../kernel/crypto/suite.js';
import type { DecideOptions, Pep, PepOutcome } from '../../kernel/pep/index.js';
import type { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { denyBeforeGuardian } from '../identity/gate.js';

export function gateOnBacklog(pep: Pep, writer: ProofGraphWriter, suite: CryptoSuite, backlog: () => { over: boolean; unshippedBytes: number; highWaterBytes: number }): void {
  const decide = pep.decide.bind(pep);
  pep.decide = (request: unknown, options?: DecideOptions): Promise<PepOutcome> => {
    const b = backlog();
    if (!b.over) return decide(request, options);
    const detail = `${b.unshippedBytes} receipt bytes are not yet cosigned by the fleet collector (high-water mark ${b.highWaterBytes}); calls are denied until shipping catches up`;
    return denyBeforeGuardian(writer, suite, request, 'RECEIPT_BACKLOG', detail);
  };
}
