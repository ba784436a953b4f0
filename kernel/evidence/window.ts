// Which part of a log goes into a pack, and the proofs that tie that part to the log's signed
// checkpoints (docs/spec/evidence-pack.md §Selection). Portable: works on entries in memory.
import { equalBytes, toBase64 } from '../crypto/bytes.js';
import { parseNote } from '../crypto/note.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { decodeNode } from '../contracts/node.js';
import { parseCheckpointText, type Checkpoint } from '../proofgraph/checkpoint.js';
import { parseTime } from '../proofgraph/clock.js';
import type { Hash } from '../proofgraph/merkle.js';
import { CachedMerkleTree } from './cached-tree.js';

export class ExportError extends Error {
  constructor(
    readonly code: 'ERR_EXPORT_STORE_INCONSISTENT' | 'ERR_EXPORT_SELECTION' | 'ERR_EXPORT_NOTHING' | 'ERR_EXPORT_KEY' | 'ERR_EXPORT_IO',
    message: string,
  ) {
    super(message);
  }
}

/** One log as a store holds it: every entry, and the checkpoint notes in the order they were signed. */
export interface LogSource {
  dir: string;
  origin: string;
  entries: readonly Uint8Array[];
  checkpoints: readonly string[];
}

/** Inclusive bounds on predicate.time, in milliseconds since the epoch. */
export interface TimeSelection {
  from?: number;
  to?: number;
}

/** Everything the pack holds for one log. */
export interface LogSection {
  dir: string;
  origin: string;
  from: number;
  size: number;
  root: Uint8Array;
  /** Entries [from, size). */
  entries: readonly Uint8Array[];
  rangeProof: readonly Hash[];
  checkpoints: ReadonlyArray<{ size: number; note: string }>;
  consistency: ReadonlyArray<{ a: number; b: number; proof: readonly Hash[] }>;
  /**
   * Entries before `from` that a verifier needs, each with its inclusion proof in the tree of
   * `size`: every trust node (the key history), the latest heartbeat (the interval in force) and
   * entry from - 1 (the prev link and Lamport input of the first entry). Empty when from = 0.
   */
  prior: ReadonlyArray<{ index: number; entry: Uint8Array; proof: readonly Hash[] }>;
}

export interface WindowPlan {
  section: LogSection | null;
  /** Why nothing, or not everything, was exported (for the export summary). */
  notes: string[];
  /** Entries stored after the latest checkpoint: never exported, a checkpoint does not cover them yet. */
  uncheckpointed: number;
}

interface OpenedCheckpoint {
  note: string;
  checkpoint: Checkpoint;
}

function openStored(src: LogSource): OpenedCheckpoint[] {
  const bySize = new Map<number, OpenedCheckpoint>();
  for (const note of src.checkpoints) {
    let checkpoint: Checkpoint;
    try {
      checkpoint = parseCheckpointText(parseNote(note).text);
    } catch (e) {
      throw new ExportError('ERR_EXPORT_STORE_INCONSISTENT', `log ${src.dir}: stored checkpoint cannot be parsed: ${(e as Error).message}`);
    }
    if (checkpoint.origin !== src.origin) {
      throw new ExportError('ERR_EXPORT_STORE_INCONSISTENT', `log ${src.dir}: checkpoint origin ${JSON.stringify(checkpoint.origin)} is not the log's origin ${JSON.stringify(src.origin)}`);
    }
    const earlier = bySize.get(checkpoint.size);
    if (earlier && !equalBytes(earlier.checkpoint.root, checkpoint.root)) {
      throw new ExportError('ERR_EXPORT_STORE_INCONSISTENT', `log ${src.dir}: two stored checkpoints of size ${checkpoint.size} with different roots`);
    }
    // A later note for the same tree head may carry more cosignatures: keep the last one.
    bySize.set(checkpoint.size, { note, checkpoint });
  }
  return [...bySize.values()].sort((a, b) => a.checkpoint.size - b.checkpoint.size);
}

function timeOf(suite: CryptoSuite, src: LogSource, i: number): number {
  try {
    return parseTime(decodeNode(suite, src.entries[i]!).statement.predicate.time);
  } catch (e) {
    throw new ExportError('ERR_EXPORT_STORE_INCONSISTENT', `log ${src.dir} entry ${i}: ${(e as Error).message}`);
  }
}

