// helmctl conformance against the real sidecar (`helmctl serve --config KIT/sidecar.yaml`, a child
// process from dist/): L3 passes, every OWASP vector yields its expected verdict and code, the
// report is signed and `helmctl conformance verify` accepts it only under its signer.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { REQUIREMENTS } from '../../conformance/requirements.js';
import { loadVectors } from '../../conformance/owasp.js';
import type { SignedReport } from '../../conformance/report.js';
import { BROKEN_KERNELS } from './broken-kernels.js';
import { cli, runAgainst, startProcessLab, type Lab } from './support.js';

let lab: Lab;
let run: Awaited<ReturnType<typeof runAgainst>>;

beforeAll(async () => {
  lab = await startProcessLab();
  run = await runAgainst(lab, 'L3');
}, 180_000);

afterAll(async () => {
  await lab?.stop();
});

it('passes L3 against the real sidecar, exit 0', () => {
  const failed = run.report.requirements.filter((r) => r.status === 'fail');
  expect(failed).toEqual([]);
  expect(run.code).toBe(0);
  expect(run.report.ok).toBe(true);
  expect(run.report.pack?.verified).toBe(true);
  expect(run.report.pack?.diverged).toBe(0);
  expect(run.out).toMatch(/HELM conformance L3 .*: PASS/);
});

it('writes a report that matches docs/conformance/report.schema.json', async () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv2020) => Ajv2020)(ajv);
  const validate = ajv.compile(JSON.parse(await readFile('docs/conformance/report.schema.json', 'utf8')) as object);
  expect(validate(run.report) ? [] : validate.errors).toEqual([]);
});

it('reports every requirement of every level, not-yet ones as not applicable with the reason', () => {
  expect(run.report.requirements.map((r) => r.id)).toEqual(REQUIREMENTS.map((r) => r.id));
  for (const r of run.report.requirements) {
    const def = REQUIREMENTS.find((x) => x.id === r.id)!;
    expect(r.status).toBe(def.notYet ? 'not-applicable' : 'pass');
  }
});

it('runs every OWASP vector through the real surfaces with its expected verdict and reason code', async () => {
  const vectors = await loadVectors();
  expect(run.report.vectors.map((v) => v.id)).toEqual(vectors.map((v) => v.id));
  for (const v of vectors) {
    const got = run.report.vectors.find((x) => x.id === v.id)!;
    expect({ id: v.id, ...got.observed }).toEqual({ id: v.id, verdict: v.expect.verdict, reasonCode: v.expect.reasonCode, executed: v.expect.executed });
  }
});

it('signs the report: verify accepts it under its signer, refuses a changed copy and an unknown signer', async () => {
  const policy = join(lab.dir, 'report-policy.txt');
  await writeFile(policy, `conformance ${(await readFile(`${lab.reportKey}.pub`, 'utf8')).trim()}\n`);
  const ok = await cli(['conformance', 'verify', run.reportFile, '--trust-policy', policy]);
  expect(ok.out).toMatch(/^VALID: .* level L3 PASS/);
  expect(ok.code).toBe(0);

  const changed = JSON.parse(await readFile(run.reportFile, 'utf8')) as SignedReport;
  changed.requirements[0]!.status = 'pass';
  changed.summary.failed = 0;
  changed.level = 'L1';
  const changedFile = join(lab.dir, 'changed.json');
  await writeFile(changedFile, JSON.stringify(changed));
  const bad = await cli(['conformance', 'verify', changedFile, '--trust-policy', policy]);
  expect(bad.out).toMatch(/ERR_REPORT_BAD_SIGNATURE/);
  expect(bad.code).toBe(1);

  const other = join(lab.dir, 'other-policy.txt');
  await writeFile(other, `conformance ${(await readFile(join(lab.kit, 'keys/exporter.key.pub'), 'utf8')).trim()}\n`);
  const untrusted = await cli(['conformance', 'verify', run.reportFile, '--trust-policy', other]);
  expect(untrusted.out).toMatch(/ERR_REPORT_UNTRUSTED_SIGNER/);
  expect(untrusted.code).toBe(1);
});

it('rotates the node key at the restart: L2-TRUST-ROTATION passes, the kit now signs with a new key published by a KEY_ROTATE', async () => {
  expect(run.report.requirements.find((r) => r.id === 'L2-TRUST-ROTATION')).toMatchObject({ status: 'pass', detail: [] });
  const yaml = await readFile(join(lab.kit, 'sidecar.yaml'), 'utf8');
  expect(yaml).toMatch(/nodeKey: .*keys\/node-\d+\.key/);
  expect(yaml).toMatch(/keys\/rotate-\d+\.json/);
});

