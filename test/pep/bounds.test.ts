// Memory bounds (issue 10, item 7): every per-call structure of the PEP and the proxy is capped, so a
// long-running sidecar's memory does not grow with the number of calls. Structural checks only.
import { ToolCallLedger } from '../../sidecar/openai/ledger.js';
import { openHarness, req } from './support.js';

describe('PEP memory bounds', () => {
  it('keeps at most maxDecisions decisions and effects and maxOpenAllows open ALLOWs, refusing reports about forgotten ones', async () => {
    const h = await openHarness({ pep: { maxDecisions: 20, maxOpenAllows: 5, maxIndexedBlobs: 10 } });
    try {
      const hashes: string[] = [];
      for (let i = 0; i < 60; i++) {
        const out = await h.pep.decide(req('crm.lookup_customer', { customerId: `cus_${String(10_000_000 + i)}` }, { connector: 'crm-api', surface: 'openai' }));
        expect(out.verdict).toBe('ALLOW');
        hashes.push(out.decision!.entryHash);
        if (i % 2 === 0) expect((await h.pep.recordEffect(out.decision!.entryHash, { status: 'executed', confirmed: false })).recorded).toBe(true);
        const f = h.pep.footprint();
        expect(f.decisions).toBeLessThanOrEqual(20);
        expect(f.effects).toBeLessThanOrEqual(20);
        expect(f.allowsByCall).toBeLessThanOrEqual(5);
        expect(f.allowsByArgs).toBeLessThanOrEqual(5);
        expect(f.blobIndex).toBeLessThanOrEqual(11); // 10 inputs + the pinned bundle
      }
      const forgotten = await h.pep.recordEffect(hashes[1] as `sha256:${string}`, { status: 'executed', confirmed: false });
      expect(forgotten).toMatchObject({ recorded: false, code: 'ERR_PEP_UNKNOWN_DECISION' });
      expect(h.pep.claim(hashes[1] as `sha256:${string}`)).toBe(false);
      const recent = await h.pep.recordEffect(hashes[59] as `sha256:${string}`, { status: 'executed', confirmed: false });
      expect(recent.recorded).toBe(true);
      // A restart folds the whole log but keeps the same bounds; the bundle, forgotten by the
      // index in file order, is still found in the file (an ok result checks its output schema).
      await h.restart({ maxDecisions: 20, maxOpenAllows: 5, maxIndexedBlobs: 10 });
      expect(h.pep.footprint().decisions).toBeLessThanOrEqual(20);
      expect(h.pep.footprint().effects).toBeLessThanOrEqual(20);
      expect(h.pep.footprint().blobIndex).toBeLessThanOrEqual(11);
      const after = await h.pep.decide(req('crm.lookup_customer', { customerId: 'cus_99999999' }, { connector: 'crm-api', surface: 'openai' }));
      const eff = await h.pep.recordEffect(after.decision!.entryHash, { status: 'executed', confirmed: false });
      expect(eff.recorded).toBe(true);
      const res = await h.pep.recordResult((eff as { node: { entryHash: `sha256:${string}` } }).node.entryHash, { status: 'ok', output: { id: 'cus_99999999', name: 'Ann', tier: 'pro' } });
      expect(res).toMatchObject({ recorded: true, status: 'ok' });
    } finally {
      await h.cleanup();
    }
  });
});

describe('proxy tool-call ledger bound', () => {
  it('stays at its cap however many calls it records', () => {
    const ledger = new ToolCallLedger(10);
    for (let i = 0; i < 1000; i++) {
      expect(ledger.reserve('agent:a', `call_${i}`)).toBe(true);
      if (i % 3 === 0) ledger.settle('agent:a', `call_${i}`, { callId: `call_${i}`, tool: 't', verdict: 'DENY', decision: 'sha256:00', effect: null, result: null, pending: null });
      expect(ledger.size).toBeLessThanOrEqual(10);
    }
    expect(ledger.get('agent:a', 'call_0')).toBeNull(); // evicted: an answer to it is refused as unknown
  });
});
