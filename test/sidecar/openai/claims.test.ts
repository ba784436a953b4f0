// The proxy's side of "each ALLOW executed at most once" (docs/spec/pep.md §6.1): a tool result
// the agent reports claims the decision. When another surface already took the decision for
// execution, the proxy does not record a second execution of it.
import { call, Pod, type Running } from '../support.js';

describe('proxy tool results and claims', () => {
  let pod: Pod;
  let r: Running;
  beforeAll(async () => {
    pod = await Pod.create();
    r = await pod.start();
  });
  afterAll(async () => {
    await pod.cleanup();
  });

  async function propose(id: string): Promise<`sha256:${string}`> {
    pod.script(() => ({ toolCalls: [call(id, 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    const res = await fetch(`${r.sidecar.governedUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'look up' }] }) });
    expect(res.headers.get('x-helm-decision')).toBe('ALLOW');
    return res.headers.get('x-helm-receipt-id') as `sha256:${string}`;
  }

  const answer = (id: string) =>
    fetch(`${r.sidecar.governedUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'm',
        messages: [
          { role: 'user', content: 'look up' },
          { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'crm.lookup_customer', arguments: '{"customerId":"cus_12345678"}' } }] },
          { role: 'tool', tool_call_id: id, content: JSON.stringify({ id: 'cus_12345678', name: 'Ann', tier: 'pro' }) },
        ],
      }),
    });

  it('records the agent-reported execution once, claiming the decision', async () => {
    const decision = await propose('call_mine');
    pod.script(() => ({ content: 'done' }));
    expect((await answer('call_mine')).status).toBe(200);
    expect(r.sidecar.pep.claim(decision)).toBe(false); // taken by the proxy's result
    expect((await answer('call_mine')).status).toBe(200); // the same result again is accepted
  });

  it('refuses a result for a decision another surface took for execution', async () => {
    const decision = await propose('call_taken');
    expect(r.sidecar.pep.claim(decision)).toBe(true); // the MCP gateway took it and is running it
    pod.script(() => ({ content: 'done' }));
    const res = await answer('call_taken');
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('tool_result_unlinkable');
    const effects = (await pod.nodes()).filter((n) => n.kind === 'effect' && (n.statement.predicate.parents as Array<{ hash: string }>).some((p) => p.hash === decision));
    expect(effects).toEqual([]);
  });
});
