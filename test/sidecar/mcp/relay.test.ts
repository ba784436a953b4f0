// Progress, sampling, elicitation and list_changed through the governed gateway with the real SDK
// clients of both generations: @modelcontextprotocol/sdk 1.x and @modelcontextprotocol/client 2.x
// (2.x in the 2025 era for the server-to-client requests, which the 2026-07-28 era replaced, and in
// auto mode, i.e. 2026-07-28, for progress and list changes). The upstream is the conformance server.
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, CreateMessageRequestSchema, ElicitRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { grantEverythingBundle } from './conformance-bundle.js';
import { startConformanceServer, type ConformanceServer } from './conformance-server.js';
import { chainOf, decodedLog, nodeBody, startRig, expectVerifiesAndReplays, type Rig } from './support.js';

let server: ConformanceServer;
let rig: Rig;

beforeAll(async () => {
  server = await startConformanceServer();
  rig = await startRig({
    upstreams: () => [{ name: 'conformance', transport: 'http', url: server.url, protocol: 'legacy' }],
    bundleDoc: grantEverythingBundle(),
    gateway: { naming: 'own' },
  });
});

afterAll(async () => {
  await rig?.close();
  await server?.close();
});

const SAMPLED = { model: 'test-model', role: 'assistant' as const, content: { type: 'text' as const, text: 'sampled answer' } };
const ELICITED = { action: 'accept' as const, content: { username: 'ada', email: 'ada@example.com' } };
const until = async (f: () => boolean) => {
  for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 20));
};

