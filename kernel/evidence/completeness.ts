// Completeness: silence is evidence too (docs/spec/receipt.md §Lifecycle rules). A window that
// starts at index 0 must start with a `start` heartbeat, and a silence longer than twice the latest
// declared heartbeat interval between two consecutive nodes must be explained: the earlier node is a
// `shutdown` heartbeat, or the later node is a `gap` whose window covers the silence. Index
// contiguity is checked elsewhere (entry count and per-node index). Portable.
import { parseTime } from '../proofgraph/clock.js';
import type { CheckedLog } from './graph-check.js';
import type { Findings } from './problems.js';

interface HeartbeatBody {
  reason: string;
  intervalUs: number;
}
interface GapBody {
  from: string;
  to: string;
}

function ms(t: string): number | null {
  try {
    return parseTime(t);
  } catch {
    return null;
  }
}

export function checkCompleteness(log: CheckedLog, f: Findings): void {
  const first = log.nodes[0];
  if (log.from === 0 && first) {
    const b = first.node?.statement.predicate.body as unknown as HeartbeatBody | undefined;
    if (first.node && !(first.node.kind === 'heartbeat' && b?.reason === 'start')) {
      f.problem('ERR_COMPLETENESS_NO_START', first.file, `the log starts with a ${first.node.kind} node, not a start heartbeat`, 0);
    }
  }
  // Entries before the window (carried as prior entries) supply the interval in force and the
  // node just before the window, so the first silence can be judged too.
  let intervalUs: number | null = null;
  for (const n of log.priorNodes) if (n.node?.kind === 'heartbeat') intervalUs = (n.node.statement.predicate.body as unknown as HeartbeatBody).intervalUs;
  const before = log.priorNodes.find((n) => n.index === log.from - 1);
  const seq = before ? [before, ...log.nodes] : log.nodes;
  let warned = false;
  for (let i = 0; i < seq.length; i++) {
    const cur = seq[i]!;
    const prev = i > 0 ? seq[i - 1]! : null;
    if (prev && prev.node && cur.node && prev.timeMs !== null && cur.timeMs !== null) {
      const silenceUs = (cur.timeMs - prev.timeMs) * 1000;
      if (intervalUs === null) {
        if (!warned && silenceUs > 0) {
          warned = true;
          f.warning('W_SILENCE_UNCHECKED', cur.file, `no heartbeat before entry ${cur.index} in the pack declares an interval, so silences before the first heartbeat are not checked`, cur.index);
        }
      } else if (silenceUs > 2 * intervalUs && !explained(prev, cur, 2 * intervalUs)) {
        f.problem(
          'ERR_COMPLETENESS_SILENCE',
          cur.file,
          `${(silenceUs / 1e6).toFixed(3)} s of silence after entry ${prev.index} (${prev.node.statement.predicate.time}) exceeds 2 x the heartbeat interval of ${intervalUs / 1e6} s and no gap node explains it`,
          cur.index,
        );
      }
    }
    if (cur.node?.kind === 'heartbeat') intervalUs = (cur.node.statement.predicate.body as unknown as HeartbeatBody).intervalUs;
  }
}

type Node = CheckedLog['nodes'][number];

function explained(prev: Node, cur: Node, allowedUs: number): boolean {
  const pb = prev.node!.statement.predicate.body as unknown as HeartbeatBody;
  if (prev.node!.kind === 'heartbeat' && pb.reason === 'shutdown') return true;
  if (cur.node!.kind !== 'gap') return false;
  const g = cur.node!.statement.predicate.body as unknown as GapBody;
  const from = ms(g.from);
  const to = ms(g.to);
  if (from === null || to === null || from > to) return false;
  // The uncovered stretches at either end of the silence must each be short enough on their own.
  return Math.max(0, from - prev.timeMs!) * 1000 <= allowedUs && Math.max(0, cur.timeMs! - to) * 1000 <= allowedUs;
}
