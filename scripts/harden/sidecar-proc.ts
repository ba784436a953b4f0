// `helmctl serve` as a real child process on fixed loopback ports, so it can be SIGKILLed and
// started again on the same store. Its output goes to a log file; RSS is read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { helmctlPath } from './setup.js';

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export class SidecarProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  private readonly log: WriteStream;
  starts = 0;

  constructor(
    private readonly flags: readonly string[],
    readonly governedPort: number,
    readonly adminPort: number,
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  get governedUrl(): string {
    return `http://127.0.0.1:${this.governedPort}`;
  }
  get adminUrl(): string {
    return `http://127.0.0.1:${this.adminPort}`;
  }
  get pid(): number | null {
    return this.child?.pid ?? null;
  }
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the sidecar and waits until /readyz says ready; returns the milliseconds it took. */
  async start(timeoutMs = 90_000): Promise<number> {
    const t0 = Date.now();
    const argv = [helmctlPath, 'serve', ...this.flags, '--listen', `127.0.0.1:${this.governedPort}`, '--admin-listen', `127.0.0.1:${this.adminPort}`];
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HELM_LOG_LEVEL: 'warn' } });
    this.child = child;
    this.starts += 1;
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    this.exited = new Promise((res) => child.once('exit', (code) => res(code)));
    while (Date.now() - t0 < timeoutMs) {
      if (!this.running) throw new Error(`helmctl serve exited during start (code ${String(child.exitCode)}, signal ${String(child.signalCode)})`);
      try {
        const r = await fetch(`${this.adminUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
        if (r.status === 200) return Date.now() - t0;
        await r.body?.cancel();
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`helmctl serve was not ready within ${timeoutMs} ms`);
  }

  /** Resident set size of the sidecar process in MiB, or null when it is not running. */
  rssMiB(): number | null {
    if (!this.running || !this.child?.pid) return null;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
      return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
    } catch {
      return null;
    }
  }

  async kill9(): Promise<void> {
    if (this.running) this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait (SIGKILL after the grace period); returns the exit code. */
  async stop(graceMs = 30_000): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  close(): void {
    if (this.running) this.child!.kill('SIGKILL');
    this.log.end();
  }
}
