// The sidecar image runs the esbuild bundle (dist/bundle/, scripts/bundle.ts), not dist/cli: the
// bundled `helmctl serve` must govern a call end to end, with the features that load their own
// chunks (an MCP upstream over stdio, OpenTelemetry export), and the bundled export and verify
// (with its worker threads, found next to the bundle's chunks) must accept what it wrote.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import OpenAI from 'openai';
import { addMcpDemoPolicy, everythingServerPath } from '../../sidecar/mcp/demo-part.js';
import { startSidecar, stop } from '../../bench/sidecar.js';
import { repoRoot } from '../support/shared.js';
import { makeKeys, publishEvent, testKey } from '../evidence/fixtures.js';
import { bundleSigner } from '../guardian/helpers.js';
import { sandboxFixture, writeModules } from '../sandbox/governed-fixture.js';
import { BUNDLE_SIG, BUNDLE_YAML, everything } from './mcp/support.js';
import { startCertifyOperator } from '../support/certify-operator.js';
import { certifiedEnv, chat } from './certified-support.js';
import { Pod, ROUTES, call, sidecarBundle } from './support.js';

// HELMCTL_UNDER_TEST=dist/cli/helmctl.js runs the same checks unbundled (to tell a bundling fault
// from a sidecar fault).
const HELMCTL = join(repoRoot, process.env.HELMCTL_UNDER_TEST ?? 'dist/bundle/helmctl.js');

/** The bundled `helmctl serve` with a pod's flags, started and stopped as the benchmarks do (until /readyz is 200). */
const serve = async (pod: Pod, env: Record<string, string> = {}, flags = pod.flags()) => startSidecar(flags, { main: HELMCTL, args: ['serve'], env: { HELM_TOOL_ROUTES: ROUTES, ...env } });

