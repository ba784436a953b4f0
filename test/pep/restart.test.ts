// Durability of the PEP's state: everything is rebuilt from its own log after a restart, so a
// budget, a rate bucket, a used idempotency key, an approval ceremony and an effect survive it.
import { signApproval } from '../../kernel/pep/index.js';
import { approvers, lookup, mail, openHarness, pepBundle, refund, signed, type Harness } from './support.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness({ policy: signed(pepBundle((d) => (d.budgets![0]!.maxCalls = 3))) });
});
afterEach(() => h.cleanup());

const verdictOf = async (r: unknown) => {
  const o = await h.pep.decide(r);
  expect(o.recorded).toBe(true);
  return `${o.verdict} ${o.reasonCode}`;
};

describe('PEP state after a restart', () => {
  it('keeps budget counters', async () => {
    expect(await verdictOf(lookup())).toBe('ALLOW ALLOWED');
    expect(await verdictOf(lookup())).toBe('ALLOW ALLOWED');
    await h.restart();
    expect(h.pep.rebuilt.decisions).toBe(2);
    expect(h.pep.budgetCounter('support-calls-hourly', '["principal","agent:sup-1"]')).toEqual({ windowStart: '2026-11-22T10:00:00.000Z', calls: 2, cost: 2 });
    expect(await verdictOf(lookup())).toBe('ALLOW ALLOWED');
    expect(await verdictOf(lookup())).toBe('DENY BUDGET_EXCEEDED');
  });

  it('keeps token buckets', async () => {
    await h.restart({ policy: signed(pepBundle()) });
    for (let i = 0; i < 3; i++) expect(await verdictOf(mail(`m${i}`))).toBe('ALLOW ALLOWED');
    await h.restart({ policy: signed(pepBundle()) });
    expect(await verdictOf(mail('m3'))).toBe('ALLOW ALLOWED');
    expect(await verdictOf(mail('m4'))).toBe('ALLOW ALLOWED');
    expect(await verdictOf(mail('m5'))).toBe('DENY TEMPORAL_THROTTLE');
  });

  it('keeps used idempotency keys', async () => {
    expect(await verdictOf(lookup({ idempotencyKey: 'once' }))).toBe('ALLOW ALLOWED');
    await h.restart();
    expect(await verdictOf(lookup({ idempotencyKey: 'once' }))).toBe('DENY ERR_IDEMPOTENCY_DUPLICATE');
    expect(await verdictOf(lookup({ idempotencyKey: 'twice' }))).toBe('ALLOW ALLOWED');
  });

  it('keeps an approval ceremony across restarts, and lets the call through exactly once', async () => {
    await h.restart({ policy: signed(pepBundle()) });
    const e = await h.pep.decide(refund(20000, { idempotencyKey: 'refund-9' }));
    expect(e.verdict).toBe('ESCALATE');
    const ch = e.challenge!;
    await h.restart({ policy: signed(pepBundle()) });
    h.clock.advance(61_000);
    expect(await h.pep.approve(signApproval(ch, approvers.alice))).toMatchObject({ accepted: true, approvals: 1, quorum: 2, allowedFrom: null });
    await h.restart({ policy: signed(pepBundle()) });
    expect(await h.pep.approve(signApproval(ch, approvers.alice))).toMatchObject({ accepted: false, code: 'ERR_APPROVAL_REPLAYED' });
    expect(await h.pep.approve(signApproval(ch, approvers.bob))).toMatchObject({ accepted: true, approvals: 2, allowedFrom: '2026-11-22T10:16:31.000Z' });
    await h.restart({ policy: signed(pepBundle()) });
    expect(await verdictOf(refund(20000, { idempotencyKey: 'refund-9' }))).toBe('ESCALATE APPROVAL_REQUIRED');
    h.clock.advance(30_000);
    expect(await verdictOf(refund(20000, { idempotencyKey: 'refund-9' }))).toBe('ALLOW APPROVAL_GRANTED');
    await h.restart({ policy: signed(pepBundle()) });
    expect(await verdictOf(refund(20000, { idempotencyKey: 'refund-9' }))).toBe('DENY ERR_IDEMPOTENCY_DUPLICATE');
    expect(await h.pep.approve(signApproval(ch, approvers.carol))).toMatchObject({ accepted: false, code: 'ERR_APPROVAL_REPLAYED' });
  });

  it('refuses a second effect for a decision after a restart', async () => {
    const o = await h.pep.decide(lookup());
    const first = await h.pep.recordEffect(o.decision!.entryHash, { status: 'executed', confirmed: true });
    expect(first.recorded).toBe(true);
    await h.restart();
    expect(await h.pep.recordEffect(o.decision!.entryHash, { status: 'executed', confirmed: true })).toMatchObject({ recorded: false, code: 'ERR_IDEMPOTENCY_DUPLICATE' });
    if (!first.recorded) throw new Error('unreachable');
    expect((await h.pep.recordResult(first.node.entryHash, { status: 'ok', output: { id: 'c', name: 'n', tier: 'free' } })).recorded).toBe(true);
    await h.restart();
    expect(await h.pep.recordResult(first.node.entryHash, { status: 'ok', output: { id: 'c', name: 'n', tier: 'free' } })).toMatchObject({ recorded: false, code: 'ERR_IDEMPOTENCY_DUPLICATE' });
  });

  it('checks output drift against the bundle that allowed the call, after the policy changed and a restart', async () => {
    const o = await h.pep.decide(lookup());
    const e = await h.pep.recordEffect(o.decision!.entryHash, { status: 'executed', confirmed: true });
    if (!e.recorded) throw new Error(e.message);
    // The new bundle drops the output schema; the call was allowed under the old one.
    await h.restart({ policy: signed(pepBundle((d) => delete d.tools['crm.lookup_customer']!.output)) });
    const r = await h.pep.recordResult(e.node.entryHash, { status: 'ok', output: { anything: true } });
    expect(r).toMatchObject({ recorded: true, status: 'rejected', reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT' });
  });
});
