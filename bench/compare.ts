// Governed sidecar vs a bare node:http proxy vs calling the model directly, as a user sees them:
// three targets, each its own process (the scripted model, a pass-through proxy, the real
// `helmctl serve` sidecar from dist/), driven by one load generator in this process, in
// alternating rounds (the order rotates each round) so that machine noise hits all alike.
// Per round and target: c=1 latency (p50/p99), c=16 throughput, and the CPU time the target's
// own process spent per request (from /proc/<pid>/stat), which is what caps throughput.
// Every answer carries one tool call; through the sidecar each is a governed ALLOW with its
// durable receipts. Prints JSON with the medians over rounds and the ratios the targets use.
// Run: npm run build && node dist/bench/compare.js [--rounds N] [--c1 N] [--c16 N] [--profile DIR]
// [--baseline DIST]: also runs another build's sidecar (DIST/sidecar/main.js, e.g. main before a
// change) as a fourth target in the same rounds, for a before/after ratio measured in one run.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Agent, createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startScriptedModel } from '../sidecar/scripted-model/server.js';
import { setup, startSidecar, stop } from './sidecar.js';
import { round, summarize } from './stats.js';

const HERE = fileURLToPath(import.meta.url);
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s.

/** Child roles: the model and the bare proxy each run in a process of their own. */
async function child(role: string, arg: string | undefined): Promise<void> {
  let url: string;
  if (role === 'upstream') {
    let n = 0;
    const model = await startScriptedModel({ script: () => ({ toolCalls: [{ id: `call_${++n}`, name: 'crm.lookup_customer', arguments: '{"customerId":"cus_12345678"}' }] }) });
    url = model.url;
  } else {
    const up = new URL(arg!);
    const agent = new Agent({ keepAlive: true });
    const server = createServer((req, res) => {
      const out = request({ hostname: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers, agent }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  }
  process.send!(url);
  process.on('disconnect', () => process.exit(0));
}

function spawnRole(role: string, arg?: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = fork(HERE, ['--role', role, ...(arg ? [arg] : [])], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((res, rej) => {
    proc.once('error', rej);
    proc.once('exit', (code) => rej(new Error(`${role} exited ${code}`)));
    proc.once('message', (url) => res({ proc, url: String(url) }));
  });
}

function cpuSeconds(pid: number): number {
  // Fields after the parenthesised command name: utime is the 12th, stime the 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

const BODY = Buffer.from(
  JSON.stringify({
    model: 'bench-model',
    messages: [{ role: 'user', content: 'Look up customer cus_12345678' }],
    tools: [{ type: 'function', function: { name: 'crm.lookup_customer', description: 'Find a customer', parameters: { type: 'object', properties: { customerId: { type: 'string' } } } } }],
  }),
);

function once(base: URL, agent: Agent): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const req = request(
      { hostname: base.hostname, port: base.port, method: 'POST', path: `${base.pathname}/chat/completions`, agent, headers: { 'content-type': 'application/json', 'content-length': BODY.length, authorization: 'Bearer bench' } },
      (r: IncomingMessage) => {
        const parts: Buffer[] = [];
        // A connection reset after the head arrives is an error of the response, not the request.
        r.on('error', rej);
        r.on('data', (c: Buffer) => parts.push(c));
        r.on('end', () => {
          const ns = Number(process.hrtime.bigint() - t0);
          const body = Buffer.concat(parts).toString();
          if (r.statusCode !== 200 || !body.includes('"tool_calls"')) return rej(new Error(`status ${r.statusCode}: ${body.slice(0, 300)}`));
          res(ns);
        });
      },
    );
    req.on('error', rej);
    req.end(BODY);
  });
}

interface Target {
  name: 'direct' | 'bare' | 'governed' | 'baseline';
  url: string;
  pid: number;
}

async function measure(t: Target, c1: number, c16: number) {
  const base = new URL(t.url);
  const one = new Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < Math.min(100, c1); i++) await once(base, one);
  const samples: number[] = [];
  for (let i = 0; i < c1; i++) samples.push(await once(base, one));
  one.destroy();
  const lat = summarize(samples);
  const many = new Agent({ keepAlive: true, maxSockets: 16 });
  for (let i = 0; i < 32; i++) await once(base, many);
  const cpu0 = cpuSeconds(t.pid);
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < c16) await once(base, many);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(t.pid) - cpu0;
  many.destroy();
  return { p50Us: lat.p50Us, p99Us: lat.p99Us, rps: c16 / seconds, cpuUsPerRequest: (cpu / c16) * 1e6 };
}

/**
 * The disk's write + fdatasync latency in the directory the sidecar logs to: the floor under the
 * governed path's added latency, since an ALLOW is released only after one fdatasync round.
 */
