// The reusable workflow .github/workflows/helm-boundary.yml: its YAML passes the GitHub Actions
// schema (@action-validator), its steps call only scripts/helm-boundary.sh, and that script passes
// on a good bundle and fails on a bundle whose fixture no longer holds and on a tampered pack,
// both times run as the workflow's step, as a GitHub runner would run it (runBoundaryStep).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { gunzipNode } from '../../kernel/evidence/gzip-node.js';
import { DEFAULT_LIMITS } from '../../kernel/evidence/limits.js';
import { helmctlPath } from '../../conformance/kit.js';
import { tamperOneVerdict } from '../../conformance/tamper.js';
import { cli } from './support.js';

const WORKFLOW = '.github/workflows/helm-boundary.yml';
const SCRIPT = resolve('scripts/helm-boundary.sh');

function sh(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    const env = { ...process.env, HELMCTL: `${process.execPath} ${helmctlPath}`, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
    execFile('bash', [SCRIPT, ...args], { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'helm-boundary-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('the workflow YAML passes the GitHub Actions workflow schema', async () => {
  const r = await new Promise<{ code: number; out: string }>((res) =>
    execFile(process.execPath, ['node_modules/@action-validator/cli/cli.mjs', WORKFLOW], (err, stdout, stderr) => res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr })),
  );
  expect(r.out).toBe('');
  expect(r.code).toBe(0);
});

it('the linter is not vacuous: a workflow with an unknown step key is refused', async () => {
  const bad = join(dir, 'bad.yml');
  await writeFile(bad, (await readFile(WORKFLOW, 'utf8')).replace('timeout-minutes: 20', 'timeout-minutes: 20\n    bogus-key: 1'));
  const r = await new Promise<number>((res) => execFile(process.execPath, ['node_modules/@action-validator/cli/cli.mjs', bad], (err) => res(err ? Number((err as { code?: number }).code ?? 1) : 0)));
  expect(r).not.toBe(0);
});

it('is a workflow_call workflow with the documented inputs whose only run step is the boundary script', async () => {
  const wf = parse(await readFile(WORKFLOW, 'utf8')) as { on: { workflow_call: { inputs: Record<string, unknown> } }; jobs: Record<string, { steps: Array<{ run?: string }> }> };
  expect(Object.keys(wf.on.workflow_call.inputs).sort()).toEqual(['bundle', 'helm-ref', 'helm-repository', 'level', 'pack', 'trust-policy']);
  const runs = Object.values(wf.jobs).flatMap((j) => j.steps.filter((s) => s.run !== undefined).map((s) => s.run!));
  expect(runs).toHaveLength(1);
  expect(runs[0]).toMatch(/^\.helm-oss\/scripts\/helm-boundary\.sh /);
});

/**
 * The workflow's boundary step run as a GitHub runner would run it: its `run` text with the
 * `${{ inputs.* }}` and `${{ github.run_id }}` expressions of its env substituted, in a file run by
 * `bash --noprofile --norc -eo pipefail` (GitHub's default shell on Linux), in a workspace holding
 * the caller's files and HELM OSS at .helm-oss, with GitHub's CI variables set. One double: `npm`
 * is a shim that records its calls (`npm ci` would reinstall the shared node_modules here), so
 * .helm-oss links to this checkout's already built dist/ and node_modules/.
 */
async function runBoundaryStep(ws: string, inputs: Record<string, string>): Promise<{ code: number; out: string; npm: string }> {
  const wf = parse(await readFile(WORKFLOW, 'utf8')) as { on: { workflow_call: { inputs: Record<string, { default?: string }> } }; jobs: Record<string, { steps: Array<{ run?: string; env?: Record<string, string> }> }> };
  const step = Object.values(wf.jobs).flatMap((j) => j.steps).find((st) => st.run !== undefined)!;
  const values: Record<string, string> = {};
  for (const [k, d] of Object.entries(wf.on.workflow_call.inputs)) values[k] = inputs[k] ?? String(d.default ?? '');
  const expr = (v: string) =>
    v.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_m, e: string) => {
      if (e === 'github.run_id') return '4242';
      const m = /^inputs\.([\w-]+)$/.exec(e);
      if (!m || !(m[1]! in values)) throw new Error(`the test does not evaluate the expression ${e}`);
      return values[m[1]!]!;
    });
  const bin = join(ws, '.bin');
  const npmLog = join(ws, 'npm-calls.log');
  await mkdir(join(ws, '.helm-oss'), { recursive: true });
  await mkdir(bin, { recursive: true });
  for (const d of ['scripts', 'dist', 'node_modules', 'package.json']) await symlink(resolve(d), join(ws, '.helm-oss', d));
  await writeFile(join(bin, 'npm'), `#!/bin/sh\necho "$(basename "$PWD"): npm $*" >> ${JSON.stringify(npmLog)}\n`, { mode: 0o755 });
  const script = join(ws, '.step.sh');
  await writeFile(script, expr(step.run!));
  const env: Record<string, string> = { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: process.env.HOME ?? ws, CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: ws, RUNNER_TEMP: join(ws, '.tmp') };
  for (const [k, v] of Object.entries(step.env ?? {})) env[k] = expr(v);
  return new Promise((res) =>
    execFile('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd: ws, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      readFile(npmLog, 'utf8').then(
        (npm) => npm,
        () => '',
      ).then((npm) => res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr, npm })),
    ),
  );
}

