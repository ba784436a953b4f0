// The catalogues behind the runner, without a sidecar: every requirement is documented and has
// exactly one check (or says why not yet), the threat vectors match their schema, use registered
// reason codes and cover the threats of issue 14, and a report signature covers every byte.
import { readFile } from 'node:fs/promises';
import { SURFACE_CHECKS } from '../../conformance/checks-surface.js';
import { EVIDENCE_CHECKS } from '../../conformance/evidence.js';
import { loadVectors } from '../../conformance/owasp.js';
import { REPORT_FORMAT, reportSigners, signReport, verifyReport, type ReportBody } from '../../conformance/report.js';
import { REQUIREMENTS, requirementsFor } from '../../conformance/requirements.js';
import { isReasonCode } from '../../kernel/guardian/reason-codes.js';
import { testKey } from '../evidence/fixtures.js';

it('documents every requirement in docs/conformance.md and maps each to exactly one check', async () => {
  const doc = await readFile('docs/conformance.md', 'utf8');
  for (const r of REQUIREMENTS) {
    expect({ id: r.id, documented: doc.includes(`| ${r.id} |`) }).toEqual({ id: r.id, documented: true });
    const checks = [SURFACE_CHECKS[r.id], EVIDENCE_CHECKS[r.id]].filter(Boolean);
    expect({ id: r.id, checks: checks.length }).toEqual({ id: r.id, checks: r.notYet ? 0 : 1 });
    if (!r.notYet) expect(r.phase === 'surface' ? SURFACE_CHECKS[r.id] : EVIDENCE_CHECKS[r.id]).toBeDefined();
  }
  const ids = new Set(REQUIREMENTS.map((r) => r.id));
  for (const id of [...Object.keys(SURFACE_CHECKS), ...Object.keys(EVIDENCE_CHECKS)]) expect(ids.has(id)).toBe(true);
  expect(requirementsFor('L1').every((r) => r.level === 'L1')).toBe(true);
  expect(requirementsFor('L3')).toHaveLength(REQUIREMENTS.length);
});

it('loads threat vectors that match their schema, with unique ids and registered reason codes', async () => {
  const vectors = await loadVectors();
  expect(new Set(vectors.map((v) => v.id)).size).toBe(vectors.length);
  for (const v of vectors) {
    const registered = v.surface === 'approvals' ? /^ERR_APPROVAL_[A-Z_]+$/.test(v.expect.reasonCode) : isReasonCode(v.expect.reasonCode);
    expect({ id: v.id, code: v.expect.reasonCode, registered }).toEqual({ id: v.id, code: v.expect.reasonCode, registered: true });
  }
});

it('covers the OWASP LLM 2025 entries a PEP can stop and the MCP threats of issue 14', async () => {
  const refs = (await loadVectors()).map((v) => v.reference);
  for (const want of ['LLM01:2025', 'LLM02:2025', 'LLM06:2025', 'LLM10:2025', 'Tool poisoning', 'Parameter injection with extra fields', 'Command payload', 'SQL payload', 'Data egress to an unlisted destination', 'Confused deputy', 'Replayed approvals', 'Budget exhaustion loops']) {
    expect({ want, covered: refs.some((r) => r.startsWith(want)) }).toEqual({ want, covered: true });
  }
});

it('rejects a schema-invalid vector file naming the problem', async () => {
  const { mkdtemp, writeFile, copyFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'helm-vectors-'));
  await copyFile('protocols/conformance/v1/owasp/vectors.schema.json', join(dir, 'vectors.schema.json'));
  const doc = JSON.parse(await readFile('protocols/conformance/v1/owasp/vectors.json', 'utf8')) as { vectors: Array<{ expect: Record<string, unknown> }> };
  delete doc.vectors[0]!.expect.reasonCode;
  await writeFile(join(dir, 'vectors.json'), JSON.stringify(doc));
  await expect(loadVectors(join(dir, 'vectors.json'))).rejects.toMatchObject({ code: 'ERR_CONFORMANCE_VECTORS' });
});

it('signs a report so that any change, or another key, fails verification', () => {
  const key = testKey('conformance-reporter');
  const body: ReportBody = {
    format: REPORT_FORMAT,
    level: 'L1',
    target: { governed: 'http://127.0.0.1:1', admin: 'http://127.0.0.1:2' },
    startedAt: '2026-12-03T00:00:00.000Z',
    finishedAt: '2026-12-03T00:00:01.000Z',
    kit: { origin: 'o', bundleDigest: `sha256:${'0'.repeat(64)}` },
    pack: null,
    requirements: [{ id: 'L1-LAMPORT', level: 'L1', title: 't', status: 'fail', detail: ['x'] }],
    vectors: [],
    summary: { passed: 0, failed: 1, notApplicable: 0, vectorsPassed: 0, vectorsFailed: 0 },
    ok: false,
  };
  const signed = signReport(body, key);
  const trusted = reportSigners(`# reports\nlog ignored+00000000+AAAA\nconformance ${key.verifier.vkey}\n`);
  expect(verifyReport(signed, trusted)).toMatchObject({ ok: true, signer: key.verifier.handle });
  expect(verifyReport({ ...signed, ok: true }, trusted)).toMatchObject({ ok: false, code: 'ERR_REPORT_BAD_SIGNATURE' });
  expect(verifyReport(signed, [testKey('someone-else').verifier])).toMatchObject({ ok: false, code: 'ERR_REPORT_UNTRUSTED_SIGNER' });
  const { signature: _s, ...unsigned } = signed;
  expect(verifyReport(unsigned, trusted)).toMatchObject({ ok: false, code: 'ERR_REPORT_UNSIGNED' });
});

it('ships the runaway sandbox module as exactly what wat2wasm assembles from its WAT source', async () => {
  const { wat2wasm } = await import('../sandbox/modules.js');
  const { SPIN_WASM, SPIN_WAT } = await import('../../conformance/spin-module.js');
  expect(Buffer.from(await wat2wasm(SPIN_WAT)).toString('base64')).toBe(Buffer.from(SPIN_WASM).toString('base64'));
});
