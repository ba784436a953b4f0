// The REST surface: GET /mcp/v1/capabilities (tools with governance metadata) and POST
// /mcp/v1/execute (governed execution answering with the receipts), including an escalation that
// an approver signs, and an output that breaks its pinned schema.
import { signApproval, type Challenge } from '../../../kernel/pep/index.js';
import { approvers } from '../../pep/support.js';
import { chainOf, everything, nodeBody, startRig, type Rig } from './support.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ upstreams: () => [everything()] });
});

afterAll(async () => {
  await rig?.close();
});

const execute = async (body: unknown, headers: Record<string, string> = {}) => {
  const r = await fetch(`${rig.url}/mcp/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

it('lists the capabilities of this principal with governance metadata and upstream state', async () => {
  const r = await fetch(`${rig.url}/mcp/v1/capabilities`);
  expect(r.status).toBe(200);
  const c = (await r.json()) as { principal: string; policy: { ready: boolean }; tools: Array<{ name: string; governance: Record<string, unknown> }>; upstreams: Array<{ name: string; state: string }> };
  expect(c.principal).toBe('agent:mcp-1');
  expect(c.policy.ready).toBe(true);
  expect(c.tools.find((t) => t.name === 'everything__get-sum')?.governance).toMatchObject({ sideEffect: 'read', approval: 'none', pinned: false });
  expect(c.tools.map((t) => t.name)).not.toContain('everything__get-env');
  expect(c.upstreams).toEqual([expect.objectContaining({ name: 'everything', state: 'ready' })]);
});

it('executes an allowed call and answers with its result and receipts', async () => {
  const r = await execute({ tool: 'everything__get-sum', arguments: { a: 2, b: 40 }, callId: 'rest-sum-1' });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ verdict: 'ALLOW', reasonCode: 'ALLOWED', callId: 'rest-sum-1' });
  expect(JSON.stringify(r.body.result)).toContain('The sum of 2 and 40 is 42.');
  const chain = await chainOf(rig.h, 'rest-sum-1');
  expect(chain.result!.entryHash).toBe(r.body.receipt);
  expect(rig.events.decisions.find((d) => d.tool === 'everything__get-sum')).toMatchObject({ method: 'rest/execute', verdict: 'ALLOW', recorded: true });
});

it('answers a denial with 403 and its reason code', async () => {
  const r = await execute({ tool: 'everything__get-sum', arguments: { a: 2000, b: 1 } });
  expect(r.status).toBe(403);
  expect(r.body).toMatchObject({ verdict: 'DENY', reasonCode: 'SCHEMA_VIOLATION' });
  expect(nodeBody((await chainOf(rig.h, r.body.callId as string)).decision)).toMatchObject({ verdict: 'DENY', reasonCode: 'SCHEMA_VIOLATION' });
});

it('answers an escalation with 202 and the challenge, then executes the approved retry once', async () => {
  const call = { tool: 'everything__get-annotated-message', arguments: { messageType: 'success' }, idempotencyKey: 'annotated-1' };
  const first = await execute(call);
  expect(first.status).toBe(202);
  expect(first.body).toMatchObject({ verdict: 'ESCALATE', reasonCode: 'APPROVAL_REQUIRED' });
  const challenge = first.body.challenge as Challenge;
  expect(challenge.approval).toBe('manager');
  const approved = await rig.h.pep.approve(signApproval(challenge, approvers.alice));
  expect(approved).toMatchObject({ accepted: true });
  const retry = await execute(call);
  expect(retry.status).toBe(200);
  expect(retry.body).toMatchObject({ verdict: 'ALLOW', reasonCode: 'APPROVAL_GRANTED' });
  const again = await execute(call);
  expect(again.status).toBe(403);
  expect(again.body).toMatchObject({ reasonCode: 'ERR_IDEMPOTENCY_DUPLICATE' });
});

it('withholds an output that breaks the pinned output schema', async () => {
  const ok = await execute({ tool: 'everything__get-structured-content', arguments: { location: 'New York' } });
  expect(ok.status).toBe(200);
  expect((ok.body.result as { structuredContent: unknown }).structuredContent).toEqual({ temperature: 33, conditions: 'Cloudy', humidity: 82 });
  const drift = await execute({ tool: 'everything__get-structured-content', arguments: { location: 'Los Angeles' } });
  expect(drift.status).toBe(502);
  expect(drift.body).toMatchObject({ verdict: 'DENY', reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT', failure: 'output-rejected' });
  expect(drift.body.result).toBeUndefined();
  expect(JSON.stringify(drift.body)).not.toContain('Sunny');
  const chain = await chainOf(rig.h, drift.body.callId as string);
  expect(nodeBody(chain.result!)).toMatchObject({ status: 'rejected', reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT' });
});

it('refuses malformed requests with clear 4xx errors', async () => {
  expect((await execute('{"tool":')).status).toBe(400);
  expect((await execute({ tool: 'everything__get-sum', arguments: { a: 1, b: 1 }, principal: 'root' })).status).toBe(400);
  expect((await execute({ arguments: {} })).status).toBe(400);
  expect((await execute({ tool: 'everything__get-sum' }, { 'content-type': 'text/plain' })).status).toBe(415);
  const big = await execute({ tool: 'everything__echo', arguments: { message: 'z'.repeat(5 * 1024 * 1024) } });
  expect(big.status).toBe(413);
  const wrongMethod = await fetch(`${rig.url}/mcp/v1/execute`);
  expect(wrongMethod.status).toBe(405);
});
