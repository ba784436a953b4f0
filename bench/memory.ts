// Memory over repeated identical fuzz rounds against the OpenAI surface: the sidecar runs as a
// process (dist/sidecar/main.js); each round sends the same deterministic mix of hostile and
// ordinary requests (tool calls with fresh ids and arbitrary tool names, answers to unknown ids,
// malformed bodies, large arguments, streamed calls, unknown routes); after each round the RSS and
// the V8 heap are read from the admin /metrics. Stable means every round's RSS within 10% of the
// first round's once the caches are full.
// Run: npm run bench:memory -- [rounds] [requests-per-round]   (default 6 rounds of 3,000)
// With HELM_HEAP_SNAPSHOTS=1 the sidecar writes a heap snapshot after each round (SIGUSR2) into
// the working directory, for comparison in Chrome DevTools (Memory tab, "Comparison").
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeSigner, nodeSuite } from '../kernel/crypto/node.js';
import { signingKeyFromSeed } from '../kernel/crypto/signing-key.js';
import { parseBundleText, signBundle, type PolicyBundleDoc } from '../kernel/guardian/index.js';
import { startScriptedModel, type ScriptedTurn } from '../sidecar/scripted-model/server.js';

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, '..', 'sidecar', 'main.js');
const EXAMPLE = join(here, '..', '..', 'examples', 'bundles', 'support-desk.yaml');

/** A small deterministic PRNG (mulberry32): every round sends the same requests. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOOLS = ['crm.lookup_customer', 'tickets.update', 'mail.send', 'billing.refund', 'kb.fetch_article'];

/** What the scripted model answers: encoded in the request's last user message. */
function turnFor(request: unknown): ScriptedTurn {
  const msgs = (request as { messages?: Array<{ role?: string; content?: unknown }> }).messages ?? [];
  const last = String(msgs.filter((m) => m.role === 'user').at(-1)?.content ?? '');
  const [kind, id, tool, size] = last.split('|');
  if (kind === 'call') return { toolCalls: [{ id: id!, name: tool!, arguments: JSON.stringify({ customerId: 'cus_12345678', note: 'x'.repeat(Number(size ?? 0)) }) }] };
  if (kind === 'garbage') return { toolCalls: [{ id: id!, name: tool!, arguments: '{"unterminated' }] };
  if (kind === 'fault') return { fault: { status: 500, body: '{"error":{"message":"upstream exploded"}}' } };
  return { content: 'hello' };
}

interface Req {
  path: string;
  body: string;
}

let roundSeq = 0;
/** The requests of one round; ids are fresh each round (as an agent's would be), the mix is the same. */
function round(n: number): Req[] {
  const r = prng(42);
  const out: Req[] = [];
  const tag = ++roundSeq;
  for (let i = 0; i < n; i++) {
    const x = r();
    const id = `call_${tag}_${i}`;
    const tool = r() < 0.5 ? TOOLS[Math.floor(r() * TOOLS.length)]! : `fuzz.tool_${Math.floor(r() * 1e9).toString(36)}`;
    const chat = (content: string, extra: Record<string, unknown> = {}) => ({ path: '/v1/chat/completions', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], ...extra }) });
    if (x < 0.3) out.push(chat(`call|${id}|${tool}|${Math.floor(r() * 4096)}`));
    else if (x < 0.4) out.push(chat(`call|${id}|${tool}|0`, { stream: true }));
    else if (x < 0.5) out.push(chat(`garbage|${id}|${tool}`));
    else if (x < 0.6)
      out.push({
        path: '/v1/chat/completions',
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', tool_calls: [{ id, type: 'function', function: { name: tool, arguments: '{}' } }] }, { role: 'tool', tool_call_id: id, content: 'result' }] }),
      });
    else if (x < 0.7) out.push({ path: '/v1/chat/completions', body: `{"model":"m","messages":[${'['.repeat(Math.floor(r() * 200))}` });
    else if (x < 0.75) out.push(chat('fault|'));
    else if (x < 0.8) out.push({ path: `/v1/unknown/${Math.floor(r() * 1e9)}`, body: '{}' });
    else if (x < 0.9) out.push(chat('x'.repeat(Math.floor(r() * 65536)), { tools: [{ type: 'function', function: { name: tool, parameters: { type: 'object' } } }] }));
    else out.push(chat('hello'));
  }
  return out;
}

