// The conformance run: surface checks, then the OWASP vectors, then the evidence checks on the
// pack exported after them (so every verdict the surfaces gave is in it), then the report.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SURFACE_CHECKS } from './checks-surface.js';
import { collectEvidence, EVIDENCE_CHECKS, type Evidence } from './evidence.js';
import type { Failures } from './expect.js';
import { readKit } from './kit.js';
import { loadVectors, runVector, type VectorResult } from './owasp.js';
import { REPORT_FORMAT, type ReportBody, type RequirementResult } from './report.js';
import { requirementsFor, type Level } from './requirements.js';
import { prepareRotation } from './rotation.js';
import { Target } from './target.js';

export interface RunOptions {
  level: Level;
  target: string;
  admin: string;
  kitDir: string;
  /**
   * A shell command that SIGKILLs the sidecar under test and starts it again on the same kit
   * (L3-CRASH-DURABILITY); without it that requirement is not applicable.
   */
  crashCommand?: string;
  /** Progress lines (one per requirement and vector). */
  progress?: (line: string) => void;
}

const CRASH = 'L3-CRASH-DURABILITY';
const ROTATION = 'L2-TRUST-ROTATION';
const REVOCATION = 'L2-TRUST-REVOCATION';
const KEYS = [ROTATION, REVOCATION];
const x = (id: string) => (id === ROTATION ? ' with a rotated node key' : id === REVOCATION ? ' with the retired node key revoked' : '');

/** Runs the crash command (sh -c); it must kill the sidecar with SIGKILL and start it again. */
function crash(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', command], { timeout: 60_000 }, (err, _out, stderr) =>
      err ? reject(Object.assign(new Error(`the crash command failed: ${err.message} ${stderr}`), { code: 'ERR_CONFORMANCE_CRASH' })) : resolve(),
    );
  });
}

const message = (e: unknown) => `${(e as { code?: string }).code ? `${(e as { code: string }).code}: ` : ''}${(e as Error).message ?? String(e)}`;

export async function runConformance(o: RunOptions): Promise<ReportBody> {
  const startedAt = new Date().toISOString();
  const kit = await readKit(o.kitDir);
  const vectors = await loadVectors();
  const t = await Target.open(o.target, o.admin, kit);
  const work = await mkdtemp(join(tmpdir(), 'helm-conformance-'));
  const results: RequirementResult[] = [];
  const vectorResults: VectorResult[] = [];
  let evidence: Evidence | null = null;
  try {
    await t.waitReady();
    const reqs = requirementsFor(o.level);
    const record = (id: string, f: Failures | Error) => {
      const r = reqs.find((x) => x.id === id)!;
      const detail = f instanceof Error ? [`the check failed to run: ${message(f)}`] : f;
      const res: RequirementResult = { id, level: r.level, title: r.title, status: detail.length === 0 ? 'pass' : 'fail', detail };
      results.push(res);
      o.progress?.(`${res.status.toUpperCase().padEnd(4)} ${id}${detail.length ? `: ${detail[0]}` : ''}`);
    };
    for (const r of reqs.filter((x) => x.phase === 'surface' && !x.notYet)) record(r.id, await SURFACE_CHECKS[r.id]!(t).catch((e: unknown) => e as Error));
    for (const v of vectors) {
      const res = await runVector(t, v);
      vectorResults.push(res);
      o.progress?.(`${res.status.toUpperCase().padEnd(4)} ${v.id}${res.detail.length ? `: ${res.detail[0]}` : ''}`);
    }
    // One SIGKILL and restart serves all three: the key is rotated and the retired key revoked just before it (rotation.ts).
    const rotating = reqs.some((r) => KEYS.includes(r.id));
    if (o.crashCommand && (rotating || reqs.some((r) => r.id === CRASH))) {
      const rotation = rotating ? await prepareRotation(t.kit).catch((e: unknown) => e as Error) : null;
      if (rotation instanceof Error) for (const id of KEYS) record(id, rotation);
      await crash(o.crashCommand);
      t.crashedAfter = t.observed.length;
      await t.waitReady();
      if (rotation && !(rotation instanceof Error)) {
        t.rotation = rotation;
        // A decision after the restart, signed by the new key.
        const r = await t.execute('conf__echo', { text: 'after the key rotation' });
        if (r.status !== 200) for (const id of KEYS) record(id, [`after the restart with the rotated key, conf__echo answered ${r.status} ${String(r.body.reasonCode ?? r.body.code ?? '')}`]);
      }
    }
    try {
      evidence = await collectEvidence(t, work);
    } catch (e) {
      for (const r of reqs.filter((x) => x.phase === 'evidence' && !x.notYet)) record(r.id, new Error(`the pack could not be exported or read: ${message(e)}`));
    }
    const skipped = (id: string) => (id === CRASH || KEYS.includes(id)) && !o.crashCommand;
    const done = (id: string) => results.some((r) => r.id === id);
    if (evidence) for (const r of reqs.filter((x) => x.phase === 'evidence' && !x.notYet && !skipped(x.id) && !done(x.id))) record(r.id, await EVIDENCE_CHECKS[r.id]!(t, evidence).catch((e: unknown) => e as Error));
    for (const r of reqs.filter((x) => x.notYet)) results.push({ id: r.id, level: r.level, title: r.title, status: 'not-applicable', detail: [r.notYet!] });
    for (const r of reqs.filter((x) => skipped(x.id))) results.push({ id: r.id, level: r.level, title: r.title, status: 'not-applicable', detail: [`no --crash-command: the runner cannot kill and restart the sidecar under test${x(r.id)}`] });
    // Report order is the catalog's, whatever order the phases ran in.
    results.sort((a, b) => reqs.findIndex((r) => r.id === a.id) - reqs.findIndex((r) => r.id === b.id));
  } finally {
    await t.close();
    await rm(work, { recursive: true, force: true });
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const vectorsFailed = vectorResults.filter((v) => v.status === 'fail').length;
  const d = evidence?.replay.decisions;
  return {
    format: REPORT_FORMAT,
    level: o.level,
    target: { governed: o.target, admin: o.admin },
    startedAt,
    finishedAt: new Date().toISOString(),
    kit: { origin: kit.manifest.origin, bundleDigest: kit.manifest.bundleDigest },
    pack: evidence ? { sha256: evidence.packSha256, verified: evidence.verify.ok, problems: evidence.verify.problems.length, decisions: d?.decisions ?? 0, diverged: d?.diverged ?? 0 } : null,
    requirements: results,
    vectors: vectorResults,
    summary: { passed: results.filter((r) => r.status === 'pass').length, failed, notApplicable: results.filter((r) => r.status === 'not-applicable').length, vectorsPassed: vectorResults.length - vectorsFailed, vectorsFailed },
    ok: failed === 0 && vectorsFailed === 0,
  };
}
