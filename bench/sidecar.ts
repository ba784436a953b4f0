// The sidecar as a process (dist/sidecar/main.js, the container entry point):
// - start to ready: from spawn until /readyz first answers 200 (a fresh log each run; a verified
//   bundle, so ready means store open, bundle verified and compiled, both listeners bound);
//   target 500 ms; measured for the image's entry point (the esbuild bundle,
//   dist/bundle/helmctl.js serve) cold and with Node's on-disk compile cache (NODE_COMPILE_CACHE)
//   warm, and for the unbundled dist/sidecar/main.js;
// - resident memory under load: 16 concurrent OpenAI clients, one tool call per response
//   (durable intent + decision receipts each), RSS sampled from /proc; target 96 MiB; measured
//   with V8's default young generation and with --max-semi-space-size=1 (a smaller young
//   generation: less idle memory, more frequent scavenges);
// - the web framework on the governed port: Express vs bare node:http with the same trivial
//   handler, keep-alive, c=1 (the rule: Express stays unless it costs more than 100 µs p50).
// Run: npm run bench -- sidecar   (or node dist/bench/sidecar.js after npm run build)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer, request, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { nodeSigner, nodeSuite } from '../kernel/crypto/node.js';
import { signingKeyFromSeed } from '../kernel/crypto/signing-key.js';
import { parseBundleText, signBundle, type PolicyBundleDoc } from '../kernel/guardian/index.js';
import { signKeyEvent } from '../kernel/trust/events.js';
import { startScriptedModel, type ScriptedModel } from '../sidecar/scripted-model/server.js';
import { percentile, round } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, '..', 'sidecar', 'main.js');
/** What the sidecar image runs (Dockerfile.sidecar ENTRYPOINT + CMD, test/sidecar/dockerfile.test.ts). */
export const IMAGE: Variant = { main: join(here, '..', 'bundle', 'helmctl.js'), args: ['serve'], nodeFlags: ['--max-semi-space-size=8'] };
const EXAMPLE = join(here, '..', '..', 'examples', 'bundles', 'support-desk.yaml');
const TARGET_READY_MS = 500;
const TARGET_RSS_MIB = 96;

export interface Setup {
  dir: string;
  flags: (run: string) => Promise<string[]>;
  model: ScriptedModel | null;
  cleanup(): Promise<void>;
}

