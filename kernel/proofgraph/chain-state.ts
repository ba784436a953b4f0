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

/**
 * How many of the latest entries a writer knows the Lamport value of, to accept them as same-log
 * parents. A same-log parent never raises a node's Lamport value (the log's own last value is at
 * least as high), so the index only proves the parent is in the log; the kernel cites recent nodes
 * (an intent, a decision the PEP still holds: at most MAX_DECISIONS decisions, each a few entries).
 * Bounded so that memory and the start-up snapshot do not grow with the log's length.
 */
export const PARENT_WINDOW = 500_000;

/** Map.set that forgets the oldest keys past `window` (Maps iterate in insertion order, here index order). */
export function rememberLamport(lamports: Map<string, number>, hash: string, lamport: number, window: number): void {
  lamports.set(hash, lamport);
  while (lamports.size > window) lamports.delete(lamports.keys().next().value as string);
}

export class ChainFold {
  readonly lamports = new Map<string, number>();
  readonly trustEvents = new Set<string>();
  lastHash: HashRef | null = null;
  lastLamport = 0;
  lastTimeMs = 0;
  last: ChainSnapshot['last'] = null;

  constructor(
    private readonly suite: CryptoSuite,
    readonly window: number = PARENT_WINDOW,
  ) {}

  apply(entry: Uint8Array): void {
    this.applyNode(decodeNode(this.suite, entry));
  }

  applyNode(node: FoldedNode): void {
    const p = node.statement.predicate;
    rememberLamport(this.lamports, node.entryHash, p.lamport, this.window);
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

  static from(s: ChainSnapshot, suite: CryptoSuite, window: number = PARENT_WINDOW): ChainFold {
    const f = new ChainFold(suite, window);
    // A snapshot written before the window existed holds every entry: keep its latest ones.
    for (const [h, l] of s.lamports.slice(Math.max(0, s.lamports.length - window))) f.lamports.set(h, l);
    for (const t of s.trustEvents) f.trustEvents.add(t);
    f.lastHash = s.lastHash;
    f.lastLamport = s.lastLamport;
    f.lastTimeMs = s.lastTimeMs;
    f.last = s.last ? { ...s.last } : null;
    return f;
  }
}
