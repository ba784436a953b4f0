// Replay: re-derive every node of a pack now, without a trust policy: decode, recompute entry
// hashes, subject digests, the prev chain, Lamport clocks and each window's Merkle root, then list
// the causal chains (intent -> decision -> effect -> result, by parent links). Signatures and
// checkpoints are the verifier's business; replay answers "what happened, and does it hang
// together". Portable.
import { equalBytes, toBase64 } from '../crypto/bytes.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { isCrossLog, type HashRef } from '../contracts/node.js';
import { leafHash, rootFromRange } from '../proofgraph/merkle.js';
import { checkFiles } from './file-check.js';
import { checkBlobs, refsOfLogs } from './blobs.js';
import { replayDecisions, replayGraph, type DecisionReplayer, type DecisionReplaySummary } from './decision-replay.js';
import { checkGraph, type CheckedLog, type CheckedNode, type PriorEntry } from './graph-check.js';
import { readPrior } from './log-structure.js';
import { LineFormatError, parseHashLines, splitLines } from './hash-lines.js';
import { entriesPath, MANIFEST_PATH, rangeProofPath } from './layout.js';
import type { PackLimits } from './limits.js';
import { ManifestError, parseManifest, rootOf, type Manifest } from './manifest.js';
import { isUnreadable, PackError } from './pack-error.js';
import { openPack } from './pack-reader.js';
import { Findings, type Problem } from './problems.js';

export interface NodeRef {
  origin: string;
  index: number;
  entryHash: HashRef;
  lamport: number;
  time: string;
}

export interface CausalChain {
  callId: string;
  tool: string | null;
  intent: NodeRef | null;
  decision: (NodeRef & { verdict: string; reasonCode: string }) | null;
  approvals: Array<NodeRef & { verdict: string; approver: string }>;
  effect: (NodeRef & { status: string; confirmed: boolean }) | null;
  result: (NodeRef & { status: string }) | null;
  /** Every step from intent to result is in the pack. */
  complete: boolean;
}

export interface ReplayReport {
  ok: boolean;
  readable: boolean;
  logs: Array<{ dir: string; origin: string; from: number; size: number; entries: number; kinds: Record<string, number> }>;
  chains: CausalChain[];
  /** Policy replay of every decision (when a replayer was given). */
  decisions: DecisionReplaySummary | null;
  problems: Problem[];
  warnings: Problem[];
}

export interface ReplayOptions {
  suite: CryptoSuite;
  limits?: Partial<PackLimits>;
  /**
   * Re-evaluates each decision from its recorded input and pinned bundle (kernel/pep/replay.ts).
   * Injected so this module stays portable and policy-agnostic.
   */
  decisions?: DecisionReplayer;
}

type Located = { log: CheckedLog; cn: CheckedNode };

function ref(x: Located): NodeRef {
  const p = x.cn.node!.statement.predicate;
  return { origin: x.log.origin, index: x.cn.index, entryHash: x.cn.entryHash, lamport: p.lamport, time: p.time };
}

function body(x: Located): Record<string, unknown> {
  return x.cn.node!.statement.predicate.body;
}

function rederiveRoots(suite: CryptoSuite, files: ReadonlyMap<string, Uint8Array>, manifest: Manifest, lines: Map<string, Uint8Array[]>, prior: Map<string, PriorEntry[]>, f: Findings): void {
  for (const log of manifest.logs) {
    prior.set(log.dir, readPrior(suite, files, log, rootOf(log), f));
    const ePath = entriesPath(log.dir);
    const data = files.get(ePath);
    if (!data) {
      f.problem('ERR_LOG_FILE_MISSING', ePath, `log ${log.dir} has no entries.jsonl`);
      lines.set(log.dir, []);
      continue;
    }
    const split = splitLines(data);
    lines.set(log.dir, split.lines);
    if (split.unterminated) f.problem('ERR_ENTRIES_MALFORMED', ePath, 'the last entry line does not end in a newline', log.from + split.lines.length - 1);
    if (split.lines.length !== log.size - log.from) {
      f.problem('ERR_ENTRIES_COUNT', ePath, `${split.lines.length} entry lines for the window [${log.from}, ${log.size})`);
      continue;
    }
    const rPath = rangeProofPath(log.dir);
    try {
      const proof = parseHashLines(files.get(rPath) ?? new Uint8Array(0), 128);
      const root = rootFromRange(suite, log.size, log.from, split.lines.map((l) => leafHash(suite, l)), proof);
      if (!equalBytes(root, rootOf(log))) f.problem('ERR_ROOT_MISMATCH', ePath, `entries give root ${toBase64(root)}, the manifest says ${log.root}`);
    } catch (e) {
      f.problem('ERR_RANGE_PROOF_MALFORMED', rPath, e instanceof LineFormatError ? e.message : (e as Error).message);
    }
  }
}

