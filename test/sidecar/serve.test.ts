// `helmctl serve` as a process: it starts from flags and environment, logs JSON lines, answers
// probes, and on SIGTERM drains, writes the shutdown heartbeat and exits 0; SIGHUP re-checks the
// bundle. Also the command object the lead registers in cli/helmctl.ts.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { serve } from '../../cli/commands/serve.js';
import { runSidecar } from '../../sidecar/serve.js';
import type { GuardianSidecar } from '../../sidecar/guardian-sidecar.js';
import { repoRoot } from '../support/shared.js';
import { body, call, Pod, ROUTES, sidecarBundle, waitFor } from './support.js';

describe('helmctl serve', () => {
  let pod: Pod;
  beforeEach(async () => {
    pod = await Pod.create();
  });
  afterEach(async () => {
    await pod.cleanup();
  });

  it('is a helmctl command whose usage lists every flag', async () => {
    expect(serve.name).toBe('serve');
    expect(serve.usage).toContain('--upstream-api-key-file');
    expect(serve.usage).not.toContain('--upstream-api-key VALUE');
    let stderr = '';
    expect(await serve.run(['--bogus'], { stdout: { write: () => 0 }, stderr: { write: (s: string) => (stderr += s) } })).toBe(2);
    // A start-up failure is one JSON log line like every other, with the error's code.
    const lines = stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([expect.objectContaining({ level: 'error', msg: 'the sidecar did not start: bad configuration', code: 'ERR_CONFIG_USAGE' })]);
  });

  it('exits 1 on SIGTERM when the ProofGraph log did not close cleanly', async () => {
    const signals = new EventEmitter();
    let stderr = '';
    let started: GuardianSidecar | null = null;
    const done = runSidecar([...pod.flags(), '--bundle-poll-interval-ms', '3600000'], { stdout: { write: () => 0 }, stderr: { write: (s: string) => (stderr += s) } }, {
      env: { HELM_TOOL_ROUTES: ROUTES },
      signals,
      onStarted: (s) => (started = s),
    });
    await waitFor(() => started !== null);
    // The disk goes away under the writer: its shutdown heartbeat and checkpoint cannot be written.
    const writer = (started! as unknown as { writer: { close(): Promise<void> } }).writer;
    const realClose = writer.close.bind(writer);
    writer.close = async () => {
      await realClose().catch(() => undefined);
      throw new Error('EIO: i/o error, write');
    };
    signals.emit('SIGTERM');
    expect(await done).toBe(1);
    const lines = stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(lines.map((l) => l.msg)).toContain('the ProofGraph log did not close cleanly; the next start records a gap');
  });

  it('runs until SIGTERM, then stops gracefully and resolves 0; SIGHUP re-checks the bundle', async () => {
    const signals = new EventEmitter();
    let stderr = '';
    let started: GuardianSidecar | null = null;
    const done = runSidecar([...pod.flags(), '--bundle-poll-interval-ms', '3600000'], { stdout: { write: () => 0 }, stderr: { write: (s: string) => (stderr += s) } }, {
      env: { HELM_TOOL_ROUTES: ROUTES, HELM_TYPO: 'x' },
      signals,
      onStarted: (s) => (started = s),
    });
    await waitFor(() => started !== null);
    const s = started! as GuardianSidecar;
    expect((await fetch(`${s.adminUrl}/readyz`)).status).toBe(200);

    await pod.writeBundle(sidecarBundle((d) => (d.metadata.version = 'hup')));
    signals.emit('SIGHUP');
    await waitFor(() => s.policy.status().version === 'hup');

    signals.emit('SIGTERM');
    expect(await done).toBe(0);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    const lines = stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['configuration loaded', 'guardian sidecar ready to serve', 'signal received', 'stopped']));
    expect(lines.find((l) => l.level === 'warn')!.msg).toMatch(/HELM_TYPO/);
  });

  it('as a child process: ready, governs a call, exits 0 on SIGTERM with a shutdown heartbeat last', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'sidecar/main.ts'), ...pod.flags()], {
      cwd: repoRoot,
      env: { ...process.env, HELM_TOOL_ROUTES: ROUTES, OTEL_TRACES_EXPORTER: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor(() => err.includes('ready to serve'), 30_000);
      const ready = JSON.parse(err.split('\n').find((l) => l.includes('ready to serve'))!) as { governed: string; admin: string };
      expect((await fetch(`${ready.admin}/readyz`)).status).toBe(200);
      pod.script(() => ({ toolCalls: [call('call_p', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
      const r = await fetch(`${ready.governed}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) });
      expect(r.headers.get('x-helm-decision')).toBe('ALLOW');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const nodes = await pod.nodes();
    expect(body(nodes[nodes.length - 1]!)).toMatchObject({ reason: 'shutdown' });
  });

  it('as a child process: a bad configuration exits 2 with the error as a JSON log line', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'sidecar/main.ts'), '--proofgraph-dir', pod.path('pg')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(2);
    const line = JSON.parse(err.trim().split('\n').at(-1)!) as { level: string; error: string };
    expect(line.level).toBe('error');
    expect(line.error).toMatch(/^ERR_CONFIG_MISSING: /);
  });
});