async function v1(): Promise<ClientV1> {
  const c = new ClientV1({ name: 'host-v1', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
  c.setRequestHandler(CreateMessageRequestSchema, async () => SAMPLED);
  c.setRequestHandler(ElicitRequestSchema, async () => ELICITED);
  await c.connect(new TransportV1(new URL(`${rig.url}/mcp`)));
  return c;
}

async function v2(mode: 'legacy' | 'auto', onToolsChanged?: () => void): Promise<ClientV2> {
  const c = new ClientV2(
    { name: 'host-v2', version: '2.0.0' },
    {
      capabilities: { sampling: {}, elicitation: {} },
      versionNegotiation: { mode },
      ...(onToolsChanged ? { listChanged: { tools: { onChanged: () => onToolsChanged() } } } : {}),
    },
  );
  c.setRequestHandler('sampling/createMessage', async () => SAMPLED);
  c.setRequestHandler('elicitation/create', async () => ELICITED);
  await c.connect(new TransportV2(new URL(`${rig.url}/mcp`)));
  return c;
}

/** The sampling decision is linked to the tool call that caused it: its signed intent names the call's decision. */
async function expectLinked(callDecision: string, tool: string) {
  const nodes = [...(await decodedLog(rig.h.logDir)).values()];
  const linked = nodes.filter((n) => n.kind === 'intent' && nodeBody(n).tool === tool && String(nodeBody(n).callId).endsWith(`@${callDecision}`));
  expect(linked.length).toBe(1);
  expect(nodes.some((n) => n.entryHash === callDecision && n.kind === 'decision')).toBe(true);
  const chain = await chainOf(rig.h, nodeBody(linked[0]!).callId as string);
  expect(nodeBody(chain.decision)).toMatchObject({ tool, verdict: 'ALLOW' });
  expect(nodeBody(chain.effect!)).toMatchObject({ status: 'executed' });
  expect(chain.result).toBeDefined();
}

type AnyClient = ClientV1 | ClientV2;
/** callTool of either generation (1.x takes a result schema before the options). */
function call(c: AnyClient, name: string, args: Record<string, unknown>, onprogress?: (p: { progress: number }) => void) {
  const opts = onprogress ? { onprogress } : undefined;
  return c instanceof ClientV1 ? c.callTool({ name, arguments: args }, CallToolResultSchema, opts) : c.callTool({ name, arguments: args }, opts);
}

describe.each([
  ['sdk 1.x', async () => v1()],
  ['client 2.x (2025 era)', async () => v2('legacy')],
])('%s', (_name, connect: () => Promise<AnyClient>) => {
  it('relays progress of a long-running tool', async () => {
    const c = await connect();
    const seen: number[] = [];
    const r = await call(c, 'test_tool_with_progress', {}, (p) => void seen.push(p.progress));
    expect(r.content).toEqual([{ type: 'text', text: 'Tool with progress executed successfully' }]);
    expect(seen).toEqual([0, 50, 100]);
    await c.close();
  });

  it('relays sampling and elicitation, each decided and linked to the call that caused it', async () => {
    const c = await connect();
    const s = await call(c, 'test_sampling', { prompt: 'hello' });
    expect(s.content).toEqual([{ type: 'text', text: 'LLM response: sampled answer' }]);
    await expectLinked((s._meta as Record<string, { decision: string }>)['helm.mindburn.org/receipt']!.decision, 'mcp:sampling/createMessage');

    const e = await call(c, 'test_elicitation', { message: 'who are you?' });
    expect((e.content as Array<{ text: string }>)[0]!.text).toBe('User response: action=accept, content={"username":"ada","email":"ada@example.com"}');
    await expectLinked((e._meta as Record<string, { decision: string }>)['helm.mindburn.org/receipt']!.decision, 'mcp:elicitation/create');
    await c.close();
  });

  it('forwards tools/list_changed of the upstream', async () => {
    const c = await connect();
    let changed = 0;
    if (c instanceof ClientV1) c.setNotificationHandler(ToolListChangedNotificationSchema, () => void (changed += 1));
    else c.setNotificationHandler('notifications/tools/list_changed', () => void (changed += 1));
    const other = await connect();
    await call(other, 'test_list_changed', {});
    await until(() => changed > 0);
    expect(changed).toBeGreaterThan(0);
    await other.close();
    await c.close();
  });
});

describe('client 2.x (2026-07-28)', () => {
  it('relays progress on the per-request stream', async () => {
    const c = await v2('auto');
    const seen: number[] = [];
    const r = await c.callTool({ name: 'test_tool_with_progress', arguments: {} }, { onprogress: (p) => void seen.push(p.progress) });
    expect(r.content).toEqual([{ type: 'text', text: 'Tool with progress executed successfully' }]);
    expect(seen).toEqual([0, 50, 100]);
    await c.close();
  });

  it('relays sampling and elicitation as input_required rounds, each decided and linked to the call that caused it', async () => {
    const c = await v2('auto');
    const s = await c.callTool({ name: 'test_sampling', arguments: { prompt: 'hello' } });
    expect(s.content).toEqual([{ type: 'text', text: 'LLM response: sampled answer' }]);
    await expectLinked((s._meta as Record<string, { decision: string }>)['helm.mindburn.org/receipt']!.decision, 'mcp:sampling/createMessage');

    const e = await c.callTool({ name: 'test_elicitation', arguments: { message: 'who are you?' } });
    expect((e.content as Array<{ text: string }>)[0]!.text).toBe('User response: action=accept, content={"username":"ada","email":"ada@example.com"}');
    await expectLinked((e._meta as Record<string, { decision: string }>)['helm.mindburn.org/receipt']!.decision, 'mcp:elicitation/create');
    await c.close();
  });

  it('resumes a call only for a retry of the same call with an unused requestState (else DENY MCP_INPUT_STATE_UNKNOWN, receipted)', async () => {
    const c = new ClientV2({ name: 'manual-v2', version: '2.0.0' }, { capabilities: { sampling: {} }, versionNegotiation: { mode: 'auto' }, inputRequired: { autoFulfill: false } });
    await c.connect(new TransportV2(new URL(`${rig.url}/mcp`)));
    const manual = { allowInputRequired: true };
    const first = (await c.callTool({ name: 'test_sampling', arguments: { prompt: 'hello' } }, manual)) as unknown as { resultType: string; inputRequests: Record<string, { method: string }>; requestState: string };
    expect(first.resultType).toBe('input_required');
    const [key, asked] = Object.entries(first.inputRequests)[0]!;
    expect(asked.method).toBe('sampling/createMessage');
    const retry = (args: Record<string, unknown>, requestState: string) => c.callTool({ name: 'test_sampling', arguments: args, inputResponses: { [key]: SAMPLED }, requestState } as never, manual);

    await expect(retry({ prompt: 'other' }, first.requestState)).rejects.toThrow(/MCP_INPUT_STATE_UNKNOWN/);
    await expect(retry({ prompt: 'hello' }, 'forged-state')).rejects.toThrow(/MCP_INPUT_STATE_UNKNOWN/);
    const done = await retry({ prompt: 'hello' }, first.requestState);
    expect(done.content).toEqual([{ type: 'text', text: 'LLM response: sampled answer' }]);
    await expect(retry({ prompt: 'hello' }, first.requestState)).rejects.toThrow(/MCP_INPUT_STATE_UNKNOWN/);

    const denials = [...(await decodedLog(rig.h.logDir)).values()].filter((n) => n.kind === 'decision' && nodeBody(n).reasonCode === 'MCP_INPUT_STATE_UNKNOWN');
    expect(denials.map((n) => nodeBody(n).verdict)).toEqual(['DENY', 'DENY', 'DENY']);
    await c.close();
  });

  it('delivers tools/list_changed to a subscriptions/listen stream', async () => {
    let changed = 0;
    const c = await v2('auto', () => void (changed += 1));
    const other = await v1();
    await new Promise((r) => setTimeout(r, 300));
    await other.callTool({ name: 'test_list_changed', arguments: {} });
    await until(() => changed > 0);
    expect(changed).toBeGreaterThan(0);
    await other.close();
    await c.close();
  });
});

describe('a 2026-07-28 client that never retries', () => {
  let quick: Rig;
  beforeAll(async () => {
    quick = await startRig({
      upstreams: () => [{ name: 'conformance', transport: 'http', url: server.url, protocol: 'legacy' }],
      bundleDoc: grantEverythingBundle(),
      gateway: { naming: 'own', callTimeoutMs: 300 },
    });
  });
  afterAll(async () => {
    await quick?.close();
  });

  it('abandons its call after callTimeoutMs: the upstream request ends with a failed effect and a late retry is refused', async () => {
    const c = new ClientV2({ name: 'silent-v2', version: '2.0.0' }, { capabilities: { sampling: {} }, versionNegotiation: { mode: 'auto' }, inputRequired: { autoFulfill: false } });
    await c.connect(new TransportV2(new URL(`${quick.url}/mcp`)));
    const callId = 'abandoned-call';
    const params = { name: 'test_sampling', arguments: { prompt: 'hello' }, _meta: { 'helm.mindburn.org/toolCallId': callId } };
    const first = (await c.callTool(params, { allowInputRequired: true })) as unknown as { inputRequests: Record<string, unknown>; requestState: string };
    const key = Object.keys(first.inputRequests)[0]!;
    // Nothing is sent: the gateway gives up on its own once callTimeoutMs has passed.
    const effectOf = async () => (await chainOf(quick.h, callId).catch(() => null))?.effect;
    for (let i = 0; i < 250 && (await effectOf()) === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    const chain = await chainOf(quick.h, callId);
    expect(nodeBody(chain.effect!)).toMatchObject({ status: 'failed', confirmed: false });
    await expect(c.callTool({ ...params, inputResponses: { [key]: SAMPLED }, requestState: first.requestState } as never, { allowInputRequired: true })).rejects.toThrow(/MCP_INPUT_STATE_UNKNOWN/);
    // The refusal is its own decision: the abandoned call's chain still has exactly one.
    expect((await chainOf(quick.h, callId)).decision.entryHash).toBe(chain.decision.entryHash);
    await c.close();
  });
});

// Runs last: every decision above (including the denials) verifies offline and re-decides identically.
it('every decision verifies offline and replays identically (helmctl verify / replay)', async () => {
  await expectVerifiesAndReplays(rig);
  const denied = [...(await decodedLog(rig.h.logDir)).values()].filter((n) => n.kind === 'decision' && (['MCP_INPUT_STATE_UNKNOWN'] as unknown[]).includes(nodeBody(n).reasonCode));
  expect(denied.length).toBeGreaterThan(0);
});