function send(base: string, agent: Agent, q: Req): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${base}${q.path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(q.body), authorization: 'Bearer agent' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(q.body);
  });
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 6);
  const perRound = Number(process.argv[3] ?? 3000);
  const dir = await mkdtemp(join(tmpdir(), 'helm-bench-memory-'));
  const key = (name: string) => signingKeyFromSeed(name, randomBytes(32), nodeSigner);
  const node = key('bench-memory/node');
  const signer = key('bench-memory/bundle-signer');
  await mkdir(join(dir, 'keys'));
  await writeFile(join(dir, 'keys', 'node.key'), node.privateText);
  await writeFile(join(dir, 'keys', 'log.key'), key('helm.bench/memory').privateText);
  await writeFile(join(dir, 'keys', 'signer.pub'), signer.verifier.vkey);
  const doc = parseBundleText(readFileSync(EXAMPLE, 'utf8')) as PolicyBundleDoc;
  delete doc.budgets;
  delete doc.rateLimits;
  doc.fixtures = [];
  await writeFile(join(dir, 'bundle.json'), JSON.stringify(doc));
  await writeFile(join(dir, 'bundle.sig.json'), JSON.stringify(signBundle(doc, signer, nodeSuite)));
  const model = await startScriptedModel({ script: (r) => turnFor(r) });
  const flags = [
    '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0',
    '--proofgraph-dir', join(dir, 'proofgraph'), '--writer-id', 'memory',
    '--node-key', join(dir, 'keys', 'node.key'), '--log-key', join(dir, 'keys', 'log.key'),
    '--bundle', join(dir, 'bundle.json'), '--bundle-signature', join(dir, 'bundle.sig.json'), '--bundle-trust-root', join(dir, 'keys', 'signer.pub'),
    '--upstream-url', model.url, '--principal-id', 'agent:bench', '--principal-role', 'support',
    '--tool-route', 'crm.lookup_customer=connector:crm-api', '--log-level', 'info',
  ];
  const snapshots = process.env.HELM_HEAP_SNAPSHOTS === '1';
  const child: ChildProcess = spawn(process.execPath, [...(snapshots ? ['--heapsnapshot-signal=SIGUSR2'] : []), MAIN, ...flags], { stdio: ['ignore', 'ignore', 'pipe'], env: process.env });
  let err = '';
  let ready = false;
  // Only the start-up lines are kept (the ready line names the listeners); later lines are dropped.
  child.stderr!.on('data', (d: Buffer) => {
    if (!ready) err += d.toString();
  });
  const urls = await new Promise<{ governed: string; admin: string }>((resolve, reject) => {
    const t = setInterval(() => {
      const line = err.split('\n').find((l) => l.includes('ready to serve'));
      if (line) {
        ready = true;
        clearInterval(t);
        resolve(JSON.parse(line) as { governed: string; admin: string });
      }
      if (child.exitCode !== null) reject(new Error(`the sidecar exited: ${err}`));
    }, 10);
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const rows: Array<Record<string, number>> = [];
  const sample = async (r: number) => {
    const text = await (await fetch(`${urls.admin}/metrics`)).text();
    const row = { round: r, rssMiB: Math.round(metric(text, 'process_resident_memory_bytes') / 1048576), heapUsedMiB: Math.round(metric(text, 'nodejs_heap_size_used_bytes') / 1048576), externalMiB: Math.round(metric(text, 'nodejs_external_memory_bytes') / 1048576) };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  };
  await sample(0);
  for (let r = 1; r <= rounds; r++) {
    const reqs = round(perRound);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < reqs.length) await send(urls.governed, agent, reqs[next++]!);
      }),
    );
    await new Promise((res) => setTimeout(res, 1000));
    if (snapshots) {
      child.kill('SIGUSR2');
      await new Promise((res) => setTimeout(res, 5000));
    }
    await sample(r);
  }
  agent.destroy();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  await model.close();
  await rm(dir, { recursive: true, force: true });
  const settled = rows.slice(2).map((x) => x.rssMiB!);
  if (settled.length > 1) process.stdout.write(`${JSON.stringify({ rounds, perRound, rssFirstSettledMiB: settled[0], rssLastMiB: settled.at(-1), growthPct: Math.round(((settled.at(-1)! - settled[0]!) / settled[0]!) * 100) })}\n`);
}

await main();
