// The reusable workflow .github/workflows/helm-boundary.yml: its YAML passes the GitHub Actions
// schema (@action-validator), its steps call only scripts/helm-boundary.sh, and that script passes
// on a good bundle and fails on a bundle whose fixture no longer holds and on a tampered pack.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

describe('scripts/helm-boundary.sh', () => {
  let good: { code: number; out: string };

  beforeAll(async () => {
    good = await sh(['--level', 'L1', '--out', join(dir, 'good'), '--bundle', 'examples/bundles/support-desk.yaml']);
  }, 180_000);

  it('passes a good bundle and an L1 conformance run, with a signed report and a verified pack', async () => {
    expect(good.out).toMatch(/passed: helmctl bundle test/);
    expect(good.out).toMatch(/passed: helmctl conformance --level L1/);
    expect(good.out).toMatch(/passed: helmctl export \+ verify/);
    expect(good.code).toBe(0);
    const policy = join(dir, 'report-policy.txt');
    await writeFile(policy, `conformance ${(await readFile(join(dir, 'good/report.key.pub'), 'utf8')).trim()}\n`);
    expect((await cli(['conformance', 'verify', join(dir, 'good/report.json'), '--trust-policy', policy])).code).toBe(0);
  });

  it('must fail: a bundle fixture that no longer holds and a tampered pack each fail their step, exit 1', async () => {
    const bundle = (await readFile('examples/bundles/support-desk.yaml', 'utf8')).replace('expect: { verdict: DENY, reasonCode: CAPABILITY_VIOLATION }', 'expect: { verdict: ALLOW, reasonCode: ALLOWED }');
    await writeFile(join(dir, 'drifted.yaml'), bundle);
    const tampered = tamperOneVerdict(await gunzipNode(new Uint8Array(await readFile(join(dir, 'good/pack.tar.gz'))), DEFAULT_LIMITS.maxTotalBytes));
    expect(tampered).not.toBeNull();
    await writeFile(join(dir, 'tampered.tar.gz'), tampered!);
    const bad = await sh(['--level', 'L1', '--out', join(dir, 'bad'), '--bundle', join(dir, 'drifted.yaml'), '--pack', join(dir, 'tampered.tar.gz'), '--trust-policy', join(dir, 'good/kit/trust-policy.txt')]);
    expect(bad.out).toMatch(/FAILED: helmctl verify .*tampered\.tar\.gz \(exit 1\)/);
    expect(bad.out).toMatch(/FAILED: helmctl bundle test .*drifted\.yaml \(exit 1\)/);
    expect(bad.out).toMatch(/2 step\(s\) failed/);
    expect(bad.code).toBe(1);
  }, 180_000);

  it('refuses a bad level as a usage error, exit 2', async () => {
    const r = await sh(['--level', 'L9', '--out', join(dir, 'usage')]);
    expect(r.out).toMatch(/--level must be L1, L2 or L3/);
    expect(r.code).toBe(2);
  });
});
