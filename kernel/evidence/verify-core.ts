// The offline evidence pack verifier (docs/spec/evidence-pack.md §Verification). PORTABLE: imports
// nothing from node:, only portable kernel files, @noble (through the suite), fflate and ajv, so the
// same code runs in a browser. Trust comes only from the policy argument, never from the pack.
import type { CryptoSuite } from '../crypto/suite.js';
import { checkCompleteness } from './completeness.js';
import { checkGraph, decodeInline, type CheckedLog, type DecodeMany, type GraphLog } from './graph-check.js';
import { entriesPath, MANIFEST_DSSE_PATH, MANIFEST_PATH } from './layout.js';
import type { PackLimits } from './limits.js';
import { checkLogStructure, type LogStructure } from './log-structure.js';
import { ManifestError, parseManifest, verifyManifestSignature, type Manifest } from './manifest.js';
import { isUnreadable, PackError } from './pack-error.js';
import { openPackWith } from './pack-reader.js';
import { gunzipTo, type GunzipStream } from './gzip-portable.js';
import { Findings, type Problem } from './problems.js';
import { buildRegistry, checkSignatures, sequentialVerifier, type VerifyMany } from './signatures.js';
import { checkFiles } from './file-check.js';
import { certifiedLogKeys, predecode, withCertifiedLogs } from './certified-logs.js';
import { checkBlobs, refsOfLogs } from './blobs.js';
import { describeKeySources, type TrustPolicy } from './trust-policy.js';

export type { Problem } from './problems.js';
export type { SignatureTask, VerifyMany } from './signatures.js';
export type { DecodeMany, DecodeOutcome } from './graph-check.js';

export interface VerifyOptions {
  suite: CryptoSuite;
  /** Batch signature verification (the node verifier spreads it over worker threads). */
  verifyMany?: VerifyMany;
  /** Batch entry decoding (likewise); must behave exactly like decodeNode. */
  decodeMany?: DecodeMany;
  /** gunzip implementation (the node verifier uses node:zlib); same rules and codes as the portable one. */
  gunzip?: GunzipStream;
  limits?: Partial<PackLimits>;
}

export interface LogSummary {
  dir: string;
  origin: string;
  from: number;
  size: number;
  entries: number;
  /** Entries per node kind. */
  kinds: Record<string, number>;
  /** Sizes of the checkpoints in the pack. */
  checkpoints: number[];
  /** Witnesses (policy names) that cosigned the checkpoint the window ends at. */
  witnesses: string[];
  /** The policy log key that signed that checkpoint, if it verified. */
  logKey: string | null;
  /** Indexes of the entries before the window carried with inclusion proofs. */
  prior: number[];
}

export interface VerifyReport {
  ok: boolean;
  /** False when the bytes are not a readable gzip/tar at all, or exceed the limits. */
  readable: boolean;
  format: string | null;
  selection: Manifest['selection'] | null;
  logs: LogSummary[];
  /** Where each trusted key came from: policy lines, then node keys and the trust events that published them. */
  keySources: string[];
  /** Trust-policy keys whose signature on the manifest verified. */
  manifestSigners: string[];
  /** Content-addressed members carried for replay. */
  blobs: { inputs: number; policies: number };
  problems: Problem[];
  /** The first bad record (problems are ordered by member, then index). */
  firstProblem: Problem | null;
  warnings: Problem[];
  stats: { entries: number; signatures: number };
}

function report(f: Findings, partial: Partial<VerifyReport>): VerifyReport {
  const problems = f.sorted('problems');
  return {
    ok: problems.length === 0,
    readable: true,
    format: null,
    selection: null,
    logs: [],
    keySources: [],
    manifestSigners: [],
    blobs: { inputs: 0, policies: 0 },
    stats: { entries: 0, signatures: 0 },
    ...partial,
    problems,
    firstProblem: problems[0] ?? null,
    warnings: f.sorted('warnings'),
  };
}

