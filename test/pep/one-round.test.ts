// One durable round per decision (pep.md §2): the intent, the input blob and the decision become
// durable in the same group commit, so an ALLOW at concurrency 1 costs one log batch (one
// fdatasync round), not an intent batch followed by a decision batch.
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { readBlobs } from '../../kernel/pep/blob-store.js';
import { lookup, openHarness, type Harness } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(() => h.cleanup());

describe('one durable round per decision', () => {
  it('one call alone: intent and decision in one log batch, input blob durable when answered', async () => {
    await h.pep.decide(lookup({ callId: 'warm-up' }));
    const before = h.writer.storeStats;
    const o = await h.pep.decide(lookup({ callId: 'one-round' }));
    const after = h.writer.storeStats;
    expect([o.verdict, o.recorded]).toEqual(['ALLOW', true]);
    expect(after.appends - before.appends).toBe(2);
    expect(after.batches - before.batches).toBe(1);
    // Answered means durable: the decision, its intent parent and its input are all on disk.
    const nodes = (await readLog(h.logDir)).entries.map((e) => decodeNode(nodeSuite, e));
    const decision = nodes.find((n) => n.entryHash === o.decision!.entryHash)!;
    expect(decision.statement.predicate.parents).toEqual([{ hash: o.intent!.entryHash }]);
    const blobs = await readBlobs(h.logDir, nodeSuite);
    expect(blobs!.has(o.inputDigest.slice('sha256:'.length))).toBe(true);
  });

  it('sixteen concurrent calls share one round and keep decision order', async () => {
    const before = h.writer.storeStats;
    const outcomes = await Promise.all(Array.from({ length: 16 }, (_, i) => h.pep.decide(lookup({ callId: `c16-${i}` }))));
    const after = h.writer.storeStats;
    expect(outcomes.every((o) => o.recorded)).toBe(true);
    expect(after.batches - before.batches).toBe(1);
    const indexes = outcomes.map((o) => o.decision!.index);
    expect([...indexes].sort((x, y) => x - y)).toEqual(indexes);
  });

  it('an execution reported whole: effect and result in one log batch, chained to the decision', async () => {
    const o = await h.pep.decide(lookup({ callId: 'executed-once' }));
    const before = h.writer.storeStats;
    const both = await h.pep.recordExecution(o.decision!.entryHash, { status: 'executed' }, { status: 'ok', output: { id: 'cus_12345678', name: 'Ann' } });
    const after = h.writer.storeStats;
    expect(both.effect.recorded && both.result?.recorded).toBe(true);
    expect(after.appends - before.appends).toBe(2);
    expect(after.batches - before.batches).toBe(1);
    if (!both.effect.recorded || !both.result?.recorded) return;
    const nodes = new Map((await readLog(h.logDir)).entries.map((e) => decodeNode(nodeSuite, e)).map((n) => [n.entryHash, n]));
    expect(nodes.get(both.effect.node.entryHash)!.statement.predicate.parents).toEqual([{ hash: o.decision!.entryHash }]);
    expect(nodes.get(both.result.node.entryHash)!.statement.predicate.parents).toEqual([{ hash: both.effect.node.entryHash }]);
    expect(h.pep.executionOf(o.decision!.entryHash)).toEqual({ effect: both.effect.node.entryHash, result: both.result.node.entryHash });
    // A call is executed at most once, however it is reported.
    const again = await h.pep.recordExecution(o.decision!.entryHash, { status: 'executed' }, { status: 'ok', output: {} });
    expect(again.effect).toMatchObject({ recorded: false, code: 'ERR_IDEMPOTENCY_DUPLICATE' });
    expect(await h.pep.recordEffect(o.decision!.entryHash, { status: 'executed' })).toMatchObject({ recorded: false, code: 'ERR_IDEMPOTENCY_DUPLICATE' });
  });
});
