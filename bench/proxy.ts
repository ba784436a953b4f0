// Added latency of the governed OpenAI proxy: the same keep-alive client calls the scripted
// upstream (1) directly, (2) through a minimal node:http pass-through proxy and (3) through the
// governed proxy, whose every answer carries one tool call judged by a real PEP with durable
// receipts (INTENT + DECISION, fsync group commit). Latency per request is timed with
// process.hrtime in microseconds (c=1, p50/p99); throughput is requests/s with 16 concurrent
// keep-alive clients. The upstream runs in a worker thread; the client and both proxies share the
// main thread, so at c=16 the client's own work is part of every figure alike.
// Run: npx tsx bench/proxy.ts [c1Requests] [c16Requests]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { nodeSigner, nodeSuite } from '../kernel/crypto/node.js';
import { signingKeyFromSeed } from '../kernel/crypto/signing-key.js';
import { parseBundleText, signBundle, type PolicyBundleDoc } from '../kernel/guardian/index.js';
import { Pep } from '../kernel/pep/index.js';
import { ProofGraphWriter } from '../kernel/proofgraph/graph-writer.js';
import { createOpenAiProxy } from '../sidecar/openai/index.js';
import { startScriptedModel } from '../sidecar/scripted-model/server.js';
import { round, summarize } from './stats.js';

const HERE = fileURLToPath(import.meta.url);
const EXAMPLE = resolve(dirname(HERE), '..', '..', 'examples', 'bundles', 'support-desk.yaml');
const ARGS = JSON.stringify({ customerId: 'cus_12345678' });

/** The upstream: a scripted model in its own thread, one tool call per answer (fresh id each). */
async function upstreamWorker(): Promise<void> {
  const model = await startScriptedModel({ script: (_r, turn) => ({ toolCalls: [{ id: `call_${turn}`, name: 'crm.lookup_customer', arguments: ARGS }] }) });
  parentPort!.postMessage(model.url);
  parentPort!.on('message', () => void model.close().then(() => process.exit(0)));
}

