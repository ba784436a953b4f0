// Policy replay over a pack: every decision node is handed, with a read-only view of the pack's
// graph and content-addressed blobs, to a replayer that re-evaluates it from its recorded input
// under its pinned bundle (kernel/pep/replay.ts does that with the Guardian). The driver stays
// portable and knows nothing about policy; it reports identical decisions and names each
// divergence as a problem. Spec: docs/spec/evidence-pack.md §6.
import { isCrossLog, type HashRef, type ParentRef } from '../contracts/node.js';
import type { PackBlob } from './blobs.js';
import type { CheckedLog } from './graph-check.js';
import type { Findings } from './problems.js';

/** Problem code of a decision that does not replay (a pack problem, not a verdict's reason). */
export const REPLAY_DIVERGENCE = 'ERR_REPLAY_DIVERGENCE';

export interface ReplayNode {
  readonly origin: string;
  readonly index: number;
  readonly entryHash: HashRef;
  readonly kind: string;
  readonly time: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly parents: readonly ParentRef[];
}

export interface ReplayGraph {
  /** A node of the pack (window or prior entry) by log origin and entry hash. */
  node(origin: string, hash: string): ReplayNode | null;
  /** Nodes naming this one as a parent, in pack order. */
  children(origin: string, hash: string): readonly ReplayNode[];
  /** Every decoded window node, log by log in index order. */
  nodes(): readonly ReplayNode[];
  /** First index of a log's window (0 means the pack holds its whole history). */
  windowStart(origin: string): number | null;
  /** A blob whose bytes hash to its name and are canonical; null otherwise. */
  blob(kind: 'input' | 'policy', hex: string): Uint8Array | null;
}

export interface DecisionReplay {
  readonly status: 'identical' | 'diverged' | 'skipped';
  /** For diverged: each difference; for identical or skipped: what could not be re-derived. */
  readonly reasons: readonly string[];
  /** What the re-evaluation said, when it ran. */
  readonly replayed?: { readonly verdict: string; readonly reasonCode: string; readonly ruleIds: readonly string[] };
}

export type DecisionReplayer = (decision: ReplayNode, graph: ReplayGraph) => DecisionReplay;

export interface ReplayedDecision {
  origin: string;
  index: number;
  callId: string;
  recorded: { verdict: string; reasonCode: string; ruleIds: string[] };
  status: DecisionReplay['status'];
  replayed: DecisionReplay['replayed'] | null;
  reasons: string[];
}

export interface DecisionReplaySummary {
  decisions: number;
  identical: number;
  diverged: number;
  skipped: number;
  results: ReplayedDecision[];
}

export function replayGraph(logs: readonly CheckedLog[], blobs: readonly PackBlob[]): ReplayGraph {
  const byKey = new Map<string, ReplayNode>();
  const children = new Map<string, ReplayNode[]>();
  const all: ReplayNode[] = [];
  const key = (origin: string, hash: string): string => `${origin}\n${hash}`;
  for (const l of logs) {
    for (const cn of [...l.priorNodes, ...l.nodes]) {
      if (!cn.node) continue;
      const p = cn.node.statement.predicate;
      const n: ReplayNode = { origin: l.origin, index: cn.index, entryHash: cn.entryHash, kind: cn.node.kind, time: p.time, body: p.body, parents: p.parents };
      byKey.set(key(l.origin, cn.entryHash), n);
      if (cn.index >= l.from) all.push(n);
      for (const par of p.parents) {
        const k = key(isCrossLog(par) ? par.origin : l.origin, par.hash);
        let list = children.get(k);
        if (!list) children.set(k, (list = []));
        list.push(n);
      }
    }
  }
  const sound = new Map(blobs.filter((b) => b.sound).map((b) => [`${b.kind}\n${b.hex}`, b.data]));
  const starts = new Map(logs.map((l) => [l.origin, l.from]));
  return {
    node: (origin, hash) => byKey.get(key(origin, hash)) ?? null,
    children: (origin, hash) => children.get(key(origin, hash)) ?? [],
    nodes: () => all,
    windowStart: (origin) => starts.get(origin) ?? null,
    blob: (kind, hex) => sound.get(`${kind}\n${hex}`) ?? null,
  };
}

/** Runs the replayer over every decision of the pack's windows; divergences become problems. */
export function replayDecisions(logs: readonly CheckedLog[], graph: ReplayGraph, replayer: DecisionReplayer, f: Findings): DecisionReplaySummary {
  const summary: DecisionReplaySummary = { decisions: 0, identical: 0, diverged: 0, skipped: 0, results: [] };
  const files = new Map(logs.map((l) => [l.origin, l.file]));
  for (const n of graph.nodes()) {
    if (n.kind !== 'decision') continue;
    summary.decisions++;
    let r: DecisionReplay;
    try {
      r = replayer(n, graph);
    } catch (e) {
      r = { status: 'diverged', reasons: [`the replayer failed: ${(e as Error)?.message ?? String(e)}`] };
    }
    summary[r.status]++;
    const b = n.body;
    const recorded = { verdict: String(b.verdict), reasonCode: String(b.reasonCode), ruleIds: Array.isArray(b.ruleIds) ? b.ruleIds.map(String) : [] };
    summary.results.push({ origin: n.origin, index: n.index, callId: String(b.callId), recorded, status: r.status, replayed: r.replayed ?? null, reasons: [...r.reasons] });
    if (r.status === 'diverged') {
      const got = r.replayed ? `; replay gives ${describe(r.replayed)}` : '';
      f.problem(REPLAY_DIVERGENCE, files.get(n.origin) ?? n.origin, `call ${String(b.callId)}: recorded ${describe(recorded)}${got}: ${r.reasons.join('; ')}`, n.index);
    }
  }
  return summary;
}

function describe(d: { verdict: string; reasonCode: string; ruleIds: readonly string[] }): string {
  return `${d.verdict} ${d.reasonCode} [${d.ruleIds.join(', ')}]`;
}
