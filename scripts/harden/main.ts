// `npm run harden`: a bounded, self-stopping hostile test of a real `helmctl serve` on loopback.
// It starts the sidecar (a child process) in front of the scripted model and a counting MCP
// server, then runs: fuzz rounds (hostile bodies on /v1/chat/completions, /mcp, /mcp/v1/execute),
// race rounds (N identical budgeted calls at once), and a SIGKILL round (kill at random moments,
// restart on the same store). Finally it stops the sidecar, exports and verifies the pack, replays
// it, and compares the executions the MCP server counted with the ALLOW decisions and the budget.
// One JSON line per round, then a summary line; exit 0 when nothing was found, 1 on a finding
// (any 500, unverifiable pack, replay divergence, over-budget execution or execution without an
// ALLOW, a sidecar that died), 2 when the harness itself failed.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as helmctl } from '../../cli/helmctl.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { HOSTILE_MODEL_ARGS } from './hostile.js';
import { seeded } from './rng.js';
import { fuzzRound, killRound, raceRound, type RoundSummary } from './rounds.js';
import { createLab, WRITER, type Lab } from './setup.js';
import { freePort, SidecarProcess } from './sidecar-proc.js';
import { COUNTER_TOOL_NAMES } from './tools.js';

interface Options {
  rounds: number;
  count: number;
  raceRounds: number;
  raceN: number;
  kills: number;
  budget: number;
  seed: number;
  maxSeconds: number;
  keep: boolean;
}

const USAGE = 'usage: node dist/scripts/harden/main.js [--rounds 3] [--count 2] [--race-rounds 2] [--race-n 16] [--kills 3] [--budget 3] [--seed N] [--max-seconds 900] [--keep]';