function chainsOf(logs: readonly CheckedLog[], f: Findings): CausalChain[] {
  const byKey = new Map<string, Located>();
  const children = new Map<string, Located[]>();
  const key = (origin: string, hash: string): string => `${origin}\n${hash}`;
  for (const log of logs) for (const cn of log.nodes) if (cn.node) byKey.set(key(log.origin, cn.entryHash), { log, cn });
  for (const log of logs) {
    for (const cn of log.nodes) {
      if (!cn.node) continue;
      for (const p of cn.node.statement.predicate.parents) {
        const k = key(isCrossLog(p) ? p.origin : log.origin, p.hash);
        let list = children.get(k);
        if (!list) children.set(k, (list = []));
        list.push({ log, cn });
      }
    }
  }
  const childOf = (x: Located, kinds: readonly string[]): Located | null =>
    (children.get(key(x.log.origin, x.cn.entryHash)) ?? []).find((c) => kinds.includes(c.cn.node!.kind)) ?? null;
  const parentOf = (x: Located, kind: string): Located | null => {
    for (const p of x.cn.node!.statement.predicate.parents) {
      const hit = byKey.get(key(isCrossLog(p) ? p.origin : x.log.origin, p.hash));
      if (hit?.cn.node!.kind === kind) return hit;
    }
    return null;
  };

  const chains: CausalChain[] = [];
  for (const log of logs) {
    for (const cn of log.nodes) {
      const kind = cn.node?.kind;
      const here: Located = { log, cn };
      // A chain starts at an intent, or at a decision whose intent the pack does not hold.
      if (kind !== 'intent' && !(kind === 'decision' && !parentOf(here, 'intent'))) continue;
      const intent = kind === 'intent' ? here : null;
      const decision = intent ? childOf(intent, ['decision']) : here;
      const effect = decision ? childOf(decision, ['effect']) : null;
      const result = effect ? childOf(effect, ['result']) : decision ? childOf(decision, ['result']) : null;
      const approvals = decision ? (children.get(key(decision.log.origin, decision.cn.entryHash)) ?? []).filter((c) => c.cn.node!.kind === 'approval') : [];
      const steps = [intent, decision, effect, result].filter((x): x is Located => x !== null);
      const callId = String(body(steps[0]!).callId);
      for (const s of steps.slice(1)) {
        if (body(s).callId !== callId) f.warning('W_CHAIN_CALL_ID', s.log.file, `${s.cn.node!.kind} has callId ${String(body(s).callId)} but its chain is for ${callId}`, s.cn.index);
      }
      chains.push({
        callId,
        tool: typeof body(steps[0]!).tool === 'string' ? (body(steps[0]!).tool as string) : null,
        intent: intent ? ref(intent) : null,
        decision: decision ? { ...ref(decision), verdict: String(body(decision).verdict), reasonCode: String(body(decision).reasonCode) } : null,
        approvals: approvals.map((a) => ({ ...ref(a), verdict: String(body(a).verdict), approver: String(body(a).approver) })),
        effect: effect ? { ...ref(effect), status: String(body(effect).status), confirmed: body(effect).confirmed === true } : null,
        result: result ? { ...ref(result), status: String(body(result).status) } : null,
        // A denied call has no effect or result by design; it is complete once decided.
        complete: intent !== null && decision !== null && (body(decision).verdict !== 'ALLOW' || (effect !== null && result !== null)),
      });
    }
  }
  return chains;
}

export function replayPack(bytes: Uint8Array, opts: ReplayOptions): ReplayReport {
  const f = new Findings();
  const done = (partial: Partial<ReplayReport>): ReplayReport => {
    const problems = f.sorted('problems');
    return { ok: problems.length === 0, readable: true, logs: [], chains: [], decisions: null, ...partial, problems, warnings: f.sorted('warnings') };
  };
  let files: Map<string, Uint8Array>;
  try {
    files = openPack(bytes, opts.limits);
  } catch (e) {
    if (!(e instanceof PackError)) throw e;
    f.problem(e.code, e.path, e.message);
    return done({ readable: !isUnreadable(e.code) });
  }
  const mBytes = files.get(MANIFEST_PATH);
  let manifest: Manifest;
  try {
    if (!mBytes) throw new ManifestError('ERR_MANIFEST_NOT_JSON', 'the pack has no MANIFEST.json');
    manifest = parseManifest(mBytes);
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    f.problem(mBytes ? e.code : 'ERR_MANIFEST_MISSING', MANIFEST_PATH, e.message);
    return done({});
  }
  checkFiles(opts.suite, files, manifest, f);
  const lines = new Map<string, Uint8Array[]>();
  const prior = new Map<string, PriorEntry[]>();
  rederiveRoots(opts.suite, files, manifest, lines, prior, f);
  const checked = checkGraph(
    opts.suite,
    manifest.logs.map((l) => ({ dir: l.dir, origin: l.origin, from: l.from, file: entriesPath(l.dir), lines: lines.get(l.dir)!, prior: prior.get(l.dir)! })),
    f,
  );
  const logs = checked.map((l) => {
    const kinds: Record<string, number> = {};
    for (const n of l.nodes) kinds[n.node?.kind ?? 'undecodable'] = (kinds[n.node?.kind ?? 'undecodable'] ?? 0) + 1;
    const m = manifest.logs.find((x) => x.dir === l.dir)!;
    return { dir: l.dir, origin: l.origin, from: m.from, size: m.size, entries: l.nodes.length, kinds };
  });
  const blobs = checkBlobs(opts.suite, files, refsOfLogs(checked), f);
  const decisions = opts.decisions ? replayDecisions(checked, replayGraph(checked, blobs), opts.decisions, f) : null;
  return done({ logs, chains: chainsOf(checked, f), decisions });
}