it('drives composition: L3-BUNDLE-COMPOSITION passes and the kit bundle in force afterwards is the base again', async () => {
  expect(run.report.requirements.find((r) => r.id === 'L3-BUNDLE-COMPOSITION')).toMatchObject({ status: 'pass', detail: [] });
  const ready = (await (await fetch(`${lab.adminUrl}/readyz`)).json()) as { checks: { bundle: { digest: string } } };
  expect(ready.checks.bundle.digest).toBe(run.report.kit.bundleDigest);
});

it('drives every sandbox limit: the log holds a signed RESULT for each of gas, output, memory and wall time exhausted', async () => {
  const { readLog } = await import('../../kernel/proofgraph/store/index.js');
  const { decodeNode } = await import('../../kernel/contracts/node.js');
  const { nodeSuite } = await import('../../kernel/crypto/node.js');
  const log = await readLog(join(lab.kit, 'proofgraph', 'conformance-1'));
  const codes = new Set(log.entries.map((e) => decodeNode(nodeSuite, e)).filter((n) => n.kind === 'result').map((n) => String((n.statement.predicate.body as { reasonCode?: unknown }).reasonCode)));
  for (const code of ['ERR_COMPUTE_GAS_EXHAUSTED', 'ERR_COMPUTE_OUTPUT_EXHAUSTED', 'ERR_COMPUTE_MEMORY_EXHAUSTED', 'ERR_COMPUTE_TIME_EXHAUSTED']) expect([...codes]).toContain(code);
});

it('revokes the retired key at the restart: L2-TRUST-REVOCATION passes, sidecar.yaml lists a KEY_REVOKE of the retired key one index after the rotation', async () => {
  expect(run.report.requirements.find((r) => r.id === 'L2-TRUST-REVOCATION')).toMatchObject({ status: 'pass', detail: [] });
  const yaml = await readFile(join(lab.kit, 'sidecar.yaml'), 'utf8');
  const rotate = Number(/keys\/rotate-(\d+)\.json/.exec(yaml)?.[1]);
  expect(yaml).toContain(`keys/revoke-${rotate + 1}.json`);
});

// Runs on this file's real sidecar before the stale-sidecar run below (which leaves the sidecar on a retired key).
describe.each(BROKEN_KERNELS.filter((b) => b.needsCrashCommand).map((b) => [b.name, b] as const))('against %s (the runner\'s own verifier patched; the run needs --crash-command)', (_name, broken) => {
  it(`fails ${broken.requirement}, and only it, exit 1`, async () => {
    const undo = broken.patch();
    let r: Awaited<ReturnType<typeof runAgainst>>;
    try {
      r = await runAgainst(lab, broken.level);
    } finally {
      undo();
    }
    expect(r.report.requirements.filter((q) => q.status === 'fail').map((q) => `${q.id}: ${q.detail[0]}`)).toEqual([expect.stringMatching(new RegExp(`^${broken.requirement}: `))]);
    expect(r.out).toMatch(new RegExp(`${broken.requirement}\\s+L\\d\\s+FAIL`));
    expect(r.code).toBe(1);
  }, 120_000);
});

it('fails L2-TRUST-ROTATION and L2-TRUST-REVOCATION, and only them, when the restarted sidecar ignores the rotation and the revocation (a stale sidecar.yaml with the retired key)', async () => {
  const stale = join(lab.dir, 'stale-sidecar.yaml');
  await writeFile(stale, await readFile(join(lab.kit, 'sidecar.yaml')));
  const crashCommand = lab.crashCommand!.split(JSON.stringify(join(lab.kit, 'sidecar.yaml'))).join(JSON.stringify(stale));
  expect(crashCommand).toContain(stale);
  const r = await runAgainst({ ...lab, crashCommand }, 'L2');
  expect(r.report.requirements.filter((q) => q.status === 'fail').map((q) => q.id)).toEqual(['L2-TRUST-ROTATION', 'L2-TRUST-REVOCATION']);
  expect(r.report.requirements.find((q) => q.id === 'L2-TRUST-ROTATION')!.detail.join('\n')).toMatch(/not the new key|no trust node records the KEY_ROTATE/);
  expect(r.report.requirements.find((q) => q.id === 'L2-TRUST-REVOCATION')!.detail.join('\n')).toMatch(/no trust node records the KEY_REVOKE/);
  expect(r.code).toBe(1);
}, 120_000);
