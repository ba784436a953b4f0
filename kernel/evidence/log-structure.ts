// Per-log checks below the node layer: every checkpoint verifies under the trust policy, consecutive
// checkpoints are consistent (a fork fails here), and the entries plus the range proof rebuild the
// root of the checkpoint the window ends at. Portable.
import { equalBytes, fromUtf8, toBase64 } from '../crypto/bytes.js';
import { NoteError, parseNote } from '../crypto/note.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { parseCheckpointText, type Checkpoint } from '../proofgraph/checkpoint.js';
import { emptyRoot, leafHash, rootFromRange, verifyConsistency, verifyInclusion, type Hash } from '../proofgraph/merkle.js';
import type { PriorEntry } from './graph-check.js';
import { checkpointPath, classifyMember, consistencyPath, entriesPath, priorEntryPath, priorProofPath, rangeProofPath } from './layout.js';
import { LineFormatError, parseHashLines, splitLines } from './hash-lines.js';

/** Shorter than any entry (a DSSE envelope with a signed statement), so lines per byte are bounded. */
const MIN_ENTRY_LINE = 128;
/** Lines beyond the window that are still read, so a few added entries are named one by one. */
const EXTRA_LINES = 1024;
import { rootOf, type ManifestLog } from './manifest.js';
import type { Findings } from './problems.js';
import { PolicyError, verifyCheckpointWithPolicy, type TrustPolicy } from './trust-policy.js';

// A range proof has at most two hashes per tree level; a consistency proof at most one per level.
const MAX_PROOF_HASHES = 2 * 64;

export interface LogStructure {
  /** The entry lines of entries.jsonl, [from, from + lines.length). */
  lines: Uint8Array[];
  /** Sizes of the checkpoints present, ascending. */
  checkpoints: number[];
  /** Policy names of the witnesses that cosigned the checkpoint at `size`. */
  witnesses: string[];
  /** Handle of the log key that signed the checkpoint at `size`, if it verified. */
  logKey: string | null;
  /** Entries before the window whose inclusion in the checkpoint at `size` was proved. */
  prior: PriorEntry[];
}

function checkpointFiles(files: ReadonlyMap<string, Uint8Array>, dir: string): number[] {
  const sizes: number[] = [];
  for (const path of files.keys()) {
    const m = classifyMember(path);
    if (m?.kind === 'checkpoint' && m.dir === dir) sizes.push(m.size);
  }
  return sizes.sort((a, b) => a - b);
}

function readText(data: Uint8Array): string | null {
  try {
    return fromUtf8(data);
  } catch {
    return null;
  }
}

/** The checkpoint's fields without trusting it, so later checks can go on after a bad signature. */
function parseUnverified(text: string): Checkpoint | null {
  try {
    return parseCheckpointText(parseNote(text).text);
  } catch (e) {
    if (e instanceof NoteError || (e as { code?: string }).code === 'ERR_CHECKPOINT_MALFORMED') return null;
    throw e;
  }
}

/**
 * `leaves`, when given, are the leaf hashes of the entries.jsonl lines in order, computed elsewhere
 * (the node verifier's workers hash each entry while decoding it); used only if one per line.
 */
