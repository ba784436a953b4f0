// The writer's chain state as a fold over its log: what an append needs from the past (the last
// hash, Lamport value and time, the Lamport value of any same-log parent, the trust events already
// recorded) and how the previous run ended. Snapshotted with the PEP state (start-snapshot.ts).
import type { CryptoSuite } from '../crypto/suite.js';
import { jcs } from '../crypto/jcs.js';
import { decodeNode, hashRef, type FoldedNode, type HashRef } from '../contracts/node.js';
import { parseTime } from './clock.js';

export interface ChainSnapshot {
  lastHash: HashRef | null;
  lastLamport: number;
  lastTimeMs: number;
  lamports: Array<[string, number]>;
  trustEvents: string[];
  /** The last node: its kind, heartbeat reason and time (an unclean stop is judged from it). */
  last: { kind: string; reason: string | null; time: string } | null;
}

export class ChainFold {
  readonly lamports = new Map<string, number>();
  readonly trustEvents = new Set<string>();
  lastHash: HashRef | null = null;
  lastLamport = 0;
  lastTimeMs = 0;
  last: ChainSnapshot['last'] = null;

  constructor(private readonly suite: CryptoSuite) {}

  apply(entry: Uint8Array): void {
    this.applyNode(decodeNode(this.suite, entry));
  }

  applyNode(node: FoldedNode): void {
    const p = node.statement.predicate;
    this.lamports.set(node.entryHash, p.lamport);
    this.lastHash = node.entryHash;
    this.lastLamport = p.lamport;
    this.lastTimeMs = parseTime(p.time);
    const body = p.body as { reason?: unknown; event?: unknown };
    if (node.kind === 'trust') this.trustEvents.add(hashRef(this.suite, jcs(body.event)));
    this.last = { kind: node.kind, reason: typeof body.reason === 'string' ? body.reason : null, time: p.time };
  }

  snapshot(): ChainSnapshot {
    return { lastHash: this.lastHash, lastLamport: this.lastLamport, lastTimeMs: this.lastTimeMs, lamports: [...this.lamports], trustEvents: [...this.trustEvents], last: this.last ? { ...this.last } : null };
  }

  static from(s: ChainSnapshot, suite: CryptoSuite): ChainFold {
    const f = new ChainFold(suite);
    for (const [h, l] of s.lamports) f.lamports.set(h, l);
    for (const t of s.trustEvents) f.trustEvents.add(t);
    f.lastHash = s.lastHash;
    f.lastLamport = s.lastLamport;
    f.lastTimeMs = s.lastTimeMs;
    f.last = s.last ? { ...s.last } : null;
    return f;
  }
}
