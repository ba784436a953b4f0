// Member names of a v1 evidence pack (docs/spec/evidence-pack.md §Layout). The reader accepts these
// names and nothing else, so a pack cannot carry files a verifier would silently ignore.

export const MANIFEST_PATH = 'MANIFEST.json';
export const MANIFEST_DSSE_PATH = 'MANIFEST.dsse.json';

const LOG_DIR = /^[A-Za-z0-9._-]{1,128}$/;
const DECIMAL = '(0|[1-9][0-9]{0,15})';
const DIR = '([A-Za-z0-9._-]{1,128})';
const ENTRIES = new RegExp(`^logs/${DIR}/entries\\.jsonl$`);
const RANGE_PROOF = new RegExp(`^logs/${DIR}/range-proof$`);
const CHECKPOINT = new RegExp(`^logs/${DIR}/checkpoints/${DECIMAL}\\.note$`);
const CONSISTENCY = new RegExp(`^logs/${DIR}/consistency/${DECIMAL}-${DECIMAL}$`);
const PRIOR = new RegExp(`^logs/${DIR}/prior/${DECIMAL}\\.(entry|proof)$`);
const DIRECTORY = new RegExp(`^logs/(${DIR}/((checkpoints|consistency|prior)/)?)?$`);
const BLOB_DIRECTORY = /^(inputs|policies)\/$/;
const INPUT = /^inputs\/([0-9a-f]{64})\.json$/;
const POLICY = /^policies\/([0-9a-f]{64})\.json$/;

/** A log directory name: the store's writer id. '.' and '..' match the character class but are refused. */
export function isValidLogDir(dir: string): boolean {
  return LOG_DIR.test(dir) && dir !== '.' && dir !== '..';
}

export const entriesPath = (dir: string): string => `logs/${dir}/entries.jsonl`;
export const rangeProofPath = (dir: string): string => `logs/${dir}/range-proof`;
export const checkpointPath = (dir: string, size: number): string => `logs/${dir}/checkpoints/${size}.note`;
export const consistencyPath = (dir: string, a: number, b: number): string => `logs/${dir}/consistency/${a}-${b}`;
export const priorEntryPath = (dir: string, index: number): string => `logs/${dir}/prior/${index}.entry`;
export const priorProofPath = (dir: string, index: number): string => `logs/${dir}/prior/${index}.proof`;
/** A canonical DecisionInput (JCS), named by the hex SHA-256 its decision's inputDigest names. */
export const inputPath = (hex: string): string => `inputs/${hex}.json`;
/** A policy bundle (JCS), named by the hex SHA-256 of its contentHash. */
export const policyPath = (hex: string): string => `policies/${hex}.json`;

export type Member =
  | { kind: 'manifest' }
  | { kind: 'manifest-dsse' }
  | { kind: 'entries'; dir: string }
  | { kind: 'range-proof'; dir: string }
  | { kind: 'checkpoint'; dir: string; size: number }
  | { kind: 'consistency'; dir: string; a: number; b: number }
  | { kind: 'prior-entry' | 'prior-proof'; dir: string; index: number }
  | { kind: 'input' | 'policy'; hex: string };

function num(s: string): number | null {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** What a member path is, or null when it is not part of the layout. */
export function classifyMember(path: string): Member | null {
  if (path === MANIFEST_PATH) return { kind: 'manifest' };
  if (path === MANIFEST_DSSE_PATH) return { kind: 'manifest-dsse' };
  let m = ENTRIES.exec(path);
  if (m && isValidLogDir(m[1]!)) return { kind: 'entries', dir: m[1]! };
  m = RANGE_PROOF.exec(path);
  if (m && isValidLogDir(m[1]!)) return { kind: 'range-proof', dir: m[1]! };
  m = CHECKPOINT.exec(path);
  if (m && isValidLogDir(m[1]!)) {
    const size = num(m[2]!);
    return size === null ? null : { kind: 'checkpoint', dir: m[1]!, size };
  }
  m = CONSISTENCY.exec(path);
  if (m && isValidLogDir(m[1]!)) {
    const a = num(m[2]!);
    const b = num(m[3]!);
    return a === null || b === null ? null : { kind: 'consistency', dir: m[1]!, a, b };
  }
  m = INPUT.exec(path);
  if (m) return { kind: 'input', hex: m[1]! };
  m = POLICY.exec(path);
  if (m) return { kind: 'policy', hex: m[1]! };
  m = PRIOR.exec(path);
  if (m && isValidLogDir(m[1]!)) {
    const index = num(m[2]!);
    return index === null ? null : { kind: m[3] === 'entry' ? 'prior-entry' : 'prior-proof', dir: m[1]!, index };
  }
  return null;
}

/** The layout predicate for the tar reader. Directory members are optional; these are the only ones allowed. */
export function acceptMember(path: string, isDir: boolean): boolean {
  if (isDir) {
    if (BLOB_DIRECTORY.test(path.endsWith('/') ? path : `${path}/`)) return true;
    const m = DIRECTORY.exec(path.endsWith('/') ? path : `${path}/`);
    return m !== null && (m[2] === undefined || isValidLogDir(m[2]));
  }
  return classifyMember(path) !== null;
}