function priorIndexes(suite: CryptoSuite, src: LogSource, from: number): number[] {
  if (from === 0) return [];
  const out = new Set<number>([from - 1]);
  let heartbeat = -1;
  for (let i = 0; i < from; i++) {
    let kind: string;
    try {
      kind = decodeNode(suite, src.entries[i]!).kind;
    } catch (e) {
      throw new ExportError('ERR_EXPORT_STORE_INCONSISTENT', `log ${src.dir} entry ${i}: ${(e as Error).message}`);
    }
    if (kind === 'trust') out.add(i);
    if (kind === 'heartbeat') heartbeat = i;
  }
  if (heartbeat >= 0) out.add(heartbeat);
  return [...out].sort((a, b) => a - b);
}

/**
 * Plans one log's window. Entries are selected by time; the window then runs from the first
 * selected entry to the first checkpoint covering the last selected one (or the latest checkpoint).
 */
export function planWindow(suite: CryptoSuite, src: LogSource, sel: TimeSelection): WindowPlan {
  const cps = openStored(src);
  const latest = cps.at(-1);
  const notes: string[] = [];
  if (!latest || latest.checkpoint.size === 0) {
    return { section: null, notes: [`log ${src.dir}: no checkpoint covers any entry; nothing exported`], uncheckpointed: src.entries.length };
  }
  if (latest.checkpoint.size > src.entries.length) {
    throw new ExportError('ERR_EXPORT_STORE_INCONSISTENT', `log ${src.dir}: checkpoint of size ${latest.checkpoint.size} but only ${src.entries.length} entries are stored`);
  }
  const uncheckpointed = src.entries.length - latest.checkpoint.size;
  if (uncheckpointed > 0) notes.push(`log ${src.dir}: ${uncheckpointed} entries after the latest checkpoint (size ${latest.checkpoint.size}) are not exported`);
  const covered = latest.checkpoint.size;
  let first = 0;
  if (sel.from !== undefined) {
    first = -1;
    for (let i = 0; i < src.entries.length; i++) {
      if (timeOf(suite, src, i) >= sel.from) {
        first = i;
        break;
      }
    }
  }
  let last = covered - 1;
  if (sel.to !== undefined) {
    last = -1;
    for (let i = src.entries.length - 1; i >= 0; i--) {
      if (timeOf(suite, src, i) <= sel.to) {
        last = i;
        break;
      }
    }
  }
  if (first < 0 || last < first) return { section: null, notes: [...notes, `log ${src.dir}: no entry in the selected time range`], uncheckpointed };
  if (first >= covered) return { section: null, notes: [...notes, `log ${src.dir}: the selected entries all come after the latest checkpoint`], uncheckpointed };
  const end = cps.find((c) => c.checkpoint.size > last) ?? latest;
  if (last >= end.checkpoint.size) notes.push(`log ${src.dir}: selected entries ${end.checkpoint.size}..${last} are not covered by a checkpoint and are not exported`);
  return { section: buildSection(suite, src, cps, first, end.checkpoint.size), notes, uncheckpointed };
}

function buildSection(suite: CryptoSuite, src: LogSource, cps: OpenedCheckpoint[], from: number, size: number): LogSection {
  const tree = new CachedMerkleTree(suite);
  for (let i = 0; i < size; i++) tree.appendEntry(src.entries[i]!);
  const before = cps.filter((c) => c.checkpoint.size < from).at(-1);
  const included = [...(before ? [before] : []), ...cps.filter((c) => c.checkpoint.size >= from && c.checkpoint.size <= size)];
  for (const c of included) {
    const root = c.checkpoint.size === 0 ? suite.sha256(new Uint8Array(0)) : tree.root(c.checkpoint.size);
    if (!equalBytes(root, c.checkpoint.root)) {
      throw new ExportError('ERR_EXPORT_STORE_INCONSISTENT', `log ${src.dir}: checkpoint of size ${c.checkpoint.size} has root ${toBase64(c.checkpoint.root)} but the stored entries give ${toBase64(root)}`);
    }
  }
  const consistency = [];
  for (let i = 1; i < included.length; i++) {
    const a = included[i - 1]!.checkpoint.size;
    const b = included[i]!.checkpoint.size;
    consistency.push({ a, b, proof: tree.consistencyProof(a, b) });
  }
  return {
    dir: src.dir,
    origin: src.origin,
    from,
    size,
    prior: priorIndexes(suite, src, from).map((index) => ({ index, entry: src.entries[index]!, proof: tree.inclusionProof(index, size) })),
    root: included.at(-1)!.checkpoint.root,
    entries: src.entries.slice(from, size),
    rangeProof: tree.rangeProof(from, size, size),
    checkpoints: included.map((c) => ({ size: c.checkpoint.size, note: c.note })),
    consistency,
  };
}
