// The examples of sdk/ts/README.md run as written (the package name mapped to this checkout)
// against a live sidecar: an escalated call approved with the harness's approver key, then its
// receipt verified offline by the second example.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../../support/shared.js';
import { SCRIPT, startLiveSidecar, type LiveSidecar } from '../live-sidecar.js';

const blocks = (md: string) => [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!.replaceAll("'@helm-oss/sdk'", `'${join(repoRoot, 'sdk/ts/src/index.ts')}'`));

describe('sdk/ts/README.md examples', () => {
  let live: LiveSidecar;
  let dir: string;
  beforeAll(async () => {
    live = await startLiveSidecar();
    // Inside the checkout, so the examples resolve openai from its node_modules.
    dir = await mkdtemp(join(repoRoot, 'sdk', 'ts', '.readme-run-'));
  }, 60_000);
  afterAll(async () => {
    await live?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('governs, approves and verifies as the README shows', async () => {
    const [govern, verify] = blocks(await readFile(join(repoRoot, 'sdk/ts/README.md'), 'utf8'));
    expect([govern, verify].every((b) => b !== undefined)).toBe(true);
    const run = async (name: string, code: string, args: string[], env: Record<string, string>) => {
      await writeFile(join(dir, name), code);
      // Not spawnSync: the scripted model answers from this process's event loop.
      const c = spawn(process.execPath, ['--import', 'tsx', join(dir, name), ...args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env } });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const status = await new Promise<number | null>((r) => c.on('exit', r));
      expect([status, stderr]).toEqual([0, '']);
      return stdout.trim().split('\n');
    };
    const out = await run('govern.mts', govern!, [], { HELM_BASE_URL: live.baseUrl, HELM_ADMIN_URL: live.adminUrl, PROMPT: SCRIPT.escalated.prompt, APPROVER_KEY: live.approverKey });
    expect(out[0]).toMatch(/^\[HELM\] The tool call "billing\.refund" \(id "call_sdk_1"\) needs approval "manager" \(1 of 3 approvers\)/);
    const [verdict, reason, receipt] = out.at(-1)!.split(' ');
    expect([verdict, reason]).toEqual(['ALLOW', 'APPROVAL_GRANTED']);

    expect((await fetch(live.exportUrl, { method: 'POST' })).status).toBe(200);
    const hex = receipt!.replace('sha256:', '');
    const files = [join(live.packDir, 'receipts', `${hex}.json`), join(live.packDir, 'receipts', `${hex}.tlog-proof`), live.trustPolicy, join(live.packDir, 'trust-events.jsonl')];
    expect(await run('verify.mts', verify!, files, {})).toEqual([expect.stringMatching(/^decision ALLOW APPROVAL_GRANTED index \d+ of helm\.test\/agent-pod-1, checkpoint \d+$/)]);
  }, 90_000);
});
