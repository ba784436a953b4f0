// Node-level checks that need no trust: every entry decodes (canonical JSON, schema, subject
// digest), sits where it says (origin, index), chains to its predecessor (prev), keeps time
// non-decreasing, and carries the Lamport clock its prev and parents imply. Shared by the verifier
// and by replay. Portable.
import type { CryptoSuite } from '../crypto/suite.js';
import { decodeNode, hashRef, isCrossLog, NodeFormatError, type DecodedNode, type HashRef, type ParentRef } from '../contracts/node.js';
import { parseTime } from '../proofgraph/clock.js';
import type { Findings } from './problems.js';

/**
 * The result of decoding one entry: the node, or the decoder's error. A parallel decoder also
 * hands back the entry's RFC 6962 leaf hash, so the log check need not hash it again.
 */
export type DecodeOutcome = ({ node: DecodedNode } | { error: { code: string; message: string } }) & { leaf?: Uint8Array };

/** Decodes every entry; the node verifier supplies a parallel implementation. */
export type DecodeMany = (lines: readonly Uint8Array[]) => Promise<DecodeOutcome[]>;

export function decodeInline(suite: CryptoSuite, line: Uint8Array): DecodeOutcome {
  try {
    return { node: decodeNode(suite, line) };
  } catch (e) {
    if (!(e instanceof NodeFormatError)) throw e;
    return { error: { code: e.code, message: e.message } };
  }
}

/** A node from before the window, carried with an inclusion proof (checked elsewhere). */
export interface PriorEntry {
  index: number;
  file: string;
  line: Uint8Array;
  decoded?: DecodeOutcome;
}

export interface GraphLog {
  dir: string;
  origin: string;
  from: number;
  /** Member path of entries.jsonl, for findings. */
  file: string;
  lines: readonly Uint8Array[];
  /** Pre-decoded lines (same order), when decoding ran elsewhere. */
  decoded?: readonly DecodeOutcome[];
  prior?: readonly PriorEntry[];
}

export interface CheckedNode {
  index: number;
  /** Member the node came from: entries.jsonl, or a prior/<index>.entry file. */
  file: string;
  entryHash: HashRef;
  /** null when the entry does not decode. */
  node: DecodedNode | null;
  /** Milliseconds, when the time parses. */
  timeMs: number | null;
}

export interface CheckedLog extends GraphLog {
  nodes: CheckedNode[];
  byHash: Map<HashRef, number>;
  /** Prior nodes in index order, and by entry hash. */
  priorNodes: CheckedNode[];
  priorByHash: Map<HashRef, CheckedNode>;
}

function decodeOne(suite: CryptoSuite, line: Uint8Array, index: number, file: string, f: Findings, pre?: DecodeOutcome): CheckedNode {
  const outcome = pre ?? decodeInline(suite, line);
  const node = 'node' in outcome ? outcome.node : null;
  if ('error' in outcome) f.problem('ERR_NODE_MALFORMED', file, `${outcome.error.code}: ${outcome.error.message}`, index);
  let timeMs: number | null = null;
  if (node) {
    try {
      timeMs = parseTime(node.statement.predicate.time);
    } catch (e) {
      f.problem('ERR_NODE_TIME', file, (e as Error).message, index);
    }
  }
  return { index, file, entryHash: node?.entryHash ?? hashRef(suite, line), node, timeMs };
}

function decodeAll(suite: CryptoSuite, log: GraphLog, f: Findings): CheckedLog {
  const nodes = log.lines.map((line, i) => decodeOne(suite, line, log.from + i, log.file, f, log.decoded?.[i]));
  const byHash = new Map<HashRef, number>();
  nodes.forEach((n, i) => {
    if (!byHash.has(n.entryHash)) byHash.set(n.entryHash, i);
  });
  const priorNodes = [...(log.prior ?? [])].sort((a, b) => a.index - b.index).map((p) => decodeOne(suite, p.line, p.index, p.file, f, p.decoded));
  return { ...log, nodes, byHash, priorNodes, priorByHash: new Map(priorNodes.map((n) => [n.entryHash, n])) };
}

// broken: the input is already reported as an error, so the node's Lamport value is not judged.
type Lamport = { known: true; value: number } | { known: false; why: string; broken?: true };

const BROKEN: Lamport = { known: false, why: 'bad parent link', broken: true };

function lamportOf(n: CheckedNode | undefined, what: string): Lamport {
  return n?.node ? { known: true, value: n.node.statement.predicate.lamport } : { known: false, why: `${what} does not decode` };
}

function lamportAt(l: CheckedLog, line: number): Lamport {
  return lamportOf(l.nodes[line], `entry ${l.from + line} of ${l.dir}`);
}

/** A parent in the node's own log: by hash, or by (origin, index, hash) naming its own origin. */
function sameLogParent(l: CheckedLog, line: number, par: ParentRef, at: (code: string, message: string) => void): Lamport {
  const self = l.from + line;
  const target = l.byHash.get(par.hash);
  const named = isCrossLog(par) ? par.index : null;
  if (target !== undefined) {
    if (target >= line) at('ERR_NODE_PARENT_ORDER', `parent ${par.hash} is entry ${l.from + target}, not before this node`);
    else if (named !== null && named !== l.from + target) at('ERR_NODE_PARENT_MISMATCH', `parent ${par.hash} is entry ${l.from + target}, not ${named}`);
    else return lamportAt(l, target);
    return BROKEN;
  }
  const prior = l.priorByHash.get(par.hash);
  if (prior && (named === null || named === prior.index)) return lamportOf(prior, `prior entry ${prior.index}`);
  if (named !== null && named >= self) {
    at('ERR_NODE_PARENT_ORDER', `parent index ${named} is not before the node's own index ${self}`);
  } else if (named !== null && named >= l.from) {
    at('ERR_NODE_PARENT_MISMATCH', `parent ${l.origin}#${named} has hash ${l.nodes[named - l.from]!.entryHash}, not ${par.hash}`);
  } else if (named === null && l.from === 0) {
    at('ERR_NODE_PARENT_UNKNOWN', `parent ${par.hash} is not an earlier entry of this log`);
  } else {
    return { known: false, why: `parent ${par.hash} is not in the pack (the window starts at ${l.from})` };
  }
  return BROKEN;
}

