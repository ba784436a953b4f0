// Pep.allowedDecisionFor and Pep.claim: when an ALLOW made on one surface may be carried out on
// another, and that each ALLOW is taken for execution exactly once. Every linking condition is
// needed; each case below removes exactly one.
import { openHarness, pepBundle, req, signed } from './support.js';

const args = { customerId: 'cus_12345678' };
const proxied = () => req('crm.lookup_customer', args, { connector: 'crm-api', surface: 'openai' });

describe('Pep.allowedDecisionFor', () => {
  it('finds the ALLOW only for the same principal, tool, arguments and bundle, and only until it is executed', async () => {
    const h = await openHarness();
    try {
      const r = proxied();
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

      const again = await h.pep.decide(proxied());
      expect(h.pep.allowedDecisionFor(q)).toBe(again.decision!.entryHash);
      const effect = await h.pep.recordEffect(again.decision!.entryHash, { status: 'executed', confirmed: true });
      expect(effect.recorded).toBe(true);
      expect(h.pep.allowedDecisionFor(q)).toBeNull(); // executed at most once
    } finally {
      await h.cleanup();
    }
  });
});

describe('Pep.claim', () => {
  it('gives a delivered (openai) ALLOW to exactly one claimant, and then no surface finds it', async () => {
    const h = await openHarness();
    try {
      const r = proxied();
      const out = await h.pep.decide(r);
      const hash = out.decision!.entryHash;
      const q = { principal: r.principal.id, callId: r.callId, tool: r.tool, args };
      const claims = [h.pep.claim(hash), h.pep.claim(hash), h.pep.claim(hash)];
      expect(claims).toEqual([true, false, false]);
      expect(h.pep.allowedDecisionFor(q)).toBeNull();
      // The claimant records the execution; nobody else can.
      expect((await h.pep.recordEffect(hash, { status: 'executed', confirmed: true })).recorded).toBe(true);
      expect(h.pep.claim(hash)).toBe(false);
    } finally {
      await h.cleanup();
    }
  });

  it('holds the claim of an ALLOW made on an executing surface from the moment it is recorded', async () => {
    const h = await openHarness();
    try {
      const r = req('crm.lookup_customer', args, { connector: 'crm-api' }); // surface mcp
      const out = await h.pep.decide(r);
      expect(out.verdict).toBe('ALLOW');
      const q = { principal: r.principal.id, callId: r.callId, tool: r.tool, args };
      expect(h.pep.allowedDecisionFor(q)).toBeNull(); // never offered to another surface
      expect(h.pep.claim(out.decision!.entryHash)).toBe(false);
    } finally {
      await h.cleanup();
    }
  });

  it('keeps claims across a restart: an executing-surface ALLOW without an effect is not offered again', async () => {
    const h = await openHarness();
    try {
      const mcp = req('crm.lookup_customer', args, { connector: 'crm-api' });
      await h.pep.decide(mcp); // executed upstream, then the pod died before its effect was recorded
      const open = await h.pep.decide(req('crm.lookup_customer', { customerId: 'cus_87654321' }, { connector: 'crm-api', surface: 'openai' }));
      await h.restart();
      expect(h.pep.allowedDecisionFor({ principal: mcp.principal.id, callId: mcp.callId, tool: mcp.tool, args })).toBeNull();
      expect(h.pep.claim(open.decision!.entryHash)).toBe(true); // a delivered ALLOW is still open
      expect(h.pep.claim(open.decision!.entryHash)).toBe(false);
    } finally {
      await h.cleanup();
    }
  });

  it('does not give the claim back when the effect cannot be recorded (the call may have run)', async () => {
    const h = await openHarness();
    try {
      const r = proxied();
      const out = await h.pep.decide(r);
      const hash = out.decision!.entryHash;
      expect(h.pep.claim(hash)).toBe(true);
      await h.close(); // the store is gone: the effect append fails
      const effect = await h.pep.recordEffect(hash, { status: 'executed', confirmed: true });
      expect(effect.recorded).toBe(false);
      expect(h.pep.claim(hash)).toBe(false);
      expect(h.pep.allowedDecisionFor({ principal: r.principal.id, callId: r.callId, tool: r.tool, args })).toBeNull();
    } finally {
      await h.cleanup();
    }
  });
});
