// Atomic budgets: the evaluation and the reservation of each call happen in one tick, so 1,000
// calls started together against a budget of 100 allow exactly 100, each with its own receipt.
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { signApproval } from '../../kernel/pep/index.js';
import { approvers, lookup, openHarness, pepBundle, refund, signed, type Harness } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await openHarness({ policy: signed(pepBundle((d) => (d.budgets![0]!.maxCalls = 100))) });
});
afterAll(() => h.cleanup());

describe('1,000 concurrent calls against a budget of 100', () => {
  it('allow exactly 100 and deny the rest BUDGET_EXCEEDED, every one receipted', async () => {
    const outcomes = await Promise.all(Array.from({ length: 1000 }, (_, i) => h.pep.decide(lookup({ callId: `burst-${i}` }))));
    const allowed = outcomes.filter((o) => o.verdict === 'ALLOW');
    expect(allowed).toHaveLength(100);
    expect(outcomes.filter((o) => o.verdict === 'DENY' && o.reasonCode === 'BUDGET_EXCEEDED')).toHaveLength(900);
    expect(outcomes.every((o) => o.recorded && o.decision !== null)).toBe(true);
    expect(h.pep.budgetCounter('support-calls-hourly', '["principal","agent:sup-1"]')).toMatchObject({ calls: 100 });

    const log = await readLog(h.logDir);
    const decisions = log.entries.map((e) => decodeNode(nodeSuite, e)).filter((n) => n.kind === 'decision');
    expect(decisions).toHaveLength(1000);
    expect(decisions.filter((n) => (n.statement.predicate.body as { verdict: string }).verdict === 'ALLOW')).toHaveLength(100);
    // Decision nodes are in decision order: the first 100 burst calls are the allowed ones.
    expect(decisions.slice(0, 100).every((n) => (n.statement.predicate.body as { verdict: string }).verdict === 'ALLOW')).toBe(true);
  });

  it('the budget stays spent after a restart', async () => {
    await h.restart();
    const o = await h.pep.decide(lookup());
    expect([o.verdict, o.reasonCode, o.recorded]).toEqual(['DENY', 'BUDGET_EXCEEDED', true]);
  });

  it('concurrent answers by the same approver count once', async () => {
    const e = await h.pep.decide(refund(20000, { principal: { id: 'agent:sup-2', roles: ['support'] } }));
    expect(e.verdict).toBe('ESCALATE');
    h.clock.advance(61_000);
    const sub = signApproval(e.challenge!, approvers.alice);
    const results = await Promise.all([h.pep.approve(sub), h.pep.approve(sub), h.pep.approve(sub)]);
    expect(results.filter((r) => r.accepted)).toHaveLength(1);
    expect(results.filter((r) => !r.accepted).map((r) => !r.accepted && r.code)).toEqual(['ERR_APPROVAL_REPLAYED', 'ERR_APPROVAL_REPLAYED']);
  });
});