function checkPrior(l: CheckedLog, f: Findings): void {
  for (const cn of l.priorNodes) {
    const p = cn.node?.statement.predicate;
    if (!p) continue;
    if (cn.index >= l.from) f.problem('ERR_PRIOR_UNEXPECTED', cn.file, `prior entry ${cn.index} is not before the window start ${l.from}`, cn.index);
    if (p.origin !== l.origin) f.problem('ERR_NODE_ORIGIN', cn.file, `node says origin ${JSON.stringify(p.origin)} but it is in log ${JSON.stringify(l.origin)}`, cn.index);
    if (p.index !== cn.index) f.problem('ERR_NODE_INDEX', cn.file, `node says index ${p.index} but the pack files it as entry ${cn.index}`, cn.index);
  }
}

/**
 * Decodes and structurally checks every log. Parents are resolved by hash in the same log (window
 * or prior entries), or by (origin, index, hash) in another log of the pack; a parent the pack does
 * not hold is a warning, and the Lamport value of that node is then only checked as a lower bound.
 */
export function checkGraph(suite: CryptoSuite, logs: readonly GraphLog[], f: Findings): CheckedLog[] {
  const checked = logs.map((l) => decodeAll(suite, l, f));
  const byOrigin = new Map<string, CheckedLog>();
  for (const l of checked) {
    if (byOrigin.has(l.origin)) f.problem('ERR_MANIFEST_DUPLICATE_ORIGIN', 'MANIFEST.json', `logs ${byOrigin.get(l.origin)!.dir} and ${l.dir} have the same origin ${JSON.stringify(l.origin)}`);
    else byOrigin.set(l.origin, l);
  }
  for (const l of checked) {
    checkPrior(l, f);
    const before = l.priorNodes.find((n) => n.index === l.from - 1);
    l.nodes.forEach((cn, line) => {
      const n = cn.node;
      if (!n) return;
      const p = n.statement.predicate;
      const at = (code: string, message: string): void => f.problem(code, cn.file, message, cn.index);
      if (p.origin !== l.origin) at('ERR_NODE_ORIGIN', `node says origin ${JSON.stringify(p.origin)} but it is in log ${JSON.stringify(l.origin)}`);
      if (p.index !== cn.index) at('ERR_NODE_INDEX', `node says index ${p.index} but it is entry ${cn.index} of the log: nodes were dropped, inserted or reordered`);
      const prevNode = line > 0 ? l.nodes[line - 1]! : before;
      const inputs: Lamport[] = [];
      if (cn.index === 0) {
        if (p.prev !== null) at('ERR_NODE_PREV', 'the first node of a log must have prev null');
      } else if (p.prev === null) {
        at('ERR_NODE_PREV', `node ${cn.index} has prev null; only index 0 may`);
      } else if (prevNode) {
        if (p.prev !== prevNode.entryHash) at('ERR_NODE_PREV', `prev ${p.prev} is not the hash ${prevNode.entryHash} of entry ${prevNode.index}`);
        inputs.push(lamportOf(prevNode, `entry ${prevNode.index}`));
      } else {
        inputs.push({ known: false, why: `its predecessor ${cn.index - 1} is not in the pack` });
      }
      if (prevNode && cn.timeMs !== null && prevNode.timeMs !== null && cn.timeMs < prevNode.timeMs) {
        at('ERR_NODE_TIME_ORDER', `time ${p.time} is before the previous node's time`);
      }
      for (const par of p.parents) {
        if (!isCrossLog(par) || par.origin === l.origin) {
          inputs.push(sameLogParent(l, line, par, at));
          continue;
        }
        const other = byOrigin.get(par.origin);
        const line2 = other ? par.index - other.from : -1;
        const hit = other && line2 >= 0 && line2 < other.nodes.length ? other.nodes[line2]! : other?.priorNodes.find((x) => x.index === par.index);
        if (!hit) {
          inputs.push({ known: false, why: `parent ${par.origin}#${par.index} is not in the pack` });
          continue;
        }
        if (hit.entryHash !== par.hash) {
          at('ERR_NODE_PARENT_MISMATCH', `parent ${par.origin}#${par.index} has hash ${hit.entryHash}, not ${par.hash}`);
          inputs.push(BROKEN);
          continue;
        }
        inputs.push(lamportOf(hit, `entry ${par.index} of ${other!.dir}`));
      }
      const known = inputs.filter((x): x is { known: true; value: number } => x.known).map((x) => x.value);
      const floor = 1 + Math.max(0, ...known);
      const unknown = inputs.filter((x): x is { known: false; why: string; broken?: true } => !x.known);
      if (unknown.some((u) => u.broken)) return;
      if (unknown.length === 0) {
        if (p.lamport !== floor) at('ERR_NODE_LAMPORT', `lamport ${p.lamport} should be ${floor} (1 + max of prev and parents)`);
      } else if (p.lamport < floor) {
        at('ERR_NODE_LAMPORT', `lamport ${p.lamport} is not above its known predecessors (needs at least ${floor})`);
      } else {
        f.warning('W_LAMPORT_UNVERIFIED', cn.file, `lamport not fully checked: ${unknown.map((u) => u.why).join('; ')}`, cn.index);
      }
    });
  }
  return checked;
}
