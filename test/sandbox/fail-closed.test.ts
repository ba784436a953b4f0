// Fail closed: an engine that crashes, a Worker that dies mid-call, a module file that is missing:
// each gives a DENY with ERR_COMPUTE_ENGINE_FAILURE and a signed RESULT, never an unrecorded error.
// The gateway runs in-process here so the test can reach the sandbox's Workers and engine.
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { signBundle } from '../../kernel/guardian/index.js';
import { createMcpGateway, type McpGateway } from '../../sidecar/mcp/gateway.js';
import { SandboxUpstream } from '../../sidecar/sandbox/upstream.js';
import { bundleSigner } from '../guardian/helpers.js';
import { Lab, type Harness } from '../pep/support.js';
import { chainOf, nodeBody } from '../sidecar/mcp/support.js';
import { sandboxFixture, writeModules } from './governed-fixture.js';

let lab: Lab;
let h: Harness;
let dir: string;
let upstream: SandboxUpstream;
let gateway: McpGateway;
let http: Server;
let url: string;
const workers: Worker[] = [];

beforeAll(async () => {
  const f = await sandboxFixture(['agent']);
  dir = await mkdtemp(join(tmpdir(), 'helm-sb-modules-'));
  await writeModules(dir, f.files);
  lab = await Lab.create();
  h = await lab.harness('sb-fail', { policy: { bundle: f.doc, signature: signBundle(f.doc, bundleSigner, nodeSuite) } });
  upstream = new SandboxUpstream({ moduleDir: dir, size: 1, onWorker: (w) => workers.push(w) });
  gateway = await createMcpGateway({ pep: h.pep, principal: { id: 'agent:sb', roles: ['agent'] }, upstreams: [], inProcess: [upstream], log: () => undefined });
  http = createServer((req, res) => void gateway.handle(req, res).then((ours) => (ours ? undefined : res.writeHead(404).end())));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  http?.closeAllConnections();
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  await gateway?.close();
  await lab?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function execute(tool: string, args: Record<string, unknown>, callId: string) {
  const res = await fetch(`${url}/mcp/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args, callId }) });
  return (await res.json()) as Record<string, unknown>;
}

async function expectReceiptedDeny(callId: string, answer: Record<string, unknown>, code: string) {
  expect(answer).toMatchObject({ verdict: 'DENY', reasonCode: code });
  const c = await chainOf({ logDir: h.logDir, node: h.node }, callId);
  expect(nodeBody(c.decision).verdict).toBe('ALLOW');
  expect(nodeBody(c.result!)).toMatchObject({ status: 'error', reasonCode: code });
}

describe('sandboxed calls fail closed', () => {
  it('a Worker that dies mid-call: receipted DENY ERR_COMPUTE_ENGINE_FAILURE, and the next call is served', async () => {
    const before = workers.length;
    const pending = execute('spin', {}, 'fc-worker');
    while (workers.length === before) await new Promise((r) => setTimeout(r, 5));
    const w = workers.at(-1)!;
    await new Promise((r) => w.once('online', r));
    await new Promise((r) => setTimeout(r, 50));
    await w.terminate();
    await expectReceiptedDeny('fc-worker', await pending, 'ERR_COMPUTE_ENGINE_FAILURE');
    expect(await execute('upper', { text: 'ok' }, 'fc-after')).toMatchObject({ verdict: 'ALLOW' });
  });

  it('an engine that throws: receipted DENY ERR_COMPUTE_ENGINE_FAILURE', async () => {
    // A double: a real engine crash cannot be provoked on demand.
    const engine = upstream.host.sandbox.engine;
    const execute0 = engine.execute.bind(engine);
    engine.execute = () => Promise.reject(new Error('simulated engine crash'));
    try {
      await expectReceiptedDeny('fc-engine', await execute('upper', { text: 'x' }, 'fc-engine'), 'ERR_COMPUTE_ENGINE_FAILURE');
    } finally {
      engine.execute = execute0;
    }
  });

  it('a sandbox that throws outside the kernel path: receipted DENY ERR_COMPUTE_ENGINE_FAILURE', async () => {
    const sandbox = upstream.host.sandbox;
    const run0 = sandbox.run.bind(sandbox);
    sandbox.run = () => {
      throw new TypeError('simulated host fault');
    };
    try {
      await expectReceiptedDeny('fc-host', await execute('upper', { text: 'x' }, 'fc-host'), 'ERR_COMPUTE_ENGINE_FAILURE');
    } finally {
      sandbox.run = run0;
    }
  });

  it('a module file that is missing: receipted DENY ERR_COMPUTE_ENGINE_FAILURE naming the file', async () => {
    await unlink(join(dir, 'random.wasm'));
    const answer = await execute('random', {}, 'fc-missing');
    await expectReceiptedDeny('fc-missing', answer, 'ERR_COMPUTE_ENGINE_FAILURE');
    expect(String((answer.error as { message: string }).message)).toContain('random.wasm');
  });
});
