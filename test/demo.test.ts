// The README's first quick-start command must keep working: run the demo end to end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './support/shared.js';

describe('npm run demo', () => {
  it('verifies its pack, rejects the tampered copy and prints the verify command', () => {
    const out = mkdtempSync(join(tmpdir(), 'helm-demo-'));
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/demo.ts')], {
        cwd: repoRoot,
        env: { ...process.env, HELM_DEMO_OUT: out },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/call_1\s+crm\.lookup_customer\s+ALLOW\s+ALLOWED/);
      expect(r.stdout).toMatch(/call_2\s+tickets\.update\s+DENY\s+ERR_TOOL_ARGS_UNKNOWN_FIELD/);
      expect(r.stdout).toMatch(/call_3\s+billing\.refund\s+ESCALATE\s+APPROVAL_REQUIRED/);
      expect(r.stdout).toMatch(/\n {4}VALID: /);
      expect(r.stdout).toMatch(/\n {4}INVALID: .*tampered/);
      expect(r.stdout).toMatch(/node dist\/cli\/helmctl\.js verify \S+pack\.tar\.gz --trust-policy \S+trust-policy\.txt\n$/);
      expect(existsSync(join(out, 'pack.tar.gz'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
