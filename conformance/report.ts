// The conformance report (docs/conformance.md, schema docs/spec/schemas/conformance-report.schema.json):
// signed with an Ed25519 key file the user passes, over the DSSE PAE of the JCS of the report
// without its `signature` member; a readable table; and the check of a report against a policy.
import { fromBase64, toBase64 } from '../kernel/crypto/bytes.js';
import { assertSignedProfile, jcs } from '../kernel/crypto/jcs.js';
import { parseVerifierKey, type VerifierKey } from '../kernel/crypto/keys.js';
import { nodeSuite } from '../kernel/crypto/node.js';
import type { SigningKey } from '../kernel/crypto/signing-key.js';
import { pae } from '../kernel/contracts/dsse.js';
import type { Level } from './requirements.js';
import type { VectorResult } from './owasp.js';

export const REPORT_FORMAT = 'helm-conformance-report/v1';
export const REPORT_PAYLOAD_TYPE = 'application/vnd.helm.conformance-report+json';

export type Status = 'pass' | 'fail' | 'not-applicable';

export interface RequirementResult {
  id: string;
  level: Level;
  title: string;
  status: Status;
  detail: string[];
}

export interface ReportBody {
  format: typeof REPORT_FORMAT;
  level: Level;
  target: { governed: string; admin: string };
  startedAt: string;
  finishedAt: string;
  kit: { origin: string; bundleDigest: string };
  pack: { sha256: string; verified: boolean; problems: number; decisions: number; diverged: number } | null;
  requirements: RequirementResult[];
  vectors: VectorResult[];
  summary: { passed: number; failed: number; notApplicable: number; vectorsPassed: number; vectorsFailed: number };
  ok: boolean;
}

export interface SignedReport extends ReportBody {
  signature: { payloadType: typeof REPORT_PAYLOAD_TYPE; keyid: string; sig: string };
}

function message(body: ReportBody): Uint8Array {
  assertSignedProfile(body);
  return pae(REPORT_PAYLOAD_TYPE, jcs(body));
}

export function signReport(body: ReportBody, key: SigningKey): SignedReport {
  return { ...body, signature: { payloadType: REPORT_PAYLOAD_TYPE, keyid: key.verifier.handle, sig: toBase64(key.sign(message(body))) } };
}

/** `conformance <vkey>` lines name the keys trusted to sign reports; other lines are ignored. */
export function reportSigners(policyText: string): VerifierKey[] {
  const keys: VerifierKey[] = [];
  for (const line of policyText.split('\n')) {
    const m = /^conformance\s+(\S+)\s*(#.*)?$/.exec(line.trim());
    if (m) keys.push(parseVerifierKey(m[1]!));
  }
  return keys;
}

export type ReportCheck = { ok: true; signer: string; report: SignedReport } | { ok: false; code: string; message: string };

export function verifyReport(value: unknown, trusted: readonly VerifierKey[]): ReportCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, code: 'ERR_REPORT_MALFORMED', message: 'the report is not a JSON object' };
  const { signature, ...body } = value as SignedReport;
  if (body.format !== REPORT_FORMAT) return { ok: false, code: 'ERR_REPORT_MALFORMED', message: `format is ${JSON.stringify(body.format)}, expected ${REPORT_FORMAT}` };
  if (!signature || signature.payloadType !== REPORT_PAYLOAD_TYPE || typeof signature.keyid !== 'string' || typeof signature.sig !== 'string') return { ok: false, code: 'ERR_REPORT_UNSIGNED', message: 'the report has no signature {payloadType, keyid, sig}' };
  const key = trusted.find((k) => k.handle === signature.keyid);
  if (!key) return { ok: false, code: 'ERR_REPORT_UNTRUSTED_SIGNER', message: `signed by ${signature.keyid}, which no "conformance <vkey>" line of the trust policy names` };
  let msg: Uint8Array;
  let sig: Uint8Array;
  try {
    msg = message(body as ReportBody);
    sig = fromBase64(signature.sig);
  } catch (e) {
    return { ok: false, code: 'ERR_REPORT_MALFORMED', message: (e as Error).message };
  }
  if (!nodeSuite.verifyEd25519(key.publicKey, msg, sig)) return { ok: false, code: 'ERR_REPORT_BAD_SIGNATURE', message: `the signature by ${key.handle} does not verify: the report was changed after signing` };
  return { ok: true, signer: key.handle, report: value as SignedReport };
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

export function formatReport(r: ReportBody): string {
  const out: string[] = [`HELM conformance ${r.level} against ${r.target.governed}: ${r.ok ? 'PASS' : 'FAIL'}`, ''];
  out.push(...table([['REQUIREMENT', 'LEVEL', 'STATUS', 'TITLE'], ...r.requirements.map((q) => [q.id, q.level, q.status.toUpperCase(), q.title])]));
  for (const q of r.requirements.filter((x) => x.status !== 'pass')) for (const d of q.detail) out.push(`  ${q.id}: ${d}`);
  out.push('', ...table([['THREAT VECTOR', 'SURFACE', 'EXPECTED', 'OBSERVED', 'STATUS'], ...r.vectors.map((v) => [v.id, v.surface, `${v.expected.verdict} ${v.expected.reasonCode}`, `${v.observed.verdict} ${v.observed.reasonCode}`, v.status.toUpperCase()])]));
  for (const v of r.vectors.filter((x) => x.status === 'fail')) for (const d of v.detail) out.push(`  ${v.id}: ${d}`);
  const s = r.summary;
  out.push('', `requirements: ${s.passed} passed, ${s.failed} failed, ${s.notApplicable} not applicable; threat vectors: ${s.vectorsPassed} passed, ${s.vectorsFailed} failed`);
  if (r.pack) out.push(`pack sha256:${r.pack.sha256}: ${r.pack.verified ? 'verified' : 'NOT verified'}, ${r.pack.decisions} decisions replayed, ${r.pack.diverged} diverged`);
  return out.join('\n') + '\n';
}
