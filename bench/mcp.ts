// Added latency of a governed MCP tools/call: the same MCP SDK client calls server-everything's
// echo tool over Streamable HTTP directly and through the gateway (one session each, naming
// `own` so the tool has the same name; Guardian decision, four durable receipts per call with
// fsync'ed group commits, upstream call over Streamable HTTP), alternating call by call. Warm,
// one call at a time. Target: added p50 <= 0.5 ms (issue 11: <= 1 ms).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { nodeSuite } from '../kernel/crypto/node.js';
import { signBundle, type PolicyBundleDoc } from '../kernel/guardian/index.js';
import { Pep } from '../kernel/pep/pep.js';
import { ProofGraphWriter } from '../kernel/proofgraph/graph-writer.js';
import { everythingServerPath } from '../sidecar/mcp/demo-part.js';
import { createMcpGateway } from '../sidecar/mcp/gateway.js';
import { benchKey } from './export.js';
import { round, summarize } from './stats.js';

const BUNDLE: PolicyBundleDoc = {
  apiVersion: 'helm-policy-bundle/v1',
  kind: 'PolicyBundle',
  metadata: { name: 'mcp-bench' },
  domains: { demo: {} },
  grants: [{ id: 'agents', principals: { roles: ['agent'] }, domains: ['demo'], profile: 'read-only' }],
  tools: { echo: { domain: 'demo', sideEffect: 'read', args: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } } },
  rules: [{ id: 'allow', verdict: 'ALLOW', match: { domains: ['demo'] } }],
};

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startEverything(port: number): Promise<ChildProcess> {
  const path = everythingServerPath();
  if (path === null) throw new Error('@modelcontextprotocol/server-everything is not installed');
  const child = spawn(process.execPath, [path, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
    child.once('exit', () => reject(new Error('server-everything exited')));
  });
  return child;
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/**
 * The same SDK client calls the same tool directly and through the gateway in alternating calls
 * (one session each), so load on a shared machine hits both alike.
 */
async function timeAlternating(directUrl: string, gatewayUrl: string, iterations: number, warmup: number): Promise<{ direct: number[]; governed: number[] }> {
  const [d, g] = await Promise.all([connect(directUrl), connect(gatewayUrl)]);
  const direct: number[] = [];
  const governed: number[] = [];
  try {
    for (let i = 0; i < warmup + iterations; i++) {
      for (const [client, out] of [[d, direct], [g, governed]] as const) {
        const t0 = process.hrtime.bigint();
        await client.callTool({ name: 'echo', arguments: { message: `bench ${i}` } });
        if (i >= warmup) out.push(Number(process.hrtime.bigint() - t0));
      }
    }
  } finally {
    await Promise.all([d.close(), g.close()]);
  }
  return { direct, governed };
}

export async function benchMcp(opts: { iterations?: number; warmup?: number } = {}) {
  const iterations = opts.iterations ?? 2000;
  const warmup = opts.warmup ?? 200;
  const port = await freePort();
  const upstream = await startEverything(port);
  const dir = await mkdtemp(join(tmpdir(), 'helm-bench-mcp-'));
  const signer = benchKey('mcp-bench-bundle');
  const writer = await ProofGraphWriter.open({ root: dir, writerId: 'mcp', origin: 'helm.bench/mcp', nodeKey: benchKey('mcp-node'), logKey: benchKey('helm.bench/mcp'), clock: Date.now, checkpointEvery: 1000 });
  const pep = await Pep.open({
    writer,
    logDir: join(dir, 'mcp'),
    trust: { roots: [signer.verifier], revoked: [] },
    clock: Date.now,
    random: (n) => new Uint8Array(randomBytes(n)),
    policy: { bundle: BUNDLE, signature: signBundle(BUNDLE, signer, nodeSuite) },
  });
  const gateway = await createMcpGateway({ pep, principal: { id: 'agent:bench', roles: ['agent'] }, upstreams: [{ name: 'everything', transport: 'http', url: `http://127.0.0.1:${port}/mcp`, protocol: 'legacy' }], naming: 'own' });
  // Mounted under /gateway so the timing loop can tell the two targets apart; the gateway sees /mcp.
  const http = createHttpServer((req, res) => {
    req.url = (req.url ?? '/').replace(/^\/gateway/, '');
    void gateway.handle(req, res).then((ours) => ours || res.writeHead(404).end());
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const gatewayUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}/gateway/mcp`;
  try {
    const samples = await timeAlternating(`http://127.0.0.1:${port}/mcp`, gatewayUrl, iterations, warmup);
    const direct = summarize(samples.direct);
    const governed = summarize(samples.governed);
    const added = { p50Us: round(governed.p50Us - direct.p50Us, 1), p99Us: round(governed.p99Us - direct.p99Us, 1) };
    return {
      name: 'MCP gateway: governed tools/call vs direct (Streamable HTTP, warm, c=1)',
      iterations,
      directUs: { p50: round(direct.p50Us, 1), p99: round(direct.p99Us, 1) },
      governedUs: { p50: round(governed.p50Us, 1), p99: round(governed.p99Us, 1) },
      addedUs: added,
      receiptsPerCall: 4,
      target: { addedP50Us: 500 },
      met: { addedP50: added.p50Us <= 500 },
    };
  } finally {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
    await gateway.close();
    await pep.close();
    await writer.close();
    upstream.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  console.log(JSON.stringify(await benchMcp(n ? { iterations: n } : {}), null, 2));
}
