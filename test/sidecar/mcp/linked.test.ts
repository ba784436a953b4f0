// One causal chain across surfaces: a call the model proposed through the OpenAI proxy (decided
// there, surface openai) and then executed through the gateway with the same tool_call id gets
// its EFFECT and RESULT under that decision instead of a second INTENT/DECISION pair.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { META_RECEIPT, META_TOOL_CALL_ID } from '../../../sidecar/mcp/call.js';
import { chainOf, everything, nodeBody, startRig, type Rig } from './support.js';

const proxyDecisions = new Map<string, `sha256:${string}`>();
let rig: Rig;
let client: Client;

beforeAll(async () => {
  rig = await startRig({
    upstreams: () => [everything()],
    gateway: { linkedDecision: (q) => (q.principal === 'agent:mcp-1' ? (proxyDecisions.get(`${q.callId}\n${q.tool}`) ?? null) : null) },
  });
  client = new Client({ name: 'host', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${rig.url}/mcp`)));
});

afterAll(async () => {
  await client?.close();
  await rig?.close();
});

it('links the effect and result to the decision the proxy made for the same tool_call id', async () => {
  const proposed = await rig.h.pep.decide({ callId: 'call_7Qx', surface: 'openai', principal: rig.principal, tool: 'everything__echo', args: { message: 'from the model' } });
  expect(proposed.verdict).toBe('ALLOW');
  proxyDecisions.set('call_7Qx\neverything__echo', proposed.decision!.entryHash);

  const r = await client.callTool({ name: 'everything__echo', arguments: { message: 'from the model' }, _meta: { [META_TOOL_CALL_ID]: 'call_7Qx' } });
  expect(r.content).toEqual([{ type: 'text', text: 'Echo: from the model' }]);
  const receipt = r._meta?.[META_RECEIPT] as { decision: string; intent?: string; callId: string };
  expect(receipt).toMatchObject({ callId: 'call_7Qx', decision: proposed.decision!.entryHash });
  expect(receipt.intent).toBeUndefined();
  const chain = await chainOf(rig.h, 'call_7Qx');
  expect(nodeBody(chain.intent)).toMatchObject({ surface: 'openai' });
  expect(nodeBody(chain.effect!)).toMatchObject({ status: 'executed' });
  expect(nodeBody(chain.result!)).toMatchObject({ status: 'ok' });
  expect(rig.events.decisions.filter((d) => d.method === 'tools/call')).toEqual([]);

  // The proxy's decision is spent: the same tool_call id again is decided on its own.
  const again = await client.callTool({ name: 'everything__echo', arguments: { message: 'again' }, _meta: { [META_TOOL_CALL_ID]: 'call_7Qx' } });
  expect((again._meta?.[META_RECEIPT] as { decision: string }).decision).not.toBe(proposed.decision!.entryHash);
});