export function checkLogStructure(suite: CryptoSuite, files: ReadonlyMap<string, Uint8Array>, log: ManifestLog, policy: TrustPolicy, f: Findings, leaves?: ReadonlyArray<Uint8Array | undefined>): LogStructure {
  const { dir } = log;
  const out: LogStructure = { lines: [], checkpoints: [], witnesses: [], logKey: null, prior: [] };

  // Checkpoints.
  const parsed = new Map<number, Checkpoint>();
  const sizes = checkpointFiles(files, dir);
  out.checkpoints = sizes;
  for (const size of sizes) {
    const path = checkpointPath(dir, size);
    const text = readText(files.get(path)!);
    if (text === null) {
      f.problem('ERR_CHECKPOINT_MALFORMED', path, 'checkpoint note is not UTF-8');
      continue;
    }
    let cp: Checkpoint | null = null;
    try {
      const v = verifyCheckpointWithPolicy(text, policy, suite);
      cp = v.checkpoint;
      if (size === log.size) {
        out.witnesses = v.witnesses;
        out.logKey = v.logKey.key.handle;
      }
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      f.problem(e.code, path, e.message);
      cp = parseUnverified(text);
    }
    if (!cp) continue;
    if (cp.size !== size) f.problem('ERR_CHECKPOINT_MISMATCH', path, `file is named for size ${size} but the checkpoint is for size ${cp.size}`);
    else if (cp.origin !== log.origin) f.problem('ERR_CHECKPOINT_MISMATCH', path, `checkpoint origin ${JSON.stringify(cp.origin)} is not the log's origin ${JSON.stringify(log.origin)}`);
    else parsed.set(size, cp);
  }
  const final = parsed.get(log.size);
  if (!sizes.includes(log.size)) f.problem('ERR_CHECKPOINT_MISSING', checkpointPath(dir, log.size), `the manifest says log ${dir} ends at size ${log.size} but there is no checkpoint of that size`);
  else if (final && !equalBytes(final.root, rootOf(log))) {
    f.problem('ERR_CHECKPOINT_ROOT', 'MANIFEST.json', `log ${dir}: manifest root ${log.root} is not the root ${toBase64(final.root)} of checkpoint ${log.size}`);
  }
  const before = sizes.filter((s) => s < log.from);
  for (const s of sizes.filter((x) => x > log.size)) f.problem('ERR_CHECKPOINT_OUT_OF_WINDOW', checkpointPath(dir, s), `checkpoint size ${s} is beyond the window end ${log.size}`);
  for (const s of before.slice(0, -1)) f.problem('ERR_CHECKPOINT_OUT_OF_WINDOW', checkpointPath(dir, s), `only the latest checkpoint before the window start ${log.from} belongs in the pack`);

  // Consistency between consecutive checkpoints.
  const chain = sizes.filter((s) => s <= log.size && (s >= log.from || s === before.at(-1)));
  const expected = new Set<string>();
  for (let i = 1; i < chain.length; i++) {
    const a = chain[i - 1]!;
    const b = chain[i]!;
    const path = consistencyPath(dir, a, b);
    expected.add(path);
    const data = files.get(path);
    if (!data) {
      f.problem('ERR_CONSISTENCY_MISSING', path, `no consistency proof between checkpoints ${a} and ${b}`);
      continue;
    }
    let proof: Hash[];
    try {
      proof = parseHashLines(data, MAX_PROOF_HASHES);
    } catch (e) {
      f.problem('ERR_CONSISTENCY_MALFORMED', path, (e as LineFormatError).message);
      continue;
    }
    const ca = parsed.get(a);
    const cb = parsed.get(b);
    if (!ca || !cb) continue;
    const ok = a === 0 ? proof.length === 0 && equalBytes(ca.root, emptyRoot(suite)) : verifyConsistency(suite, a, b, ca.root, cb.root, proof);
    if (!ok) f.problem('ERR_CONSISTENCY', path, `checkpoints ${a} and ${b} of ${log.origin} are not consistent: the log was forked or rewritten between them`);
  }
  for (const path of files.keys()) {
    const m = classifyMember(path);
    if (m?.kind === 'consistency' && m.dir === dir && !expected.has(path)) {
      f.problem('ERR_PACK_UNEXPECTED_FILE', path, 'consistency proof between checkpoints that are not consecutive in the pack');
    }
  }

  const finalRoot = parsed.get(log.size)?.root ?? rootOf(log);
  out.prior = readPrior(suite, files, log, finalRoot, f);

  // Entries and the range proof against the final checkpoint.
  const ePath = entriesPath(dir);
  const entries = files.get(ePath);
  if (!entries) {
    f.problem('ERR_LOG_FILE_MISSING', ePath, `log ${dir} has no entries.jsonl`);
    return out;
  }
  const want = log.size - log.from;
  // Lines past what the window needs are still read (an added entry is named by its index), up to
  // a slack; no entry is shorter than MIN_ENTRY_LINE bytes, which bounds the count by the size.
  const max = Math.min(want, Math.floor(entries.length / MIN_ENTRY_LINE)) + EXTRA_LINES;
  const { lines, unterminated, tooMany } = splitLines(entries, max);
  if (tooMany) {
    f.problem('ERR_ENTRIES_COUNT', ePath, `more than ${max} entry lines, but the window [${log.from}, ${log.size}) needs ${want}: entries were added`);
    return out;
  }
  out.lines = lines;
  if (unterminated) f.problem('ERR_ENTRIES_MALFORMED', ePath, 'the last entry line does not end in a newline (file truncated?)', log.from + lines.length - 1);
  if (lines.length !== want) {
    f.problem('ERR_ENTRIES_COUNT', ePath, `${lines.length} entry lines, but the window [${log.from}, ${log.size}) needs ${want}: entries were added or removed`);
  }
  const rPath = rangeProofPath(dir);
  const rdata = files.get(rPath);
  if (!rdata) {
    f.problem('ERR_LOG_FILE_MISSING', rPath, `log ${dir} has no range-proof`);
    return out;
  }
  let range: Hash[];
  try {
    range = parseHashLines(rdata, MAX_PROOF_HASHES);
  } catch (e) {
    f.problem('ERR_RANGE_PROOF_MALFORMED', rPath, (e as LineFormatError).message);
    return out;
  }
  if (lines.length !== want) return out;
  const expectRoot = finalRoot;
  let root: Hash;
  try {
    const given = leaves?.length === lines.length && leaves.every((x) => x !== undefined) ? (leaves as Uint8Array[]) : null;
    root = rootFromRange(suite, log.size, log.from, given ?? lines.map((l) => leafHash(suite, l)), range);
  } catch (e) {
    f.problem('ERR_RANGE_PROOF_MALFORMED', rPath, (e as Error).message);
    return out;
  }
  if (!equalBytes(root, expectRoot)) {
    f.problem('ERR_ROOT_MISMATCH', ePath, `entries [${log.from}, ${log.size}) with the range proof give root ${toBase64(root)}, not the checkpoint root ${toBase64(expectRoot)}: an entry was changed, added, removed or reordered`);
  }
  return out;
}

