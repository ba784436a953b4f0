// The sidecar image runs the esbuild bundle (dist/bundle/, scripts/bundle.ts), not dist/cli: the
// bundled `helmctl serve` must govern a call end to end, and the bundled export and verify (with
// its worker threads, found next to the bundle's chunks) must accept what it wrote.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { repoRoot } from '../support/shared.js';
import { Pod, ROUTES, call } from './support.js';

const HELMCTL = join(repoRoot, 'dist/bundle/helmctl.js');

function serve(pod: Pod): Promise<{ child: ChildProcess; governed: string }> {
  const child = spawn(process.execPath, [HELMCTL, 'serve', ...pod.flags()], { env: { ...process.env, HELM_TOOL_ROUTES: ROUTES }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bundled sidecar was not ready in 20 s: ${err}`)), 20_000);
    child.on('exit', (code) => reject(new Error(`the bundled sidecar exited ${code}: ${err}`)));
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const line = err.split('\n').find((l) => l.includes('ready to serve'));
      if (line) clearTimeout(timer);
      if (line) resolve({ child, governed: (JSON.parse(line) as { governed: string }).governed });
    });
  });
}

function helmctl(...argv: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [HELMCTL, ...argv], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('the bundled entry points (the sidecar image)', () => {
  let pod: Pod;
  beforeAll(async () => {
    if (!existsSync(HELMCTL)) throw new Error('dist/bundle/helmctl.js is missing: run npm run build');
    pod = await Pod.create();
  });
  afterAll(() => pod.cleanup());

  it('helmctl serve governs a call; export and verify (worker threads) of its log pass', async () => {
    pod.script(() => ({ toolCalls: [call('c1', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
    const { child, governed } = await serve(pod);
    try {
      const client = new OpenAI({ baseURL: `${governed}/v1`, apiKey: 'agent-own-key', maxRetries: 0 });
      const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'look up cus_12345678' }] });
      expect(r.choices[0]!.message.tool_calls?.map((t) => (t.type === 'function' ? t.function.name : t.type))).toEqual(['crm.lookup_customer']);
    } finally {
      child.removeAllListeners('exit');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    const pack = pod.path('bundle-pack.tar.gz');
    const ex = helmctl('export', '--store', pod.path('proofgraph'), '--out', pack, '--key', pod.path('keys/exporter.key'));
    expect(ex).toMatchObject({ code: 0 });
    const v = helmctl('verify', pack, '--trust-policy', pod.path('trust-policy.txt'), '--workers', '2');
    expect(v.out).toMatch(/^VALID/m);
    expect(v.code).toBe(0);
  }, 60_000);
});
