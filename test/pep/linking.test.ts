// Pep.allowedDecisionFor: when an ALLOW made on one surface may be carried out on another. Every
// condition is needed; each case below removes exactly one.
import { openHarness, pepBundle, req, signed } from './support.js';

const args = { customerId: 'cus_12345678' };

describe('Pep.allowedDecisionFor', () => {
  it('finds the ALLOW only for the same principal, tool, arguments and bundle, and only until it is executed', async () => {
    const h = await openHarness();
    try {
      const r = req('crm.lookup_customer', args, { connector: 'crm-api' });
      const out = await h.pep.decide(r);
      expect(out.verdict).toBe('ALLOW');
      const hash = out.decision!.entryHash;
      const q = { principal: r.principal.id, callId: 'mcp:other-id', tool: r.tool, args };
      expect(h.pep.allowedDecisionFor(q)).toBe(hash); // found by tool + arguments
      expect(h.pep.allowedDecisionFor({ ...q, callId: r.callId })).toBe(hash); // and by call id
      expect(h.pep.allowedDecisionFor({ ...q, args: { customerId: 'cus_87654321' } })).toBeNull();
      expect(h.pep.allowedDecisionFor({ ...q, callId: r.callId, args: { customerId: 'cus_87654321' } })).toBeNull();
      expect(h.pep.allowedDecisionFor({ ...q, principal: 'agent:someone-else' })).toBeNull();
      expect(h.pep.allowedDecisionFor({ ...q, tool: 'tickets.update' })).toBeNull();

      await h.pep.setPolicy(signed(pepBundle((d) => (d.metadata.version = 'changed'))));
      expect(h.pep.allowedDecisionFor(q)).toBeNull(); // decided under a bundle no longer in force

      const again = await h.pep.decide(req('crm.lookup_customer', args, { connector: 'crm-api' }));
      expect(h.pep.allowedDecisionFor(q)).toBe(again.decision!.entryHash);
      const effect = await h.pep.recordEffect(again.decision!.entryHash, { status: 'executed', confirmed: true });
      expect(effect.recorded).toBe(true);
      expect(h.pep.allowedDecisionFor(q)).toBeNull(); // executed at most once
    } finally {
      await h.cleanup();
    }
  });
});
