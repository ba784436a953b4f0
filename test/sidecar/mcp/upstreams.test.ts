// Upstreams that die: a stdio server is restarted with backoff and an HTTP server is reported and
// reconnected; meanwhile their tools are gone from the list and calls to them fail closed, each
// with a receipt.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { RPC_UNAVAILABLE } from '../../../sidecar/mcp/refusal.js';
import { repoRoot } from '../../support/shared.js';
import { chainOf, everything, nodeBody, startRig, type Rig } from './support.js';

const EVERYTHING = join(repoRoot, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function httpEverything(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) resolve();
    });
    child.once('exit', () => reject(new Error('server-everything (HTTP) exited')));
  });
  return child;
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function failure(client: Client, name: string): Promise<Record<string, unknown>> {
  const e = await client.callTool({ name, arguments: { message: 'x' } }).then(
    () => null,
    (x: unknown) => x,
  );
  if (!(e instanceof McpError)) throw new Error(`the call to ${name} was not refused`);
  expect(e.code).toBe(RPC_UNAVAILABLE);
  return e.data as Record<string, unknown>;
}

describe('a stdio upstream that dies', () => {
  let rig: Rig;
  let client: Client;
  beforeAll(async () => {
    rig = await startRig({ upstreams: () => [everything()], gateway: { restartBackoffMs: 300 } });
    client = new Client({ name: 'host', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${rig.url}/mcp`)));
  });
  afterAll(async () => {
    await client?.close();
    await rig?.close();
  });

  it('fails closed while it is down and is restarted with backoff', async () => {
    const up = rig.gateway.upstreams[0]!;
    expect((await client.callTool({ name: 'everything__echo', arguments: { message: 'a' } })).content).toEqual([{ type: 'text', text: 'Echo: a' }]);
    process.kill(up.processId!, 'SIGKILL');
    await until('the upstream to be down', () => up.state === 'down');
    expect((await client.listTools()).tools.map((t) => t.name).filter((n) => n.startsWith('everything__'))).toEqual([]);
    const data = await failure(client, 'everything__echo');
    expect(data).toMatchObject({ verdict: 'ALLOW', failure: 'upstream-unavailable' });
    const chain = await chainOf(rig.h, data.callId as string);
    expect(nodeBody(chain.effect!)).toMatchObject({ status: 'blocked', confirmed: false });
    expect(rig.events.upstream.some((e) => e.upstream === 'everything' && e.error !== null)).toBe(true);

    await until('the restart', () => up.state === 'ready');
    expect(up.restarts).toBe(1);
    expect((await client.callTool({ name: 'everything__echo', arguments: { message: 'b' } })).content).toEqual([{ type: 'text', text: 'Echo: b' }]);
  });
});

describe('an HTTP upstream that stops answering', () => {
  let rig: Rig;
  let client: Client;
  let server: ChildProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    server = await httpEverything(port);
    // Named like the stdio upstream, so the bundle's everything__* tools apply to it.
    rig = await startRig({ upstreams: () => [{ name: 'everything', transport: 'http', url: `http://127.0.0.1:${port}/mcp`, protocol: 'legacy' }], gateway: { restartBackoffMs: 200 } });
    client = new Client({ name: 'host', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${rig.url}/mcp`)));
  });
  afterAll(async () => {
    server?.kill('SIGKILL');
    await client?.close();
    await rig?.close();
  });

  it('is reported, fails closed with a receipt and is reconnected when it is back', async () => {
    const up = rig.gateway.upstreams[0]!;
    expect((await client.callTool({ name: 'everything__echo', arguments: { message: 'a' } })).content).toEqual([{ type: 'text', text: 'Echo: a' }]);
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    const data = await failure(client, 'everything__echo');
    expect(data).toMatchObject({ verdict: 'ALLOW' });
    expect(['upstream-error', 'upstream-unavailable']).toContain(data.failure);
    const chain = await chainOf(rig.h, data.callId as string);
    expect(nodeBody(chain.effect!)).toMatchObject({ confirmed: false });
    expect(up.state).toBe('down');
    expect(rig.events.upstream.some((e) => e.upstream === 'everything' && e.error !== null)).toBe(true);
    expect((await client.listTools()).tools.map((t) => t.name).filter((n) => n.startsWith('everything__'))).toEqual([]);

    server = await httpEverything(port);
    await until('the reconnect', () => up.state === 'ready');
    expect(up.restarts).toBeGreaterThanOrEqual(1);
    expect((await client.callTool({ name: 'everything__echo', arguments: { message: 'b' } })).content).toEqual([{ type: 'text', text: 'Echo: b' }]);
  });
});