function startUpstream(): Promise<{ url: string; stop(): Promise<void> }> {
  const w = new Worker(HERE, { workerData: { role: 'upstream' } });
  return new Promise((res, rej) => {
    w.once('error', rej);
    w.once('message', (url: string) =>
      res({
        url,
        stop: () =>
          new Promise<void>((r) => {
            w.once('exit', () => r());
            w.postMessage('stop');
          }),
      }),
    );
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`)));
}

/** A minimal pass-through proxy: the floor any proxy in front of the model costs. */
function bareProxy(upstreamUrl: string): Server {
  const up = new URL(upstreamUrl);
  const agent = new Agent({ keepAlive: true });
  return createServer((req, res) => {
    const out = request({ hostname: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers, agent }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
}

/** A bench bundle: the example with its budgets and rate limits removed (so every call is allowed). */
function benchPolicy() {
  const signer = signingKeyFromSeed('bench-bundle-signer', new Uint8Array(32).fill(0x42), nodeSigner);
  const doc = parseBundleText(readFileSync(EXAMPLE, 'utf8')) as PolicyBundleDoc;
  doc.budgets = [];
  doc.rateLimits = [];
  doc.fixtures = [];
  return { source: { bundle: doc, signature: signBundle(doc, signer, nodeSuite) }, trust: { roots: [signer.verifier], revoked: [] } };
}

async function governedProxy(upstreamUrl: string, root: string) {
  const origin = 'bench.helm.local/proxy';
  const writer = await ProofGraphWriter.open({
    root,
    writerId: 'sidecar',
    origin,
    nodeKey: signingKeyFromSeed('bench-node', new Uint8Array(32).fill(1), nodeSigner),
    logKey: signingKeyFromSeed(origin, new Uint8Array(32).fill(2), nodeSigner),
    clock: Date.now,
  });
  const { source, trust } = benchPolicy();
  const pep = await Pep.open({ writer, logDir: join(root, 'sidecar'), trust, clock: Date.now, random: (n) => randomBytes(n), policy: source });
  const proxy = createOpenAiProxy({
    pep,
    principal: { id: 'agent:bench', roles: ['support'] },
    upstream: { baseUrl: upstreamUrl, timeoutMs: 10_000 },
    toolRoutes: { 'crm.lookup_customer': { connector: 'crm-api' } },
  });
  const server = createServer((req, res) => void proxy.handle(req, res));
  let seq = 0;
  const decide = () => pep.decide({ callId: `kernel_${seq++}`, surface: 'openai', principal: { id: 'agent:bench', roles: ['support'] }, tool: 'crm.lookup_customer', args: { customerId: 'cus_12345678' }, connector: 'crm-api' });
  return {
    server,
    writer,
    decide,
    async close() {
      await proxy.drain();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await pep.close();
      await writer.close();
    },
  };
}

const BODY = Buffer.from(
  JSON.stringify({
    model: 'bench-model',
    messages: [{ role: 'user', content: 'Look up customer cus_12345678' }],
    tools: [{ type: 'function', function: { name: 'crm.lookup_customer', description: 'Find a customer', parameters: { type: 'object', properties: { customerId: { type: 'string' } } } } }],
  }),
);

/** One POST; resolves with the elapsed nanoseconds once the whole answer is read. */
function once(base: URL, agent: Agent): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const req = request(
      { hostname: base.hostname, port: base.port, method: 'POST', path: `${base.pathname}/chat/completions`, agent, headers: { 'content-type': 'application/json', 'content-length': BODY.length, authorization: 'Bearer bench' } },
      (r: IncomingMessage) => {
        const parts: Buffer[] = [];
        r.on('data', (c: Buffer) => parts.push(c));
        r.on('end', () => {
          const ns = Number(process.hrtime.bigint() - t0);
          if (r.statusCode !== 200) return rej(new Error(`status ${r.statusCode}: ${Buffer.concat(parts).toString().slice(0, 300)}`));
          const body = Buffer.concat(parts).toString();
          if (!body.includes('"tool_calls"')) return rej(new Error(`no tool call delivered: ${body.slice(0, 300)}`));
          res(ns);
        });
      },
    );
    req.on('error', rej);
    req.end(BODY);
  });
}

async function latency(url: string, n: number, warmup: number) {
  const base = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < warmup; i++) await once(base, agent);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await once(base, agent));
  agent.destroy();
  const s = summarize(samples);
  return { p50Us: round(s.p50Us, 1), p99Us: round(s.p99Us, 1), meanUs: round(s.meanUs, 1), n: s.n };
}

/** The PEP alone, same policy and store: the floor of what a governed call costs. */
async function kernelOnly(decide: () => Promise<{ verdict: string }>, n: number, c16: number) {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const o = await decide();
    samples.push(Number(process.hrtime.bigint() - t0));
    if (o.verdict !== 'ALLOW') throw new Error(`the bench call was not allowed: ${o.verdict}`);
  }
  const s = summarize(samples);
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < c16) await decide();
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { c1: { p50Us: round(s.p50Us, 1), p99Us: round(s.p99Us, 1) }, c16DecisionsPerSec: Math.round(c16 / seconds) };
}

async function throughput(url: string, n: number, concurrency: number) {
  const base = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  for (let i = 0; i < concurrency * 4; i++) await once(base, agent);
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) await once(base, agent);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  return { requests: n, seconds: round(seconds, 3), rps: Math.round(n / seconds) };
}

export async function benchProxy(opts: { c1Requests?: number; c16Requests?: number; dir?: string } = {}) {
  const c1 = opts.c1Requests ?? 2000;
  const c16 = opts.c16Requests ?? 8000;
  // HELM_BENCH_DIR=/dev/shm separates the proxy's own cost from the disk's fsync latency.
  const root = await mkdtemp(join(opts.dir ?? process.env.HELM_BENCH_DIR ?? tmpdir(), 'helm-bench-proxy-'));
  const upstream = await startUpstream();
  const bare = bareProxy(upstream.url.replace(/\/v1$/, ''));
  const bareUrl = await listen(bare);
  const governed = await governedProxy(upstream.url, root);
  const governedUrl = await listen(governed.server);
  try {
    const warm = Math.min(200, c1);
    const lat = { direct: await latency(upstream.url, c1, warm), bare: await latency(bareUrl, c1, warm), governed: await latency(governedUrl, c1, warm) };
    const rss0 = process.memoryUsage().rss;
    const tput = { direct: await throughput(upstream.url, c16, 16), bare: await throughput(bareUrl, c16, 16), governed: await throughput(governedUrl, c16, 16) };
    const kernel = await kernelOnly(governed.decide, c1, c16);
    const rssMiB = round(Math.max(rss0, process.memoryUsage().rss) / 1024 / 1024, 1);
    const added = {
      p50UsVsDirect: round(lat.governed.p50Us - lat.direct.p50Us, 1),
      p99UsVsDirect: round(lat.governed.p99Us - lat.direct.p99Us, 1),
      p50UsVsBare: round(lat.governed.p50Us - lat.bare.p50Us, 1),
      p99UsVsBare: round(lat.governed.p99Us - lat.bare.p99Us, 1),
    };
    const ratio = round(tput.governed.rps / tput.bare.rps, 3);
    return {
      setup: { node: process.version, storeDir: root, c1Requests: c1, c16Requests: c16, toolCallsPerResponse: 1, receipts: 'INTENT + DECISION per call, fsync group commit', logEntries: governed.writer.size },
      c1: { ...lat, added },
      c16: { ...tput, governedToolCallsPerSec: tput.governed.rps, governedVsBare: ratio },
      /** pep.decide alone (no HTTP, no proxy): where the governed figures' time goes. */
      kernelOnly: kernel,
      /** The whole bench process (load client, both proxies, PEP, upstream worker, tsx), not a sidecar alone. */
      benchProcessRssMiB: rssMiB,
      targets: {
        addedP50Le300Us: added.p50UsVsDirect <= 300,
        addedP99Le1000Us: added.p99UsVsDirect <= 1000,
        c16AtLeast0_7xBare: ratio >= 0.7,
        atLeast4000ToolCallsPerSec: tput.governed.rps >= 4000,
      },
    };
  } finally {
    await governed.close();
    bare.closeAllConnections();
    await new Promise<void>((r) => bare.close(() => r()));
    await upstream.stop();
    await rm(root, { recursive: true, force: true });
  }
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'upstream') {
  await upstreamWorker();
} else if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [c1Requests, c16Requests] = process.argv.slice(2).map(Number);
  console.log(JSON.stringify(await benchProxy({ ...(c1Requests ? { c1Requests } : {}), ...(c16Requests ? { c16Requests } : {}) }), null, 2));
}
