// Smoke test of `npm run harden` (scripts/harden, run from dist/: `npm run build` first): one tiny
// fuzz round, one race round, one SIGKILL, then export, verify, replay and the budget check. It
// checks that the harness runs to completion and reports every round; what it finds is the
// harness's output (it may report findings that are being fixed elsewhere), not asserted here.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/shared.js';

describe('npm run harden (tiny run)', () => {
  it('runs every round to completion and prints one JSON summary per round', () => {
    const main = join(repoRoot, 'dist', 'scripts', 'harden', 'main.js');
    const r = spawnSync(process.execPath, [main, '--rounds', '1', '--count', '1', '--race-rounds', '1', '--race-n', '4', '--kills', '1', '--seed', '7', '--max-seconds', '300'], { encoding: 'utf8', timeout: 280_000 });
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(r.stderr).not.toMatch(/harnessError/);
    expect([0, 1]).toContain(r.status);
    const rounds = lines.filter((l) => typeof l.round === 'string').map((l) => l.round);
    expect(rounds).toEqual(['fuzz-1', 'race-1', 'kill-1', 'evidence', 'budget']);
    for (const l of lines.filter((x) => typeof x.round === 'string')) {
      expect(l).toEqual(expect.objectContaining({ status: expect.any(Object), count500: expect.any(Number), failures: expect.any(Array) }));
    }
    const fuzz = lines.find((l) => l.round === 'fuzz-1')!;
    expect(fuzz.requests).toBeGreaterThan(40);
    expect(fuzz.rssMiB).toEqual(expect.any(Number));
    const evidence = lines.find((l) => l.round === 'evidence')!;
    expect(evidence.verifyExit).toEqual(expect.any(Number));
    expect(evidence.replay).toEqual(expect.objectContaining({ decisions: expect.any(Number) }));
    const summary = lines.at(-1)!.summary as { ok: boolean; failures: string[] };
    expect(summary.ok).toBe(summary.failures.length === 0);
    expect(r.status).toBe(summary.ok ? 0 : 1);
  }, 300_000);
});
