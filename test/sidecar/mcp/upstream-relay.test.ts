// What the gateway relays towards an upstream and back, checked at the upstream itself (the probe
// server, official 2.x server SDK) with the real SDK clients: a client cancelling its call reaches
// the upstream as notifications/cancelled and ends the call there; an upstream's sampling request
// that no call in flight caused is denied MCP_REQUEST_UNATTRIBUTED, receipted, never forwarded.
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, CreateMessageRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { grantEverythingBundle } from './conformance-bundle.js';
import { MRTR_TOOL, PROBE_TOOLS, startProbeServer, type ProbeServer } from './probe-server.js';
import { chainOf, decodedLog, nodeBody, startRig, expectVerifiesAndReplays, type Rig } from './support.js';

let probe: ProbeServer;
let rig: Rig;

beforeAll(async () => {
  probe = await startProbeServer();
  rig = await startRig({
    upstreams: () => [{ name: 'probe', transport: 'http', url: probe.url, protocol: 'legacy' }],
    bundleDoc: grantEverythingBundle(PROBE_TOOLS),
    gateway: { naming: 'own' },
  });
});

afterAll(async () => {
  await rig?.close();
  await probe?.close();
});

const until = async (f: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 150 && !(await f()); i++) await new Promise((r) => setTimeout(r, 20));
};
const SAMPLED = { model: 'test-model', role: 'assistant' as const, content: { type: 'text' as const, text: 'sampled' } };

interface Host {
  call(name: string, callId: string, signal?: AbortSignal): Promise<unknown>;
  sampled: number;
  close(): Promise<void>;
}

async function v1(url = `${rig.url}/mcp`): Promise<Host> {
  const c = new ClientV1({ name: 'host-v1', version: '1.0.0' }, { capabilities: { sampling: {} } });
  const host: Host = {
    sampled: 0,
    call: (name, callId, signal) => c.callTool({ name, arguments: {}, _meta: { 'helm.mindburn.org/toolCallId': callId } }, CallToolResultSchema, signal ? { signal } : undefined),
    close: () => c.close(),
  };
  c.setRequestHandler(CreateMessageRequestSchema, async () => ((host.sampled += 1), SAMPLED));
  await c.connect(new TransportV1(new URL(url)));
  return host;
}

async function v2(mode: 'legacy' | 'auto', url = `${rig.url}/mcp`): Promise<Host> {
  const c = new ClientV2({ name: 'host-v2', version: '2.0.0' }, { capabilities: { sampling: {} }, versionNegotiation: { mode } });
  const host: Host = {
    sampled: 0,
    call: (name, callId, signal) => c.callTool({ name, arguments: {}, _meta: { 'helm.mindburn.org/toolCallId': callId } }, signal ? { signal } : undefined),
    close: () => c.close(),
  };
  c.setRequestHandler('sampling/createMessage', async () => ((host.sampled += 1), SAMPLED));
  await c.connect(new TransportV2(new URL(url)));
  return host;
}

describe.each([
  ['sdk 1.x', v1],
  ['client 2.x (2025 era)', () => v2('legacy')],
  ['client 2.x (2026-07-28)', () => v2('auto')],
])('%s', (name, connect: () => Promise<Host>) => {
  it('a cancelled call is cancelled upstream: the upstream request ends, the upstream stays connected', async () => {
    const host = await connect();
    const callId = `cancel-${name}`;
    const started = probe.record.hangsStarted;
    const cancelled = probe.record.hangsCancelled.length;
    const ac = new AbortController();
    const pending = host.call('hang', callId, ac.signal);
    pending.catch(() => undefined);
    await until(() => probe.record.hangsStarted > started);
    expect(probe.record.hangsStarted).toBe(started + 1);
    ac.abort(new Error('the user gave up'));
    await expect(pending).rejects.toThrow();
    await until(() => probe.record.hangsCancelled.length > cancelled);
    expect(probe.record.hangsCancelled).toHaveLength(cancelled + 1);
    // The call's receipts end with a failed, unconfirmed EFFECT; the upstream connection survives.
    await until(async () => (await chainOf(rig.h, callId).catch(() => null))?.effect !== undefined);
    // A cancellation, not a timeout (the client's abort is not the upstream running out of time).
    expect(nodeBody((await chainOf(rig.h, callId)).effect!)).toMatchObject({ status: 'failed', confirmed: false, error: expect.stringMatching(/^ERR_MCP_CANCELLED: /) });
    expect(rig.gateway.readiness()).toEqual([expect.objectContaining({ name: 'probe', ready: true, restarts: 0 })]);
    await host.close();
  });
});

