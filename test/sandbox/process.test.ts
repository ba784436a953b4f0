// A script whose only pending work is a sandboxed call must not exit before the call settles:
// Workers are unref'd while idle, so the pool must hold the process open during a call.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/shared.js';

describe('sandbox in a bare process', () => {
  it('keeps the process alive until the call settles, then lets it exit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helm-sandbox-proc-'));
    const script = join(dir, 'run.mts');
    writeFileSync(script, [
      `import { createHash } from 'node:crypto';`,
      `import { Sandbox } from ${JSON.stringify(join(repoRoot, 'sandbox', 'index.ts'))};`,
      `import { UPPERCASE } from ${JSON.stringify(join(repoRoot, 'sandbox', 'tools', 'wat.ts'))};`,
      `import wabt from ${JSON.stringify(join(repoRoot, 'node_modules', 'wabt', 'index.js'))};`,
      `const bytes = Uint8Array.from((await wabt()).parseWat('u.wat', UPPERCASE).toBinary({}).buffer);`,
      `const s = new Sandbox();`,
      `s.run({ module: { bytes, sha256: createHash('sha256').update(bytes).digest('hex') }, input: { bytes: Buffer.from('alive') },`,
      `  limits: { gas: 1e7, wallMs: 20000, memoryPages: 4, outputBytes: 100 }, grants: { preopens: [], env: {}, clock: false, random: false } })`,
      `  .then((o) => console.log(o.ok ? Buffer.from(o.output).toString() : o.reasonCode));`,
    ].join('\n'));
    const run = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'), script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).not.toMatch(/unsettled/);
    expect(run.stdout.trim()).toBe('ALIVE');
    expect(run.status).toBe(0);
  });
});