function helmctl(...argv: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [HELMCTL, ...argv], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('the bundled entry points (the sidecar image)', () => {
  let pod: Pod;
  /** An OTLP/HTTP receiver: counts the trace exports it gets. */
  let otlp: Server;
  let traceExports = 0;
  beforeAll(async () => {
    if (!existsSync(HELMCTL)) throw new Error('dist/bundle/helmctl.js is missing: run npm run build');
    pod = await Pod.create();
    await pod.writeBundle(addMcpDemoPolicy(sidecarBundle(), ['support']));
    otlp = createServer((req, res) => {
      if (req.url === '/v1/traces') traceExports++;
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((r) => otlp.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await pod.cleanup();
    await new Promise((r) => otlp.close(r));
  });

  it('helmctl serve governs proxy and MCP calls and exports traces; export and verify (worker threads) of its log pass', async () => {
    pod.script(() => ({ toolCalls: [call('c1', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    const upstreams = [{ name: 'everything', transport: 'stdio', command: process.execPath, args: [everythingServerPath()!, 'stdio'], protocol: 'legacy' }];
    const endpoint = `http://127.0.0.1:${(otlp.address() as AddressInfo).port}`;
    const { child, governed } = await serve(pod, { HELM_MCP_UPSTREAMS: JSON.stringify(upstreams), OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' });
    try {
      const client = new OpenAI({ baseURL: `${governed}/v1`, apiKey: 'agent-own-key', maxRetries: 0 });
      const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'look up cus_12345678' }] });
      expect(r.choices[0]!.message.tool_calls?.map((t) => (t.type === 'function' ? t.function.name : t.type))).toEqual(['crm.lookup_customer']);
      const mcp = new Client({ name: 'bundle-test', version: '1.0.0' });
      await mcp.connect(new StreamableHTTPClientTransport(new URL(`${governed}/mcp`)));
      const echoed = await mcp.callTool({ name: 'everything__echo', arguments: { message: 'from the bundle' } });
      expect(JSON.stringify(echoed.content)).toContain('from the bundle');
      await expect(mcp.callTool({ name: 'everything__echo', arguments: { message: 'my password is x' } })).rejects.toThrow(/POLICY_VIOLATION|DENY|denied/i);
      await mcp.close();
    } finally {
      await stop(child);
    }
    expect(traceExports).toBeGreaterThan(0);
    const pack = pod.path('bundle-pack.tar.gz');
    const ex = helmctl('export', '--store', pod.path('proofgraph'), '--out', pack, '--key', pod.path('keys/exporter.key'));
    expect(ex).toMatchObject({ code: 0 });
    const v = helmctl('verify', pack, '--trust-policy', pod.path('trust-policy.txt'), '--workers', '2');
    expect(v.out).toMatch(/^VALID/m);
    expect(v.code).toBe(0);
  }, 60_000);

  it('helmctl serve runs sandboxed wasm tools (the worker source survives bundling): output, and a receipted DENY when gas runs out', async () => {
    const sb = await Pod.create();
    try {
      const f = await sandboxFixture();
      await sb.writeBundle(f.doc);
      await writeModules(sb.path('bundle'), f.files);
      const { child, governed } = await serve(sb);
      try {
        const execute = async (tool: string, args: Record<string, unknown>, callId: string) => {
          const res = await fetch(`${governed}/mcp/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args, callId }) });
          return { status: res.status, body: JSON.stringify(await res.json()) };
        };
        const upper = await execute('upper', { text: 'bundled' }, 'sb-1');
        expect([upper.status, upper.body]).toEqual([200, expect.stringContaining('BUNDLED')]);
        expect(upper.body).toContain('BUNDLED');
        const loop = await execute('loop', {}, 'sb-2');
        expect(loop.status).toBe(403);
        expect(loop.body).toContain('ERR_COMPUTE_GAS_EXHAUSTED');
      } finally {
        await stop(child);
      }
    } finally {
      await sb.cleanup();
    }
  }, 60_000);

  it('helmctl serve with certified identity (what the webhook injects): certified by the operator, then ready and allowing', async () => {
    const op = await startCertifyOperator();
    const cp = await Pod.create();
    try {
      const ref = op.seedPod('agent-bundled');
      op.registerToken(`tok-${ref.name}`, ref);
      // Ready only once the operator has certified its keys.
      const { child, governed } = await serve(cp, await certifiedEnv(cp, op, ref), []);
      try {
        const allowed = await chat(cp, { governedUrl: governed } as Parameters<typeof chat>[1], 'call_bundled');
        expect(allowed.headers.get('x-helm-decision')).toBe('ALLOW');
      } finally {
        await stop(child);
      }
    } finally {
      await cp.cleanup();
      await op.close();
    }
  }, 60_000);

  it('helmctl mcp --stdio (the desktop gateway) serves governed tools to an SDK stdio client', async () => {
    const dir = await Pod.create();
    const origin = 'helm.test/mcp-stdio-bundled';
    const keys = makeKeys([]);
    keys.logs[origin] = { log: testKey(origin), node: testKey('node-mcp-stdio-bundled') };
    const k = keys.logs[origin]!;
    await writeFile(dir.path('keys/mcp-node.key'), `${k.node.privateText}\n`);
    await writeFile(dir.path('keys/mcp-log.key'), `${k.log.privateText}\n`);
    await writeFile(dir.path('keys/mcp-publish.json'), JSON.stringify(publishEvent(keys, origin)));
    const args = [
      HELMCTL, 'mcp', '--stdio', '--proofgraph-dir', dir.path('mcp-volume'), '--writer-id', 'mcp-stdio-bundled', '--origin', origin,
      '--node-key', dir.path('keys/mcp-node.key'), '--log-key', dir.path('keys/mcp-log.key'), '--trust-event', dir.path('keys/mcp-publish.json'),
      '--bundle', BUNDLE_YAML, '--bundle-signature', BUNDLE_SIG, '--bundle-trust-root', bundleSigner.verifier.vkey,
      '--principal-id', 'agent:desktop', '--principal-role', 'agent', '--mcp-upstream', JSON.stringify(everything()),
    ];
    const client = new Client({ name: 'bundle-stdio', version: '1.0.0' });
    try {
      await client.connect(new StdioClientTransport({ command: process.execPath, args, env: { ...(process.env as Record<string, string>) }, stderr: 'ignore' }));
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('everything__echo');
      const ok = await client.callTool({ name: 'everything__echo', arguments: { message: 'stdio bundled' } });
      expect(JSON.stringify(ok.content)).toContain('stdio bundled');
    } finally {
      await client.close();
      await dir.cleanup();
    }
  }, 60_000);
});
