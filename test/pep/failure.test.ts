// Fail-closed recording: no ALLOW without a durable DECISION receipt. When the ProofGraph cannot
// record, the caller gets DENY RECEIPT_UNAVAILABLE (the sidecar's 503); a fault inside the PEP is
// still a signed DENY.
import type { NodeKind } from '../../kernel/contracts/schemas.js';
import type { AppendOptions } from '../../kernel/proofgraph/graph-writer.js';
import { lookup, openHarness, receiptOf, refund } from './support.js';

describe('recording failures', () => {
  it('an ALLOW whose decision node cannot be appended becomes an unrecorded DENY', async () => {
    const h = await openHarness();
    try {
      const append = h.writer.append.bind(h.writer);
      h.writer.append = (kind: NodeKind, body: Record<string, unknown>, o?: AppendOptions) => (kind === 'decision' ? Promise.reject(new Error('disk full')) : append(kind, body, o));
      const o = await h.pep.decide(lookup());
      expect(o).toMatchObject({ verdict: 'DENY', reasonCode: 'RECEIPT_UNAVAILABLE', recorded: false, decision: null });
      expect(o.detail).toMatch(/disk full.*would have been ALLOW ALLOWED/);
      await expect(receiptOf(h, o)).rejects.toThrow(/not recorded/);
    } finally {
      await h.cleanup();
    }
  });

  it('a closed writer answers every call DENY RECEIPT_UNAVAILABLE at once', async () => {
    const h = await openHarness();
    try {
      await h.writer.close();
      const outs = await Promise.all([h.pep.decide(lookup()), h.pep.decide(refund(500))]);
      for (const o of outs) expect(o).toMatchObject({ verdict: 'DENY', reasonCode: 'RECEIPT_UNAVAILABLE', recorded: false });
    } finally {
      await h.pep.close();
      await h.cleanup().catch(() => undefined);
    }
  });

  it('a closed PEP records nothing and allows nothing', async () => {
    const h = await openHarness();
    try {
      await h.pep.close();
      expect(await h.pep.decide(lookup())).toMatchObject({ verdict: 'DENY', reasonCode: 'RECEIPT_UNAVAILABLE', recorded: false });
    } finally {
      await h.cleanup();
    }
  });

  it('a fault inside the PEP is a signed DENY GUARDIAN_ERROR', async () => {
    const h = await openHarness({
      pep: {
        random: () => {
          throw new Error('entropy source failed');
        },
      },
    });
    try {
      const o = await h.pep.decide(refund(20000));
      expect(o).toMatchObject({ verdict: 'DENY', reasonCode: 'GUARDIAN_ERROR', recorded: true });
      expect(o.detail).toMatch(/entropy source failed/);
      expect((await receiptOf(h, o)).body).toMatchObject({ verdict: 'DENY', reasonCode: 'GUARDIAN_ERROR' });
    } finally {
      await h.cleanup();
    }
  });
});
