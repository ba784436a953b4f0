// Past the high-water mark every call is denied RECEIPT_BACKLOG with a signed, durable local receipt
// (a real PEP and ProofGraph log); below it the guardian decides as usual.
import { nodeSuite } from '../../kernel/crypto/node.js';
import { gateOnBacklog } from '../../sidecar/ship/backlog-gate.js';
import { lookup, openHarness, receiptOf, type Harness } from '../pep/support.js';

describe('backlog gate', () => {
  let h: Harness;
  let over = false;
  beforeAll(async () => {
    h = await openHarness();
    gateOnBacklog(h.pep, h.writer, nodeSuite, () => ({ over, unshippedBytes: over ? 5000 : 10, highWaterBytes: 4096 }));
  });
  afterAll(async () => {
    await h.cleanup();
  });

  it('lets the guardian decide below the high-water mark', async () => {
    const o = await h.pep.decide(lookup());
    expect(o.verdict).toBe('ALLOW');
  });

  it('denies RECEIPT_BACKLOG with a signed local receipt above it, and recovers when shipping catches up', async () => {
    over = true;
    const o = await h.pep.decide(lookup());
    expect(o).toMatchObject({ verdict: 'DENY', reasonCode: 'RECEIPT_BACKLOG', recorded: true });
    expect(o.detail).toMatch(/5000 receipt bytes .*\(high-water mark 4096\)/);
    const r = await receiptOf(h, o);
    expect(r.body).toMatchObject({ verdict: 'DENY', reasonCode: 'RECEIPT_BACKLOG' });
    over = false;
    expect((await h.pep.decide(lookup())).verdict).toBe('ALLOW');
  });

  it('passes the decide options through below the mark: a decision still cites the decisions it follows', async () => {
    const first = await h.pep.decide(lookup());
    const o = await h.pep.decide(lookup(), { follows: [first.decision!.entryHash] });
    expect(o.verdict).toBe('ALLOW');
    const r = await receiptOf(h, o);
    expect(r.decision.statement.predicate.parents).toEqual(expect.arrayContaining([{ hash: first.decision!.entryHash }]));
  });
});
