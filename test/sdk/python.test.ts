// The Python SDK's pytest suite (sdk/python/tests) from jest, so `npm test` covers it: the vector
// tests, and the live tests against a real helmctl serve this file starts (env contract:
// test/sdk/live-sidecar.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/shared.js';
import { useLiveSidecar } from './live-sidecar.js';
import { describeWithPython, python } from './python-support.js';

function pytest(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(python!, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests'], {
      cwd: join(repoRoot, 'sdk', 'python'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PYTHONDONTWRITEBYTECODE: '1', ...(process.env.HELM_SHARED_DIR ? { HELM_SHARED_DIR: process.env.HELM_SHARED_DIR } : {}), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => resolve({ code, out }));
  });
}

describeWithPython('Python SDK (pytest)', () => {
  const live = useLiveSidecar({ mcp: true });

  it('passes its vector and live tests against a real sidecar, none skipped', async () => {
    const r = await pytest(live().env());
    const summary = r.out.trim().split('\n').at(-1) ?? '';
    expect([r.code, summary.replace(/ in [\d.]+s.*$/, '')]).toEqual([0, expect.stringMatching(/^\d+ passed$/)]);
  }, 120_000);
});
