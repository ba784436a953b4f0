// The work queue's guarantees: dedupe, one worker per key, per-key exponential backoff.
import { Controller } from '../../operator/runtime/controller.js';
import { WorkQueue } from '../../operator/runtime/workqueue.js';

describe('WorkQueue', () => {
  it('dedupes queued keys and re-queues a key added while it is being processed', async () => {
    const q = new WorkQueue('t');
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.depth).toBe(2);
    const k = await q.get();
    expect(k).toBe('a');
    q.add('a');
    expect(q.depth).toBe(1);
    expect(await q.get()).toBe('b');
    q.done('a');
    expect(await q.get()).toBe('a');
    q.shutdown();
    expect(await q.get()).toBeUndefined();
  });

  it('backs off exponentially per key, capped, and forget resets it', () => {
    const q = new WorkQueue('t', { baseDelayMs: 10, maxDelayMs: 50 });
    expect([q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k')]).toEqual([10, 20, 40, 50]);
    expect(q.addRateLimited('other')).toBe(10);
    q.forget('k');
    expect(q.addRateLimited('k')).toBe(10);
    q.shutdown();
  });

  it('never runs one key on two workers at once, and retries failures', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const c = new Controller(
      {
        kind: 'Test',
        async reconcile() {
          calls++;
          active++;
          maxActive = Math.max(maxActive, active);
          await new Promise((r) => setTimeout(r, 20));
          active--;
          if (calls < 3) throw new Error('transient');
        },
      },
      { maxConcurrency: 4, baseDelayMs: 5 },
    );
    c.start(['k']);
    for (let i = 0; i < 10; i++) c.enqueue('k');
    const deadline = Date.now() + 3000;
    while (calls < 4 && Date.now() < deadline) {
      c.enqueue('k');
      await new Promise((r) => setTimeout(r, 10));
    }
    await c.stop();
    expect(maxActive).toBe(1);
    expect(calls).toBeGreaterThanOrEqual(4);
  });
});
