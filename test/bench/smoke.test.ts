// `npm run bench` must run to the end on a fresh clone (it once crashed on a path built from a
// file instead of its directory). This runs every benchmark with tiny counts and checks that each
// produced a result; it never looks at how fast anything was.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/shared.js';

describe('npm run bench -- --smoke', () => {
  it('runs every benchmark to completion and prints one JSON document with a result for each', () => {
    const run = spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', 'run.js'), '--smoke'], { encoding: 'utf8', cwd: repoRoot, timeout: 240_000 });
    expect(run.stderr).not.toMatch(/Error|ENOENT/);
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { results: Record<string, unknown> };
    expect(Object.keys(out.results).sort()).toEqual(['compare', 'decision', 'export', 'fleet', 'mcp', 'proxy', 'sandbox', 'sandbox-sidecar', 'sidecar', 'sign', 'startup', 'store', 'verify', 'webhook']);
    for (const r of Object.values(out.results)) expect(r).toEqual(expect.any(Object));
  }, 300_000);
});