export async function verifyPack(bytes: Uint8Array, policy: TrustPolicy, opts: VerifyOptions): Promise<VerifyReport> {
  const { suite } = opts;
  const f = new Findings();
  const keySources = describeKeySources(policy);

  let files: Map<string, Uint8Array>;
  try {
    files = await openPackWith(bytes, opts.limits, opts.gunzip ?? gunzipTo);
  } catch (e) {
    if (!(e instanceof PackError)) throw e;
    f.problem(e.code, e.path, e.message);
    return report(f, { readable: !isUnreadable(e.code), keySources });
  }

  const mBytes = files.get(MANIFEST_PATH);
  if (!mBytes) {
    f.problem('ERR_MANIFEST_MISSING', MANIFEST_PATH, 'the pack has no MANIFEST.json');
    return report(f, { keySources });
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(mBytes);
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    // Without a readable manifest nothing says which windows the logs claim to be.
    f.problem(e.code, MANIFEST_PATH, e.message);
    return report(f, { keySources });
  }

  const manifestSigners: string[] = [];
  const dsse = files.get(MANIFEST_DSSE_PATH);
  if (!dsse) f.problem('ERR_MANIFEST_SIGNATURE_MISSING', MANIFEST_DSSE_PATH, 'the pack has no MANIFEST.dsse.json');
  else {
    try {
      for (const s of verifyManifestSignature(suite, dsse, mBytes, policy)) manifestSigners.push(`${s.role} key ${s.key.key.handle} (trust policy ${policy.source} line ${s.key.line})`);
    } catch (e) {
      if (!(e instanceof ManifestError)) throw e;
      f.problem(e.code, MANIFEST_DSSE_PATH, e.message);
    }
  }
  checkFiles(suite, files, manifest, f);

  // Entries are decoded first: the root's log-key certifications in them decide which checkpoints are trusted.
  const pre = await predecode(files, manifest, opts.decodeMany ?? (async (lines: readonly Uint8Array[]) => lines.map((x) => decodeInline(suite, x))));
  const certified = certifiedLogKeys(suite, policy, pre, manifest);
  const checkpointPolicy = withCertifiedLogs(policy, certified);
  for (const c of certified) keySources.push(`log key ${c.key.handle} for ${c.origin}: root key -> ${c.source}`);

  const structures = new Map<string, LogStructure>();
  for (const log of manifest.logs) structures.set(log.dir, checkLogStructure(suite, files, log, checkpointPolicy, f, pre.lines.get(log.dir)?.map((o) => o.leaf)));

  const graphLogs: GraphLog[] = [];
  for (const l of manifest.logs) {
    const st = structures.get(l.dir)!;
    const lines = pre.lines.get(l.dir) ?? [];
    const prior = pre.prior.get(l.dir);
    if (lines.length !== st.lines.length || st.prior.some((p) => !prior?.has(p.index))) throw new Error(`log ${l.dir}: predecoded entries do not match the pack's entries`);
    graphLogs.push({
      dir: l.dir,
      origin: l.origin,
      from: l.from,
      file: entriesPath(l.dir),
      lines: st.lines,
      decoded: lines,
      prior: st.prior.map((p) => ({ ...p, decoded: prior!.get(p.index)! })),
    });
  }
  const checked: CheckedLog[] = checkGraph(suite, graphLogs, f);
  for (const l of checked) checkCompleteness(l, f);
  const blobs = checkBlobs(suite, files, refsOfLogs(checked), f);

  const registry = buildRegistry(suite, policy, checked, f);
  const sig = await checkSignatures(registry, checked, opts.verifyMany ?? sequentialVerifier(suite), f);
  for (const k of registry.keys()) {
    const validity = k.validFrom === null ? 'never valid' : `valid from index ${k.validFrom}${k.rotatedAt !== null ? `, rotated out at ${k.rotatedAt}` : ''}${k.revokedFrom !== null ? `, revoked from ${k.revokedFrom}` : ''}`;
    const used = sig.signers.has(k.handle) ? '' : ' (signed no node in this pack)';
    keySources.push(`node key ${k.handle} for ${k.origin} (${validity})${used}: root key -> ${k.sources.join('; ')}`);
  }

  const logs: LogSummary[] = checked.map((l) => {
    const st = structures.get(l.dir)!;
    const kinds: Record<string, number> = {};
    for (const n of l.nodes) {
      const k = n.node?.kind ?? 'undecodable';
      kinds[k] = (kinds[k] ?? 0) + 1;
    }
    const m = manifest.logs.find((x) => x.dir === l.dir)!;
    return { dir: l.dir, origin: l.origin, from: m.from, size: m.size, entries: l.nodes.length, kinds, checkpoints: st.checkpoints, witnesses: st.witnesses, logKey: st.logKey, prior: l.priorNodes.map((n) => n.index) };
  });
  return report(f, {
    format: manifest.format,
    selection: manifest.selection,
    logs,
    keySources,
    manifestSigners,
    blobs: { inputs: blobs.filter((b) => b.kind === 'input').length, policies: blobs.filter((b) => b.kind === 'policy').length },
    stats: { entries: checked.reduce((n, l) => n + l.nodes.length, 0), signatures: sig.signatures },
  });
}
