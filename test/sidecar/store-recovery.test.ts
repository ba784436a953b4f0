// Recovery after the store fails (issue 10 item 11). The choice: liveness fails once the store has
// failed, so Kubernetes restarts the container; the restart reopens the log (recovering its tail),
// records the outage as a gap, and serves again once writes succeed. In-process the store is never
// reopened: the PEP's state must come from the durable log, which is what a start rebuilds.
import type { FileHandle } from 'node:fs/promises';
import type { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { body, call, Pod } from './support.js';

/** Closes the active segment under the writer, so the next write fails (as the store's failure tests do). */
async function breakStore(w: ProofGraphWriter): Promise<void> {
  const store = (w as unknown as { store: { active: { fh: FileHandle } } }).store;
  await store.active.fh.close();
}

it('a failed store fails liveness; the restart is ready again, records a gap, and the pack verifies', async () => {
  const pod = await Pod.create();
  try {
    const r = await pod.start();
    expect((await r.admin('/healthz')).status).toBe(200);
    pod.script(() => ({ toolCalls: [call('call_1', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    await r.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'ok' }] });
    await breakStore(r.sidecar.writer);
    pod.script(() => ({ toolCalls: [call('call_2', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    await expect(r.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 503 });

    // Not ready, and not live: the kubelet restarts the container instead of leaving it not-ready.
    expect((await r.admin('/readyz')).status).toBe(503);
    const live = await r.admin('/healthz');
    expect(live.status).toBe(503);
    expect(await live.json()).toMatchObject({ status: 'failing', reason: 'store_unavailable' });
    await r.sidecar.stop();

    // The restart (writes succeed again): ready, serving, and the outage is a gap in the log.
    const again = await pod.start();
    expect((await again.admin('/readyz')).status).toBe(200);
    expect((await again.admin('/healthz')).status).toBe(200);
    pod.script(() => ({ toolCalls: [call('call_3', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    const ok = await again.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'after' }] });
    expect(ok.choices[0]!.message.tool_calls?.map((t) => t.id)).toEqual(['call_3']);
    await again.sidecar.stop();
    const gaps = (await pod.nodes()).filter((n) => n.kind === 'gap');
    expect(gaps).toHaveLength(1);
    expect(body(gaps[0]!).reason).toBe('unclean_shutdown');
    const verified = await pod.exportAndVerify();
    expect(verified.code).toBe(0);
  } finally {
    await pod.cleanup();
  }
}, 60_000);