async function syncLatency(dir: string, n: number): Promise<number> {
  const f = await open(join(dir, 'sync-probe'), 'w');
  const buf = Buffer.alloc(2800, 1); // about an intent + decision batch
  const xs: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await f.write(buf);
      await f.datasync();
      xs.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  } finally {
    await f.close();
  }
  return median(xs);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

export async function benchCompare(opts: { rounds?: number; c1?: number; c16?: number; profileDir?: string; baseline?: string } = {}) {
  const rounds = opts.rounds ?? 5;
  const c1 = opts.c1 ?? 1000;
  const c16 = opts.c16 ?? 4000;
  const upstream = await spawnRole('upstream');
  const bare = await spawnRole('bare', upstream.url);
  const s = await setup(upstream.url);
  // --profile DIR: the sidecar writes a V8 CPU profile there when it stops (bench/profile-summary.ts reads it).
  const sidecar = await startSidecar(await s.flags('compare'), opts.profileDir ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] } : {});
  const targets: Target[] = [
    { name: 'direct', url: upstream.url, pid: upstream.proc.pid! },
    { name: 'bare', url: bare.url, pid: bare.proc.pid! },
    { name: 'governed', url: `${sidecar.governed}/v1`, pid: sidecar.child.pid! },
  ];
  const base = opts.baseline ? await startSidecar(await s.flags('baseline'), { main: join(opts.baseline, 'sidecar', 'main.js') }) : null;
  if (base) targets.push({ name: 'baseline', url: `${base.governed}/v1`, pid: base.child.pid! });
  const runs: Record<Target['name'], Awaited<ReturnType<typeof measure>>[]> = { direct: [], bare: [], governed: [], baseline: [] };
  const syncs: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      syncs.push(await syncLatency(s.dir, Math.min(200, c1)));
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(r + k) % targets.length]!;
        runs[t.name].push(await measure(t, c1, c16));
      }
    }
  } finally {
    await stop(sidecar.child);
    if (base) await stop(base.child);
    await s.cleanup();
    bare.proc.disconnect();
    upstream.proc.disconnect();
  }
  const med = (name: Target['name']) => {
    const xs = runs[name];
    return {
      p50Us: round(median(xs.map((x) => x.p50Us)), 1),
      p99Us: round(median(xs.map((x) => x.p99Us)), 1),
      c16Rps: Math.round(median(xs.map((x) => x.rps))),
      cpuUsPerRequest: round(median(xs.map((x) => x.cpuUsPerRequest)), 1),
    };
  };
  const direct = med('direct');
  const bareM = med('bare');
  const governed = med('governed');
  const baseline = base ? med('baseline') : null;
  const syncP50Us = round(median(syncs), 1);
  return {
    rounds,
    c1Requests: c1,
    c16Requests: c16,
    direct,
    bare: bareM,
    governed,
    ...(baseline ? { baseline } : {}),
    /** write + fdatasync p50 of the log's disk, measured between the rounds: the added-latency floor. */
    syncP50Us,
    ratios: {
      governedAddedP50Us: round(governed.p50Us - direct.p50Us, 1),
      governedAddedP50BeyondSyncUs: round(governed.p50Us - direct.p50Us - syncP50Us, 1),
      bareAddedP50Us: round(bareM.p50Us - direct.p50Us, 1),
      governedAddedP99Us: round(governed.p99Us - direct.p99Us, 1),
      c16ThroughputGovernedVsBare: round(governed.c16Rps / bareM.c16Rps, 3),
      cpuPerRequestGovernedVsBare: round(governed.cpuUsPerRequest / bareM.cpuUsPerRequest, 2),
      ...(baseline
        ? {
            cpuPerRequestGovernedVsBaseline: round(governed.cpuUsPerRequest / baseline.cpuUsPerRequest, 3),
            c16ThroughputGovernedVsBaseline: round(governed.c16Rps / baseline.c16Rps, 3),
            addedP50GovernedVsBaseline: round((governed.p50Us - direct.p50Us) / (baseline.p50Us - direct.p50Us), 3),
          }
        : {}),
    },
    targets: { addedP50Us: 500, c16ThroughputVsBare: 0.7, cpuPerRequestVsBare: 1.5 },
  };
}

const argv = process.argv.slice(2);
const flag = (name: string): number | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : undefined;
};
if (argv[0] === '--role') {
  await child(argv[1]!, argv[2]);
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const o: { rounds?: number; c1?: number; c16?: number; profileDir?: string; baseline?: string } = {};
  const profile = argv.indexOf('--profile');
  if (profile >= 0) o.profileDir = argv[profile + 1]!;
  const baseline = argv.indexOf('--baseline');
  if (baseline >= 0) o.baseline = argv[baseline + 1]!;
  for (const k of ['rounds', 'c1', 'c16'] as const) {
    const v = flag(k);
    if (v !== undefined) o[k] = v;
  }
  console.log(JSON.stringify(await benchCompare(o), null, 2));
}