/** With `upstreamUrl` the sidecar calls that model; otherwise a scripted model runs in this process. */
export async function setup(upstreamUrl?: string): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'helm-bench-sidecar-'));
  const key = (name: string) => signingKeyFromSeed(name, randomBytes(32), nodeSigner);
  const node = key('bench-sidecar/node');
  const benchRoot = key('bench-sidecar/root');
  const signer = key('bench-sidecar/bundle-signer');
  await mkdir(join(dir, 'keys'));
  await writeFile(join(dir, 'keys', 'node.key'), node.privateText);
  await writeFile(join(dir, 'keys', 'signer.pub'), signer.verifier.vkey);
  // The example bundle without budgets and rate limits: under sustained load every call should
  // stay an ALLOW with its full receipt path, not turn into BUDGET_EXCEEDED denials.
  const doc = parseBundleText(readFileSync(EXAMPLE, 'utf8')) as PolicyBundleDoc;
  delete doc.budgets;
  delete doc.rateLimits;
  doc.fixtures = [];
  await writeFile(join(dir, 'bundle.json'), JSON.stringify(doc));
  await writeFile(join(dir, 'bundle.sig.json'), JSON.stringify(signBundle(doc, signer, nodeSuite)));
  let n = 0;
  const model = upstreamUrl ? null : await startScriptedModel({ script: () => ({ toolCalls: [{ id: `call_${++n}`, name: 'crm.lookup_customer', arguments: '{"customerId":"cus_12345678"}' }] }) });
  const url = upstreamUrl ?? model!.url;
  return {
    dir,
    model,
    async flags(run) {
      // One log per run (a fresh writer each start), each with its own log key named after it.
      const logKey = join(dir, 'keys', `log-${run}.key`);
      await writeFile(logKey, key(`helm.bench/sidecar/${run}`).privateText);
      // The sidecar refuses to start unless a trust event publishes its node key for its origin.
      const publish = join(dir, 'keys', `publish-${run}.json`);
      await writeFile(publish, JSON.stringify(signKeyEvent(nodeSuite, { event: 'KEY_PUBLISH', purpose: 'node', origin: `helm.bench/sidecar/${run}`, key: node.verifier.vkey, fromIndex: 0, issuedAt: new Date().toISOString() }, [benchRoot, node])));
      return [
        '--listen', '127.0.0.1:0',
        '--admin-listen', '127.0.0.1:0',
        '--proofgraph-dir', join(dir, 'proofgraph'),
        '--writer-id', run,
        '--node-key', join(dir, 'keys', 'node.key'),
        '--log-key', logKey,
        '--trust-event', publish,
        '--bundle', join(dir, 'bundle.json'),
        '--bundle-signature', join(dir, 'bundle.sig.json'),
        '--bundle-trust-root', join(dir, 'keys', 'signer.pub'),
        '--upstream-url', url,
        '--principal-id', 'agent:bench',
        '--principal-role', 'support',
        '--tool-route', 'crm.lookup_customer=connector:crm-api',
        '--log-level', 'info',
      ];
    },
    async cleanup() {
      await model?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Started {
  child: ChildProcess;
  governed: string;
  admin: string;
  readyMs: number;
}

export interface Variant {
  nodeFlags?: string[];
  /** Another build's sidecar entry point (bench/compare.ts --baseline), default this build's. */
  main?: string;
  /** Arguments before the flags (`serve` for helmctl). */
  args?: string[];
  env?: Record<string, string>;
}

/** Spawns the sidecar and polls /readyz until 200; the admin URL comes from the ready log line. */
export async function startSidecar(flags: string[], v: Variant = {}): Promise<Started> {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [...(v.nodeFlags ?? []), v.main ?? MAIN, ...(v.args ?? []), ...flags], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...v.env } });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 20_000;
  let urls: { governed: string; admin: string } | null = null;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the sidecar exited ${child.exitCode}: ${err}`);
    if (Date.now() > deadline) throw new Error(`the sidecar was not ready in 20 s: ${err}`);
    if (!urls) {
      const line = err.split('\n').find((l) => l.includes('ready to serve'));
      if (line) urls = JSON.parse(line) as { governed: string; admin: string };
    }
    if (urls) {
      const r = await fetch(`${urls.admin}/readyz`).catch(() => null);
      if (r?.status === 200) return { child, ...urls, readyMs: Number(process.hrtime.bigint() - t0) / 1e6 };
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function load(governed: string, pid: number, clients: number, seconds: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const body = JSON.stringify({ model: 'scripted-model', messages: [{ role: 'user', content: 'look up the customer' }] });
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${governed}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer agent' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  let peak = rssMiB(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
  const end = Date.now() + seconds * 1000;
  let ok = 0;
  let other = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < end) {
        if ((await one()) === 200) ok++;
        else other++;
      }
    }),
  );
  clearInterval(sampler);
  agent.destroy();
  return { clients, seconds, responses: ok, non200: other, toolCallsPerSecond: round(ok / seconds, 0), peakRssMiB: round(peak, 1), rssAfterMiB: round(rssMiB(pid), 1) };
}

async function latency(listener: RequestListener, n: number): Promise<{ p50Us: number; p99Us: number }> {
  const server: Server = createServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': 2 } }, (res) => {
        res.resume();
        res.on('end', () => resolve(Number(process.hrtime.bigint() - t0)));
      });
      req.on('error', reject);
      req.end('{}');
    });
  for (let i = 0; i < Math.min(1000, n); i++) await one();
  const t: number[] = [];
  for (let i = 0; i < n; i++) t.push(await one());
  t.sort((a, b) => a - b);
  agent.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return { p50Us: round(percentile(t, 50) / 1000, 1), p99Us: round(percentile(t, 99) / 1000, 1) };
}

async function framework(requests: number) {
  const handler: RequestListener = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 }).end('{"ok":true}');
  };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(handler);
  const rounds = [];
  for (let i = 0; i < 3; i++) rounds.push({ node: await latency(handler, requests), express: await latency(app, requests) });
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
  const nodeP50 = med(rounds.map((r) => r.node.p50Us));
  const expressP50 = med(rounds.map((r) => r.express.p50Us));
  return { nodeHttpP50Us: nodeP50, expressP50Us: expressP50, expressAddedP50Us: round(expressP50 - nodeP50, 1), ruleUs: 100 };
}

async function startTimes(s: Setup, name: string, v: Variant, starts: number) {
  const runs: number[] = [];
  for (let i = 0; i < starts; i++) {
    const st = await startSidecar(await s.flags(`${name}-${i}`), v);
    runs.push(st.readyMs);
    await stop(st.child);
  }
  runs.sort((a, b) => a - b);
  return { medianMs: round(runs[Math.floor(runs.length / 2)]!, 1), maxMs: round(runs[runs.length - 1]!, 1), runsMs: runs.map((x) => round(x, 1)) };
}

async function memory(s: Setup, name: string, v: Variant, loadSeconds: number) {
  const st = await startSidecar(await s.flags(name), v);
  const idle = rssMiB(st.child.pid!);
  const loaded = await load(st.governed, st.child.pid!, 16, loadSeconds);
  await stop(st.child);
  return { nodeFlags: (v.nodeFlags ?? []).join(' '), idleRssMiB: round(idle, 1), ...loaded };
}

/** Defaults are the measured run; `npm run bench -- --smoke` passes tiny counts to check it completes. */
export async function benchSidecar(opts: { starts?: number; frameworkRequests?: number; loadSeconds?: number } = {}) {
  const starts = opts.starts ?? 5;
  const loadSeconds = opts.loadSeconds ?? 10;
  const s = await setup();
  try {
    const cache = { NODE_COMPILE_CACHE: join(s.dir, 'compile-cache') };
    const cold = await startTimes(s, 'cold', IMAGE, starts);
    // One start fills the cache; the measured starts then read it (as a pre-warmed image would).
    await stop((await startSidecar(await s.flags('prime'), { ...IMAGE, env: cache })).child);
    const warm = await startTimes(s, 'warm', { ...IMAGE, env: cache }, starts);
    const unbundled = await startTimes(s, 'unbundled', {}, starts);
    return {
      startToReady: { targetMs: TARGET_READY_MS, imageEntry: cold, imageEntryCompileCacheWarm: warm, unbundledMain: unbundled },
      memory: { targetMiB: TARGET_RSS_MIB, imageEntry: await memory(s, 'load', IMAGE, loadSeconds), v8DefaultYoungGeneration: await memory(s, 'load-v8', { ...IMAGE, nodeFlags: [] }, loadSeconds) },
      governedFramework: await framework(opts.frameworkRequests ?? 5000),
    };
  } finally {
    await s.cleanup();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify(await benchSidecar(), null, 2));
}
