// The sidecar keeps a start-up snapshot (issue 10 item 8): after a clean stop the next start resumes
// from it instead of folding the whole log, and --no-start-snapshot rebuilds in full as a check;
// both starts see the same budgets, and the pack verifies.
import { call, Pod } from './support.js';

const restoredAt = (lines: ReadonlyArray<{ msg: string } & Record<string, unknown>>): unknown => lines.find((l) => l.msg === 'PEP state restored')?.fromSnapshotAt;

it('a restart resumes from the snapshot; a full rebuild gives the same answers', async () => {
  const pod = await Pod.create();
  try {
    const a = await pod.start();
    expect(restoredAt(a.log.lines)).toBe(0);
    for (const id of ['call_1', 'call_2']) {
      pod.script(() => ({ toolCalls: [call(id, 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
      await a.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: id }] });
    }
    await a.sidecar.stop();
    const size = (await pod.nodes()).length;

    const b = await pod.start();
    expect(restoredAt(b.log.lines)).toBe(size);
    const budgetsB = await (await b.admin('/metrics')).text();
    await b.sidecar.stop();

    const c = await pod.start({ flags: ['--no-start-snapshot'] });
    expect(restoredAt(c.log.lines)).toBe(0);
    const budgetsC = await (await c.admin('/metrics')).text();
    await c.sidecar.stop();
    const budgetLines = (t: string) => t.split('\n').filter((l) => l.startsWith('helm_budget'));
    expect(budgetLines(budgetsB).length).toBeGreaterThan(0);
    expect(budgetLines(budgetsB)).toEqual(budgetLines(budgetsC));

    const verified = await pod.exportAndVerify();
    expect(verified.code).toBe(0);
  } finally {
    await pod.cleanup();
  }
}, 60_000);
