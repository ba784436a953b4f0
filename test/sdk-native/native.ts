// Runs a native SDK's own test runner (go test, cargo test, mvn test) against a live
// `helmctl serve` started by sdk-a's harness (test/sdk/live-sidecar.ts), passing its HELM_SDK_*
// environment. A toolchain that is missing skips the suite with the command that installs it.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, sharedDir } from '../support/shared.js';

export const sdkDir = (lang: string): string => join(repoRoot, 'sdk', lang);

/** The first line of `cmd args` when it runs, else null. */
export function toolVersion(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout || r.stderr).trim().split('\n')[0]! : null;
}

/** describe() when the toolchain is there, otherwise a skipped suite that says how to install it. */
export function describeWithToolchain(what: string, present: boolean, install: string): jest.Describe {
  if (!present) console.warn(`[helm] ${what} SDK tests skipped: toolchain missing. Install with: ${install}`);
  return present ? describe : (describe.skip as jest.Describe);
}

export interface RunResult {
  code: number | null;
  out: string;
}

/** Runs a command in a directory with extra environment; resolves with its exit code and output. */
export function run(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { cwd, env: { ...process.env, HELM_SHARED_DIR: sharedDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', (e) => resolve({ code: -1, out: `${out}\n${e.message}` }));
    c.on('exit', (code) => resolve({ code, out }));
  });
}