export function parseOptions(argv: readonly string[]): Options {
  const o: Options = { rounds: 3, count: 2, raceRounds: 2, raceN: 16, kills: 3, budget: 3, seed: Date.now() % 1_000_000, maxSeconds: 900, keep: false };
  const ints: Record<string, keyof Options> = { '--rounds': 'rounds', '--count': 'count', '--race-rounds': 'raceRounds', '--race-n': 'raceN', '--kills': 'kills', '--budget': 'budget', '--seed': 'seed', '--max-seconds': 'maxSeconds' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--keep') o.keep = true;
    else if (a in ints) {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer\n${USAGE}`);
      (o as unknown as Record<string, number>)[ints[a]!] = v;
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  if (o.raceRounds > 8) throw new Error('--race-rounds is at most 8 (one counter tool per round)');
  return o;
}

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await helmctl(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } });
  return { code, out };
}

/** Export the store, verify the pack against the trust policy, replay its decisions. */
async function evidence(lab: Lab, name: string): Promise<{ verify: number; replay: { decisions: number; identical: number; diverged: number; skipped: number } | null; failures: string[] }> {
  const pack = join(lab.dir, `${name}.tar.gz`);
  const failures: string[] = [];
  const ex = await cli(['export', '--store', lab.storeDir, '--out', pack, '--key', lab.exporterKey]);
  if (ex.code !== 0) return { verify: ex.code, replay: null, failures: [`export failed (${ex.code}): ${ex.out.trim().split('\n').slice(0, 3).join(' | ')}`] };
  const v = await cli(['verify', pack, '--trust-policy', lab.trustPolicy]);
  if (v.code !== 0) failures.push(`verify of the pack failed (${v.code}): ${v.out.trim().split('\n').slice(0, 4).join(' | ')}`);
  const r = await cli(['replay', pack, '--json']);
  let replay = null;
  try {
    replay = (JSON.parse(r.out) as { decisions?: { decisions: number; identical: number; diverged: number; skipped: number; results: Array<{ status: string; recorded: { reasonCode: string }; reasons: string[] }> } }).decisions ?? null;
  } catch {
    failures.push(`replay output is not JSON (exit ${r.code})`);
  }
  if (replay && replay.diverged > 0) {
    // Grouped by recorded code and reason (digests and ids blanked), so the cause is readable.
    const why = new Map<string, number>();
    for (const d of replay.results.filter((x) => x.status === 'diverged')) {
      const k = `${d.recorded.reasonCode}: ${d.reasons.join('; ').replace(/sha256:[0-9a-f]{64}/g, 'sha256:…')}`;
      why.set(k, (why.get(k) ?? 0) + 1);
    }
    failures.push(`replay: ${replay.diverged} decisions diverged`, ...[...why].map(([k, n]) => `replay divergence x${n}: ${k}`));
  }
  return { verify: v.code, replay: replay ? { decisions: replay.decisions, identical: replay.identical, diverged: replay.diverged, skipped: replay.skipped } : null, failures };
}

/** Executions counted by the MCP server against ALLOW decisions and the per-tool budget. */
async function budgetCheck(lab: Lab): Promise<RoundSummary> {
  const executions: Record<string, number> = {};
  for (const line of (await readFile(lab.counterFile, 'utf8')).split('\n')) {
    if (!line) continue;
    const t = `counter__${(JSON.parse(line) as { tool: string }).tool}`;
    executions[t] = (executions[t] ?? 0) + 1;
  }
  const allows: Record<string, number> = {};
  for (const e of (await readLog(join(lab.storeDir, WRITER))).entries) {
    const n = decodeNode(nodeSuite, e);
    if (n.kind !== 'decision') continue;
    const b = n.statement.predicate.body as { tool: string; verdict: string };
    if (b.verdict === 'ALLOW') allows[b.tool] = (allows[b.tool] ?? 0) + 1;
  }
  const failures: string[] = [];
  for (const t of COUNTER_TOOL_NAMES) {
    const ex = executions[t] ?? 0;
    if (ex > lab.budget) failures.push(`${t} ran ${ex} times under a budget of maxCalls ${lab.budget}`);
    if (ex > (allows[t] ?? 0)) failures.push(`${t} ran ${ex} times with only ${allows[t] ?? 0} ALLOW decisions`);
  }
  return { round: 'budget', requests: 0, status: {}, count500: 0, rssMiB: null, executions, allows, budget: lab.budget, failures };
}

export async function harden(o: Options, print: (line: string) => void): Promise<{ ok: boolean; summaries: RoundSummary[] }> {
  const deadline = Date.now() + o.maxSeconds * 1000;
  const dir = await mkdtemp(join(tmpdir(), 'helm-harden-'));
  const rng = seeded(o.seed);
  const lab = await createLab(dir, o.budget, HOSTILE_MODEL_ARGS);
  const sc = new SidecarProcess(lab.flags, await freePort(), await freePort(), join(dir, 'sidecar.log'));
  const onExit = () => sc.close();
  process.once('exit', onExit);
  const summaries: RoundSummary[] = [];
  const emit = (s: RoundSummary) => {
    summaries.push(s);
    print(JSON.stringify(s));
  };
  try {
    print(JSON.stringify({ harness: 'helm-harden', seed: o.seed, dir, options: o }));
    const startMs = await sc.start();
    print(JSON.stringify({ started: { readyMs: startMs, rssMiB: sc.rssMiB(), pid: sc.pid } }));
    for (let i = 0; i < o.rounds && Date.now() < deadline && sc.running; i++) emit(await fuzzRound(sc, rng, o.count, i + 1));
    const rss = summaries.filter((s) => s.round.startsWith('fuzz-')).map((s) => s.rssMiB);
    // The first round includes warm-up; from the second on, repeated rounds must not keep growing.
    if (rss.length >= 3 && rss[1] && rss.at(-1) && rss.at(-1)! > rss[1] * 1.1) {
      emit({ round: 'memory', requests: 0, status: {}, count500: 0, rssMiB: rss.at(-1)!, rssByRound: rss, failures: [`RSS grew from ${rss[1]} MiB after fuzz-2 to ${rss.at(-1)} MiB after fuzz-${rss.length} (more than 10%)`] });
    }
    for (let i = 0; i < o.raceRounds && Date.now() < deadline && sc.running; i++) emit(await raceRound(sc, COUNTER_TOOL_NAMES[i]!, o.raceN, i % 2 === 0 ? 'mcp' : 'rest', i + 1));
    if (o.kills > 0 && Date.now() < deadline && sc.running) emit(await killRound(sc, rng, o.kills, 1));
    const exit = await sc.stop();
    const ev = await evidence(lab, 'final');
    emit({ round: 'evidence', requests: 0, status: {}, count500: 0, rssMiB: null, sidecarExit: exit, verifyExit: ev.verify, replay: ev.replay, failures: [...(exit === 0 ? [] : [`helmctl serve exited ${String(exit)} on SIGTERM`]), ...ev.failures] });
    emit(await budgetCheck(lab));
  } finally {
    sc.close();
    process.off('exit', onExit);
    await lab.model.close();
    if (!o.keep) await rm(dir, { recursive: true, force: true });
  }
  const failures = summaries.flatMap((s) => s.failures.map((f) => `${s.round}: ${f}`));
  const ok = failures.length === 0;
  print(JSON.stringify({ summary: { ok, rounds: summaries.length, total500: summaries.reduce((a, s) => a + s.count500, 0), failures, seed: o.seed, ...(o.keep ? { dir } : {}) } }));
  return { ok, summaries };
}

const invoked = process.argv[1]?.endsWith('/harden/main.js');
if (invoked) {
  let o: Options;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  harden(o, (l) => console.log(l)).then(
    (r) => process.exit(r.ok ? 0 : 1),
    (e) => {
      console.error(JSON.stringify({ harnessError: (e as Error).stack ?? String(e) }));
      process.exit(2);
    },
  );
}
