// Runs the server scenarios of the pinned @modelcontextprotocol/conformance suite against a URL
// (the CLI in a child process, as a user runs it) and reads its summary lines into per-scenario
// counts. A scenario "passes" when it has at least one SUCCESS check and no FAILURE.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The suite version the comparison is pinned to (package.json devDependencies pins the same). */
export const CONFORMANCE_VERSION = '0.1.16';
const CLI = join(repoRoot, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');

export interface ScenarioResult {
  passed: number;
  failed: number;
}

export async function installedConformanceVersion(): Promise<string> {
  return (JSON.parse(await readFile(join(repoRoot, 'node_modules', '@modelcontextprotocol', 'conformance', 'package.json'), 'utf8')) as { version: string }).version;
}

export function passing(results: ReadonlyMap<string, ScenarioResult>): string[] {
  return [...results].filter(([, r]) => r.passed > 0 && r.failed === 0).map(([n]) => n);
}

/** Runs `conformance server --url URL --suite all` in a scratch directory (it writes results/ there). */
export async function runServerSuite(url: string, o: { timeoutMs?: number } = {}): Promise<{ results: Map<string, ScenarioResult>; output: string }> {
  const cwd = await mkdtemp(join(tmpdir(), 'helm-conformance-'));
  try {
    const child = spawn(process.execPath, [CLI, 'server', '--url', url, '--suite', 'all'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 90_000);
    await new Promise<void>((resolve) => child.once('close', () => resolve()));
    clearTimeout(timer);
    const results = new Map<string, ScenarioResult>();
    for (const m of output.matchAll(/^[✓✗] ([\w-]+): (\d+) passed, (\d+) failed/gmu)) results.set(m[1]!, { passed: Number(m[2]), failed: Number(m[3]) });
    return { results, output };
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}
