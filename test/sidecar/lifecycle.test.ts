// The sidecar's life: ready only with a writable store and a verified bundle, deny-all without a
// bundle, periodic heartbeats, and a graceful stop that finishes the call in flight before the
// shutdown heartbeat and final checkpoint, leaving a log that exports and verifies.
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { body, call, decisions, Pod, PRINCIPAL, waitFor } from './support.js';

describe('guardian sidecar lifecycle', () => {
  let pod: Pod;
  beforeEach(async () => {
    pod = await Pod.create();
  });
  afterEach(async () => {
    await pod.cleanup();
  });

  it('is ready with a verified bundle and governs tool calls from an unmodified OpenAI client', async () => {
    const r = await pod.start();
    const ready = await r.admin('/readyz');
    expect(ready.status).toBe(200);
    const rj = (await ready.json()) as { ready: boolean; checks: Record<string, Record<string, unknown>> };
    expect(rj.ready).toBe(true);
    expect(rj.checks.bundle).toMatchObject({ ok: true, status: 'ready', name: 'support-desk' });
    expect(rj.checks.store).toMatchObject({ ok: true, origin: 'helm.test/agent-pod-1' });
    expect((await r.admin('/healthz')).status).toBe(200);

    pod.script(() => ({ toolCalls: [call('call_ok', 'crm.lookup_customer', { customerId: 'cus_12345678' }), call('call_bad', 'ops.restart_service', { service: 'payments' })] }));
    const c = await r.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'look up the customer' }] });
    const delivered = c.choices[0]!.message.tool_calls ?? [];
    expect(delivered.map((t) => t.id)).toEqual(['call_ok']);

    const nodes = await pod.nodes();
    expect(decisions(nodes)).toEqual(
      expect.arrayContaining([
        ['call_ok', 'crm.lookup_customer', 'ALLOW', 'ALLOWED'],
        ['call_bad', 'ops.restart_service', 'DENY', 'DOMAIN_SCOPE_VIOLATION'],
      ]),
    );
    const intents = nodes.filter((n) => n.kind === 'intent');
    expect(intents.every((n) => body(n).principal === PRINCIPAL)).toBe(true);
  });

  it('without a bundle: not ready, and every tool call is denied BUNDLE_MISSING', async () => {
    const r = await pod.start({ noBundle: true });
    const ready = await r.admin('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, checks: { bundle: { ok: false, status: 'unavailable', reasonCode: 'BUNDLE_MISSING' }, store: { ok: true } } });

    pod.script(() => ({ toolCalls: [call('call_1', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    const c = await r.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'hi' }] });
    expect(c.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(decisions(await pod.nodes())).toContainEqual(['call_1', 'crm.lookup_customer', 'DENY', 'BUNDLE_MISSING']);
  });

  it('--ready-without-bundle: a deny-all sidecar reports ready (and still denies)', async () => {
    const r = await pod.start({ noBundle: true, flags: ['--ready-without-bundle'] });
    const ready = await r.admin('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { bundle: { ok: true, status: 'unavailable', reasonCode: 'BUNDLE_MISSING' } } });
  });

  it('writes periodic heartbeats, each followed by a checkpoint', async () => {
    const r = await pod.start({ flags: ['--heartbeat-interval-ms', '40'] });
    await new Promise((res) => setTimeout(res, 300));
    await r.sidecar.heartbeat();
    const beats = (await pod.nodes()).filter((n) => n.kind === 'heartbeat').map((n) => body(n));
    const periodic = beats.filter((b) => b.reason === 'periodic');
    expect(periodic.length).toBeGreaterThanOrEqual(2);
    expect(periodic[0]!.intervalUs).toBe(40_000);
  });

  it('graceful stop drains the call in flight, then a shutdown heartbeat and checkpoint; the log verifies', async () => {
    const r = await pod.start();
    pod.script(() => ({ toolCalls: [call('call_slow', 'crm.lookup_customer', { customerId: 'cus_12345678' })], fault: { delayMs: 400 } }));
    const inFlight = r.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'slow' }] });
    await waitFor(() => r.sidecar.inflight === 1);
    const stopped = r.sidecar.stop();
    // Readiness drops at once; no new governed call is taken.
    const during = await r.admin('/readyz');
    expect(during.status).toBe(503);
    expect(await during.json()).toMatchObject({ checks: { serving: { ok: false } } });

    const c = await inFlight;
    expect(c.choices[0]!.message.tool_calls?.map((t) => t.id)).toEqual(['call_slow']);
    await stopped;

    const nodes = await pod.nodes();
    const last = nodes[nodes.length - 1]!;
    expect(last.kind).toBe('heartbeat');
    expect(body(last).reason).toBe('shutdown');
    expect(decisions(nodes)).toContainEqual(['call_slow', 'crm.lookup_customer', 'ALLOW', 'ALLOWED']);
    // The final checkpoint covers the whole log, shutdown heartbeat included.
    const notes = (await readLog(pod.logDir)).checkpoints;
    expect(notes.at(-1)!.split('\n')[1]).toBe(String(nodes.length));
    const v = await pod.exportAndVerify();
    expect(v.out).toMatch(/^VALID/m);
    expect(v.code).toBe(0);
  });

  it('a restarted sidecar continues the same log without a gap', async () => {
    const a = await pod.start();
    await a.sidecar.stop();
    const b = await pod.start();
    await b.sidecar.stop();
    const kinds = (await pod.nodes()).map((n) => n.kind);
    expect(kinds).not.toContain('gap');
    const v = await pod.exportAndVerify();
    expect(v.code).toBe(0);
  });
});
