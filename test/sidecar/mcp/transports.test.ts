// The MCP SDK client through the gateway to server-everything and server-filesystem, over each
// transport the gateway offers (Streamable HTTP, legacy HTTP+SSE, and a real `helmctl mcp
// --stdio` child process in stdio.test.ts): the list is filtered, an allowed call works, a denied
// call and a path outside the workspace are refused with their reasons, every call is receipted
// and the exported pack verifies.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { META_RECEIPT } from '../../../sidecar/mcp/call.js';
import { META_GOVERNANCE } from '../../../sidecar/mcp/list.js';
import { RPC_DENIED } from '../../../sidecar/mcp/refusal.js';
import { BUNDLE_SIG, bundleDoc, chainOf, nodeBody, signatureText, startRig, verifyVolume, type Rig } from './support.js';

type Transport = 'streamable-http' | 'sse';

async function connect(rig: Rig, t: Transport): Promise<Client> {
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(t === 'sse' ? new SSEClientTransport(new URL(`${rig.url}/sse`)) : new StreamableHTTPClientTransport(new URL(`${rig.url}/mcp`)));
  return client;
}

async function refusal(p: Promise<unknown>): Promise<{ code: number; message: string; data: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof McpError)) throw e;
    return { code: e.code, message: e.message, data: e.data as Record<string, unknown> };
  }
  throw new Error('the call was not refused');
}

const receiptOf = (r: { _meta?: Record<string, unknown> }) => r._meta?.[META_RECEIPT] as { callId: string; decision: string; effect: string; result: string };

it('the fixture bundle signature is current', async () => {
  expect(await signatureText(await bundleDoc())).toBe(await readFile(BUNDLE_SIG, 'utf8'));
});

describe.each<Transport>(['streamable-http', 'sse'])('through %s', (transport) => {
  let rig: Rig;
  let client: Client;
  beforeAll(async () => {
    rig = await startRig();
    client = await connect(rig, transport);
  });
  afterAll(async () => {
    await client?.close();
    await rig?.close();
  });

  it('lists only the tools the bundle lets this principal call, with governance metadata', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(
      expect.arrayContaining(['everything__echo', 'everything__get-sum', 'everything__get-annotated-message', 'fs__read_text_file', 'fs__write_file', 'fs__list_directory', 'mutable__lookup']),
    );
    // Undeclared, outside the profile (external, destructive), or denied by an unconditional rule.
    for (const hidden of ['everything__get-tiny-image', 'everything__get-env', 'everything__toggle-simulated-logging', 'fs__move_file', 'fs__read_file', 'fs__edit_file']) expect(names).not.toContain(hidden);
    const echo = tools.find((t) => t.name === 'everything__echo')!;
    expect(echo.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(echo._meta?.[META_GOVERNANCE]).toMatchObject({ upstream: 'everything', upstreamTool: 'echo', sideEffect: 'read', approval: 'none', pinned: true });
    expect(tools.find((t) => t.name === 'everything__get-annotated-message')!._meta?.[META_GOVERNANCE]).toMatchObject({ approval: 'required' });
    expect(tools.find((t) => t.name === 'fs__write_file')!._meta?.[META_GOVERNANCE]).toMatchObject({ sideEffect: 'write', conditions: ['fs-outside-workspace'] });
  });

  it('carries out an allowed call and receipts it as intent, decision, effect and result', async () => {
    const r = await client.callTool({ name: 'everything__echo', arguments: { message: `hi over ${transport}` } });
    expect(r.content).toEqual([{ type: 'text', text: `Echo: hi over ${transport}` }]);
    const receipt = receiptOf(r);
    const chain = await chainOf(rig.h, receipt.callId);
    expect(chain.decision.entryHash).toBe(receipt.decision);
    expect(nodeBody(chain.intent)).toMatchObject({ surface: 'mcp', tool: 'everything__echo', principal: 'agent:mcp-1' });
    expect(nodeBody(chain.decision)).toMatchObject({ verdict: 'ALLOW', reasonCode: 'ALLOWED', ruleIds: ['allow-demo'] });
    expect(nodeBody(chain.effect!)).toMatchObject({ status: 'executed', confirmed: true });
    expect(nodeBody(chain.result!)).toMatchObject({ status: 'ok' });
    expect(chain.result!.entryHash).toBe(receipt.result);
  });

  it('reads a file inside the workspace', async () => {
    const r = await client.callTool({ name: 'fs__read_text_file', arguments: { path: join(rig.workspace, 'notes.txt') } });
    expect(JSON.stringify(r.content)).toContain('hello from the workspace');
    await chainOf(rig.h, receiptOf(r).callId);
  });

  it('refuses a denied call with its reason code and receipt', async () => {
    const e = await refusal(client.callTool({ name: 'everything__echo', arguments: { message: 'my password is hunter2' } }));
    expect(e.code).toBe(RPC_DENIED);
    expect(e.message).toContain('POLICY_VIOLATION');
    expect(e.data).toMatchObject({ verdict: 'DENY', reasonCode: 'POLICY_VIOLATION' });
    const chain = await chainOf(rig.h, e.data.callId as string);
    expect(chain.decision.entryHash).toBe(e.data.receipt);
    expect(nodeBody(chain.decision)).toMatchObject({ verdict: 'DENY', ruleIds: ['echo-no-secrets'] });
    expect(chain.effect).toBeUndefined();
  });

  it('refuses a path outside the workspace before it reaches the filesystem server', async () => {
    const outside = await refusal(client.callTool({ name: 'fs__read_text_file', arguments: { path: '/etc/passwd' } }));
    expect(outside.data).toMatchObject({ verdict: 'DENY', reasonCode: 'POLICY_VIOLATION' });
    expect(nodeBody((await chainOf(rig.h, outside.data.callId as string)).decision)).toMatchObject({ ruleIds: ['fs-outside-workspace'] });
    const dotdot = await refusal(client.callTool({ name: 'fs__read_text_file', arguments: { path: `${rig.workspace}/../x` } }));
    expect(dotdot.data).toMatchObject({ verdict: 'DENY', reasonCode: 'SCHEMA_VIOLATION' });
    const hidden = await refusal(client.callTool({ name: 'fs__move_file', arguments: { source: join(rig.workspace, 'notes.txt'), destination: '/tmp/x' } }));
    expect(hidden.data).toMatchObject({ verdict: 'DENY', reasonCode: 'CAPABILITY_VIOLATION' });
  });

  it('leaves every call receipted and the exported pack verifies', async () => {
    const decided = rig.events.decisions.filter((d) => d.method === 'tools/call');
    expect(decided.length).toBeGreaterThanOrEqual(6);
    expect(decided.every((d) => d.recorded)).toBe(true);
    const report = await verifyVolume(rig);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
