// Fail closed: a ProofGraph store that fails while serving turns every governed call into a 503
// deny and readiness false; one that cannot be opened stops the sidecar from starting. And the
// identity of every decision is the configured one, whatever headers the agent sends.
import { writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { loadConfig } from '../../sidecar/config/load.js';
import { GuardianSidecar } from '../../sidecar/guardian-sidecar.js';
import { memoryLogger } from '../../sidecar/log.js';
import { body, call, Pod, PRINCIPAL, ROUTES } from './support.js';

/** Reaches into the store on purpose (as the store's own failure tests do): there is no other way to fail a write mid-run. */
async function breakStore(w: ProofGraphWriter): Promise<void> {
  const store = (w as unknown as { store: { active: { fh: FileHandle } } }).store;
  await store.active.fh.close();
}

describe('fail closed', () => {
  let pod: Pod;
  beforeEach(async () => {
    pod = await Pod.create();
  });
  afterEach(async () => {
    await pod.cleanup();
  });

  it('a store that fails while serving: every governed call is answered 503 with a deny, readiness goes false', async () => {
    const r = await pod.start();
    pod.script(() => ({ toolCalls: [call('call_1', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    await r.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'ok' }] });
    await breakStore(r.sidecar.writer);

    pod.script(() => ({ toolCalls: [call('call_2', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    const requestsBefore = pod.model.requests.length;
    const first = await fetch(`${r.sidecar.governedUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'scripted-model', messages: [{ role: 'user', content: 'x' }] }) });
    expect(first.status).toBe(503);
    expect(first.headers.get('x-helm-decision')).toBe('DENY');
    expect(first.headers.get('x-helm-reason-code')).toBe('RECEIPT_UNAVAILABLE');
    const err = ((await first.json()) as { error: { code: string } }).error;
    expect(err.code).toBe('receipt_unavailable');

    // From now on nothing reaches the model, tool calls or not, and the SDK sees a 503.
    const seen = pod.model.requests.length;
    for (const messages of [[{ role: 'user' as const, content: 'plain chat' }], [{ role: 'user' as const, content: 'again' }]]) {
      await expect(r.client.chat.completions.create({ model: 'scripted-model', messages })).rejects.toMatchObject({ status: 503 });
    }
    expect((await fetch(`${r.sidecar.governedUrl}/v1/models`)).status).toBe(503);
    expect(pod.model.requests.length).toBe(seen);
    expect(seen - requestsBefore).toBeLessThanOrEqual(1);

    const ready = await r.admin('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, checks: { store: { ok: false } } });
    const m = await (await r.admin('/metrics')).text();
    expect(m).toMatch(/^helm_store_healthy 0$/m);
    expect(m).toMatch(/^helm_ready 0$/m);
    // Liveness fails too: only a restart reopens the store (test/sidecar/store-recovery.test.ts).
    expect((await r.admin('/healthz')).status).toBe(503);
    await r.sidecar.stop();
    expect(r.log.lines.some((l) => l.msg.startsWith('the ProofGraph log did not close cleanly'))).toBe(true);
  });

  it('a ProofGraph directory that cannot be opened stops the start with ERR_SIDECAR_STORE', async () => {
    await writeFile(pod.path('not-a-dir'), 'a file where the volume should be');
    const { config } = await loadConfig([...pod.flags(), '--proofgraph-dir', pod.path('not-a-dir')], { HELM_TOOL_ROUTES: ROUTES });
    await expect(GuardianSidecar.start({ config, log: memoryLogger(), env: {} })).rejects.toMatchObject({ code: 'ERR_SIDECAR_STORE' });
  });

  it('the principal is the configured one whatever identity headers the agent sends', async () => {
    const r = await pod.start();
    pod.script(() => ({ toolCalls: [call('call_id', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    const res = await fetch(`${r.sidecar.governedUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.',
        'x-helm-principal': 'agent:ops-bot',
        'x-forwarded-user': 'agent:ops-bot',
        'x-remote-user': 'root',
        'x-auth-request-user': 'admin',
        'x-helm-roles': 'ops,auditor',
      },
      body: JSON.stringify({ model: 'scripted-model', user: 'agent:ops-bot', messages: [{ role: 'user', content: 'who am i' }] }),
    });
    expect(res.status).toBe(200);
    const intents = (await pod.nodes()).filter((n) => n.kind === 'intent');
    expect(intents.map((n) => body(n).principal)).toEqual([PRINCIPAL]);
  });

  it('credential isolation: with a sidecar key the upstream sees it, never the agent key; without one the agent header passes', async () => {
    await writeFile(pod.path('keys/upstream.key'), 'sk-sidecar-only\n', { mode: 0o600 });
    const a = await pod.start({ flags: ['--upstream-api-key-file', pod.path('keys/upstream.key')] });
    await a.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'x' }] });
    expect(pod.model.requests.at(-1)!.headers.authorization).toBe('Bearer sk-sidecar-only');
    await a.sidecar.stop();

    const b = await pod.start();
    await b.client.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content: 'x' }] });
    expect(pod.model.requests.at(-1)!.headers.authorization).toBe('Bearer agent-own-key');
    expect(b.log.lines.find((l) => l.msg === 'guardian sidecar ready to serve')).toMatchObject({ credentialIsolation: false });
    expect(JSON.stringify(a.log.lines)).not.toContain('sk-sidecar-only');
  });
});