/** Entries before the window (prior/<index>.entry), each proved included in the tree of `log.size` with `root`. */
export function readPrior(suite: CryptoSuite, files: ReadonlyMap<string, Uint8Array>, log: ManifestLog, root: Uint8Array, f: Findings): PriorEntry[] {
  const { dir } = log;
  const prior: PriorEntry[] = [];
  for (const path of [...files.keys()].sort()) {
    const m = classifyMember(path);
    if (!m || (m.kind !== 'prior-entry' && m.kind !== 'prior-proof') || m.dir !== dir) continue;
    if (m.kind === 'prior-proof') {
      if (!files.has(priorEntryPath(dir, m.index))) f.problem('ERR_PACK_UNEXPECTED_FILE', path, 'inclusion proof for a prior entry that is not in the pack');
      continue;
    }
    if (m.index >= log.from) {
      f.problem('ERR_PRIOR_UNEXPECTED', path, `prior entry ${m.index} is not before the window start ${log.from}`, m.index);
      continue;
    }
    const proofData = files.get(priorProofPath(dir, m.index));
    if (!proofData) {
      f.problem('ERR_LOG_FILE_MISSING', priorProofPath(dir, m.index), `prior entry ${m.index} has no inclusion proof`, m.index);
      continue;
    }
    let proof: Hash[];
    try {
      proof = parseHashLines(proofData, MAX_PROOF_HASHES);
    } catch (e) {
      f.problem('ERR_PRIOR_INCLUSION', priorProofPath(dir, m.index), (e as LineFormatError).message, m.index);
      continue;
    }
    const line = files.get(path)!;
    if (!verifyInclusion(suite, m.index, log.size, leafHash(suite, line), proof, root)) {
      f.problem('ERR_PRIOR_INCLUSION', path, `prior entry ${m.index} is not included at that index in the tree of size ${log.size}`, m.index);
      continue;
    }
    prior.push({ index: m.index, file: path, line });
  }
  return prior;
}