describe('the workflow step running scripts/helm-boundary.sh as GitHub would', () => {
  let good: { code: number; out: string; npm: string };
  let ws: string;

  beforeAll(async () => {
    ws = join(dir, 'good');
    await mkdir(join(ws, 'policy'), { recursive: true });
    await writeFile(join(ws, 'policy/bundle.yaml'), await readFile('examples/bundles/support-desk.yaml'));
    // The default level (L2): its key rotation drives the script's --crash-command (kill, restart).
    good = await runBoundaryStep(ws, { 'helm-repository': 'OWNER/helm-oss', bundle: 'policy/bundle.yaml' });
  }, 180_000);

  it('builds HELM OSS in .helm-oss, passes a good bundle and a conformance run at the default level L2 (key rotation and revocation through the crash command), and leaves the artifact files', async () => {
    expect(good.npm).toBe('.helm-oss: npm ci\n.helm-oss: npm run build\n');
    expect(good.out).toMatch(/passed: helmctl bundle test policy\/bundle.yaml/);
    expect(good.out).toMatch(/passed: helmctl conformance --level L2/);
    expect(good.out).toMatch(/PASS L2-TRUST-ROTATION/);
    expect(good.out).toMatch(/PASS L2-TRUST-REVOCATION/);
    expect(good.out).toMatch(/passed: helmctl export \+ verify/);
    expect(good.code).toBe(0);
    for (const f of ['report.json', 'pack.tar.gz', 'sidecar.log']) expect(existsSync(join(ws, 'helm-boundary-out', f))).toBe(true);
    const policy = join(dir, 'report-policy.txt');
    await writeFile(policy, `conformance ${(await readFile(join(ws, 'helm-boundary-out/report.key.pub'), 'utf8')).trim()}\n`);
    expect((await cli(['conformance', 'verify', join(ws, 'helm-boundary-out/report.json'), '--trust-policy', policy])).code).toBe(0);
  });

  it('must fail: a bundle fixture that no longer holds and a tampered pack each fail their step, exit 1', async () => {
    const bad = join(dir, 'bad');
    await mkdir(join(bad, 'evidence'), { recursive: true });
    const bundle = (await readFile('examples/bundles/support-desk.yaml', 'utf8')).replace('expect: { verdict: DENY, reasonCode: CAPABILITY_VIOLATION }', 'expect: { verdict: ALLOW, reasonCode: ALLOWED }');
    await writeFile(join(bad, 'drifted.yaml'), bundle);
    const tampered = tamperOneVerdict(await gunzipNode(new Uint8Array(await readFile(join(ws, 'helm-boundary-out/pack.tar.gz'))), DEFAULT_LIMITS.maxTotalBytes));
    expect(tampered).not.toBeNull();
    await writeFile(join(bad, 'evidence/tampered.tar.gz'), tampered!);
    await writeFile(join(bad, 'evidence/trust-policy.txt'), await readFile(join(ws, 'helm-boundary-out/kit/trust-policy.txt')));
    const r = await runBoundaryStep(bad, { 'helm-repository': 'OWNER/helm-oss', level: 'L1', bundle: 'drifted.yaml', pack: 'evidence/tampered.tar.gz', 'trust-policy': 'evidence/trust-policy.txt' });
    expect(r.out).toMatch(/FAILED: helmctl verify evidence\/tampered\.tar\.gz \(exit 1\)/);
    expect(r.out).toMatch(/FAILED: helmctl bundle test drifted\.yaml \(exit 1\)/);
    expect(r.out).toMatch(/2 step\(s\) failed/);
    expect(r.code).toBe(1);
  }, 180_000);
});

describe('scripts/helm-boundary.sh', () => {
  it('refuses a bad level as a usage error, exit 2', async () => {
    const r = await sh(['--level', 'L9', '--out', join(dir, 'usage')]);
    expect(r.out).toMatch(/--level must be L1, L2 or L3/);
    expect(r.code).toBe(2);
  });
});