describe.each([
  ['sdk 1.x', v1],
  ['client 2.x (2025 era)', () => v2('legacy')],
])('%s', (_name, connect: () => Promise<Host>) => {
  it('an upstream sampling request outside any call is denied MCP_REQUEST_UNATTRIBUTED, receipted, and never forwarded', async () => {
    const host = await connect();
    const before = [...(await decodedLog(rig.h.logDir)).values()].filter((n) => n.kind === 'decision' && nodeBody(n).reasonCode === 'MCP_REQUEST_UNATTRIBUTED').length;
    await host.call('sample_later', `later-${_name}`);
    await until(() => probe.record.unsolicited !== null);
    const answer = await probe.record.unsolicited!;
    expect(answer.result).toBeUndefined();
    expect(answer.error).toMatch(/MCP_REQUEST_UNATTRIBUTED/);
    expect(host.sampled).toBe(0);
    const denials = [...(await decodedLog(rig.h.logDir)).values()].filter((n) => n.kind === 'decision' && nodeBody(n).reasonCode === 'MCP_REQUEST_UNATTRIBUTED');
    expect(denials).toHaveLength(before + 1);
    expect(nodeBody(denials.at(-1)!)).toMatchObject({ tool: 'mcp:sampling/createMessage', verdict: 'DENY' });
    await host.close();
  });
});

describe('logging/setLevel is per session', () => {
  async function session(make: 'v1' | 'v2', level: 'info' | 'error') {
    const seen: string[] = [];
    if (make === 'v1') {
      const c = new ClientV1({ name: 'log-v1', version: '1.0.0' });
      c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void seen.push(String(n.params.data)));
      await c.connect(new TransportV1(new URL(`${rig.url}/mcp`)));
      return { seen, setLevel: () => c.setLoggingLevel(level), run: () => c.callTool({ name: 'log_levels', arguments: {} }, CallToolResultSchema), close: () => c.close() };
    }
    const c = new ClientV2({ name: 'log-v2', version: '2.0.0' }, { versionNegotiation: { mode: 'legacy' } });
    c.setNotificationHandler('notifications/message', (n) => void seen.push(String(n.params.data)));
    await c.connect(new TransportV2(new URL(`${rig.url}/mcp`)));
    return { seen, setLevel: () => c.setLoggingLevel(level), run: () => c.callTool({ name: 'log_levels', arguments: {} }), close: () => c.close() };
  }

  it("one session's level does not change what another session of the same upstream receives", async () => {
    const verbose = await session('v1', 'info');
    const quiet = await session('v2', 'error');
    await verbose.setLevel();
    await quiet.setLevel(); // after the verbose one: the shared upstream must still send info
    await verbose.run();
    await quiet.run();
    await until(() => verbose.seen.length >= 3 && quiet.seen.length >= 1);
    expect(verbose.seen).toEqual(['probe info', 'probe warning', 'probe error']);
    expect(quiet.seen).toEqual(['probe error']);
    await verbose.close();
    await quiet.close();
  });
});

describe('a 2026-07-28 upstream asking with input_required', () => {
  let modern: Rig;
  beforeAll(async () => {
    modern = await startRig({
      upstreams: () => [{ name: 'modern', transport: 'http', url: probe.modernUrl, protocol: '2026-07-28' }],
      bundleDoc: grantEverythingBundle([MRTR_TOOL]),
      gateway: { naming: 'own' },
    });
  });
  afterAll(async () => {
    await modern?.close();
  });

  it.each([
    ['sdk 1.x', (url: string) => v1(url)],
    ['client 2.x (2025 era)', (url: string) => v2('legacy', url)],
    ['client 2.x (2026-07-28)', (url: string) => v2('auto', url)],
  ])('%s is asked (decided, linked to the call) and the round completes', async (_name, connect) => {
    const host = await connect(`${modern.url}/mcp`);
    const r = (await host.call('sample_mrtr', `mrtr-${_name}`)) as { content: Array<{ text: string }> };
    expect(r.content[0]!.text).toBe('round answer: sampled');
    expect(host.sampled).toBe(1);
    const call = await chainOf(modern.h, `mrtr-${_name}`);
    const asked = [...(await decodedLog(modern.h.logDir)).values()].filter((n) => n.kind === 'decision' && nodeBody(n).tool === 'mcp:sampling/createMessage' && String(nodeBody(n).callId).endsWith(`@${call.decision.entryHash}`));
    expect(asked.map((n) => nodeBody(n).verdict)).toEqual(['ALLOW']);
    await host.close();
  });
});

// Runs last: every decision above (including the denials) verifies offline and re-decides identically.
it('every decision verifies offline and replays identically (helmctl verify / replay)', async () => {
  await expectVerifiesAndReplays(rig);
  const denied = [...(await decodedLog(rig.h.logDir)).values()].filter((n) => n.kind === 'decision' && (['MCP_REQUEST_UNATTRIBUTED'] as unknown[]).includes(nodeBody(n).reasonCode));
  expect(denied.length).toBeGreaterThan(0);
});
