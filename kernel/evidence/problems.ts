// Findings of a verification or replay: every failed check becomes a Problem naming the pack member
// (and entry index) it is about; warnings say what could not be checked and why.
import { classifyMember, MANIFEST_DSSE_PATH, MANIFEST_PATH } from './layout.js';

export interface Problem {
  code: string;
  /** Pack member path, or "<gzip>" / "<tar>" for the container. */
  file: string;
  /** Log index of the entry, for problems about one entry. */
  index?: number;
  message: string;
}

// Within a log directory: tree heads first, then what comes earliest in the log.
const MEMBER_RANK: Record<string, number> = { checkpoint: 0, consistency: 1, 'prior-entry': 2, 'prior-proof': 2, entries: 3, 'range-proof': 4 };

/** Log members by directory, then kind (MEMBER_RANK), then name with numbers compared by value. */
export function compareMembers(a: string, b: string): number {
  const ma = classifyMember(a);
  const mb = classifyMember(b);
  if (ma && mb && 'dir' in ma && 'dir' in mb) {
    if (ma.dir !== mb.dir) return comparePaths(ma.dir, mb.dir);
    const r = MEMBER_RANK[ma.kind]! - MEMBER_RANK[mb.kind]!;
    if (r !== 0) return r;
  }
  return comparePaths(a, b);
}

/** Path order with digit runs compared as numbers, so checkpoints/7.note comes before 14.note. */
export function comparePaths(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) return Number(x) - Number(y) || (x < y ? -1 : 1);
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

// Ordered by cause: the container, the manifest, then the logs, then the content-addressed blobs
// (inputs/, policies/). A blob problem is usually a consequence of an entry (an input that no node
// references any more because its decision was altered or dropped), so it never comes first.
function fileRank(file: string): number {
  if (file.startsWith('<')) return 0;
  if (file === MANIFEST_PATH) return 1;
  if (file === MANIFEST_DSSE_PATH) return 2;
  const m = classifyMember(file);
  if (m && (m.kind === 'input' || m.kind === 'policy')) return 4;
  return 3;
}

export class Findings {
  private readonly problems: Array<Problem & { seq: number }> = [];
  private readonly warnings: Array<Problem & { seq: number }> = [];
  private seq = 0;

  problem(code: string, file: string, message: string, index?: number): void {
    this.problems.push({ code, file, ...(index !== undefined ? { index } : {}), message, seq: this.seq++ });
  }

  warning(code: string, file: string, message: string, index?: number): void {
    this.warnings.push({ code, file, ...(index !== undefined ? { index } : {}), message, seq: this.seq++ });
  }

  get problemCount(): number {
    return this.problems.length;
  }

  /**
   * Sorted by member (container, manifest, then each log's checkpoints, proofs, prior entries,
   * entries, then blobs), then entry index (problems about
   * a whole file after those about its entries), then the order checks ran in. The first problem
   * is therefore the first bad record, and the order does not depend on how work was scheduled.
   */
  sorted(which: 'problems' | 'warnings'): Problem[] {
    const list = which === 'problems' ? this.problems : this.warnings;
    return [...list]
      .sort(
        (a, b) =>
          fileRank(a.file) - fileRank(b.file) ||
          compareMembers(a.file, b.file) ||
          (a.index ?? Number.MAX_SAFE_INTEGER) - (b.index ?? Number.MAX_SAFE_INTEGER) ||
          a.seq - b.seq,
      )
      .map(({ seq: _seq, ...p }) => p);
  }
}
