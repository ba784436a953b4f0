// PEP state snapshots (docs/spec/store.md §Start-up snapshots): the fold of rebuild.ts written out
// at a log size, so a start folds only the entries after it. A snapshot is only ever made by the
// fold itself (never from the live state, which holds reservations not yet durable), and it is
// exactly what a full rebuild of the same prefix gives: the tests compare the two.
import type { CryptoSuite } from '../crypto/suite.js';
import type { Ceremony } from './ceremony.js';
import type { IntentBody } from './request.js';
import { PepFold, rebuildState, type RebuildReport } from './rebuild.js';
import { PepState, type DecisionInfo, type EffectInfo, type UsedKey } from './state.js';

/** Plain JSON of a PepState and the fold's waiting intents. */
export interface PepSnapshot {
  lastMs: number;
  decisions: Array<[string, DecisionInfo]>;
  effects: Array<[string, EffectInfo]>;
  usedKeys: Array<[string, UsedKey]>;
  allowsByCall: Array<[string, string]>;
  allowsByArgs: Array<[string, string]>;
  ledger: { budgets: Array<[string, unknown]>; rates: Array<[string, unknown]>; version: number };
  /** Every ceremony once (by nonce), then the two indexes by nonce. */
  ceremonies: Ceremony[];
  ceremonyByDecision: Array<[string, string]>;
  ceremonyOpen: Array<[string, string]>;
  intents: Array<[string, IntentBody]>;
  decisionsFolded: number;
}

// The ledger and the ceremony book keep their maps private; the snapshot reads and restores them
// as they are (same objects, same keys), which the round-trip test pins down.
interface LedgerMaps {
  budgets: Map<string, unknown>;
  rates: Map<string, unknown>;
  version: number;
}
interface BookMaps {
  byNonce: Map<string, Ceremony>;
  byDecision: Map<string, Ceremony>;
  open: Map<string, Ceremony>;
}

const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export function snapshotOf(fold: PepFold): PepSnapshot {
  const s = fold.state;
  const ledger = s.ledger as unknown as LedgerMaps;
  const book = s.ceremonies as unknown as BookMaps;
  return copy({
    lastMs: s.lastMs,
    decisions: [...s.decisions],
    effects: [...s.effects],
    usedKeys: [...s.usedKeys],
    allowsByCall: [...s.allowsByCall],
    allowsByArgs: [...s.allowsByArgs],
    ledger: { budgets: [...ledger.budgets], rates: [...ledger.rates], version: ledger.version },
    ceremonies: [...book.byNonce.values()],
    ceremonyByDecision: [...book.byDecision].map(([d, c]) => [d, c.nonce] as [string, string]),
    ceremonyOpen: [...book.open].map(([k, c]) => [k, c.nonce] as [string, string]),
    intents: [...fold.intents],
    decisionsFolded: fold.decisions,
  });
}

/**
 * Restores a snapshot into `state` (fresh, empty) and returns the fold to continue from it. Takes
 * ownership of `snap`'s objects (a freshly parsed file or a snapshotOf copy): no second copy.
 */
export function foldFromSnapshot(state: PepState, snap: PepSnapshot, suite: CryptoSuite): PepFold {
  const x = snap;
  state.lastMs = x.lastMs;
  for (const [k, v] of x.decisions) state.decisions.set(k, v);
  for (const [k, v] of x.effects) state.effects.set(k, v);
  for (const [k, v] of x.usedKeys) state.usedKeys.set(k, v);
  for (const [k, v] of x.allowsByCall) state.allowsByCall.set(k, v as never);
  for (const [k, v] of x.allowsByArgs) state.allowsByArgs.set(k, v as never);
  const ledger = state.ledger as unknown as LedgerMaps;
  for (const [k, v] of x.ledger.budgets) ledger.budgets.set(k, v);
  for (const [k, v] of x.ledger.rates) ledger.rates.set(k, v);
  ledger.version = x.ledger.version;
  const book = state.ceremonies as unknown as BookMaps;
  for (const c of x.ceremonies) book.byNonce.set(c.nonce, c);
  const byNonce = (n: string): Ceremony => {
    const c = book.byNonce.get(n);
    if (!c) throw new Error(`snapshot names ceremony ${n} that it does not hold`);
    return c;
  };
  for (const [d, n] of x.ceremonyByDecision) book.byDecision.set(d, byNonce(n));
  for (const [k, n] of x.ceremonyOpen) book.open.set(k, byNonce(n));
  const fold = new PepFold(state, suite);
  for (const [k, v] of x.intents) fold.intents.set(k, v);
  fold.decisions = x.decisionsFolded;
  return fold;
}

/** A fresh state from a snapshot (the fold that keeps the next snapshot runs on its own copy). */
export function stateFromSnapshot(snap: PepSnapshot, suite: CryptoSuite): PepFold {
  return foldFromSnapshot(new PepState(), snap, suite);
}

/**
 * The PEP's start: the fold of the log's first `size` entries, continued from a start-up snapshot
 * the writer checked against the log (only the entries after it are decoded), or rebuilt from the
 * first entry when there is none. Both give the same state (test/pep/snapshot.test.ts).
 */
/** `entries` start at log index `first` (a tail read), which must not be after the snapshot's size. */
export function restoreState(state: PepState, entries: readonly Uint8Array[], first: number, size: number, suite: CryptoSuite, snap: { size: number; pep: unknown } | null): RebuildReport & { from: number } {
  const fold = snap ? foldFromSnapshot(state, snap.pep as PepSnapshot, suite) : new PepFold(state, suite);
  const from = snap?.size ?? 0;
  if (first > from) throw new Error(`the log was read from index ${first}, after the fold's start ${from}`);
  // The log may have grown past what was read (a heartbeat during the start): count what was folded.
  const upto = Math.min(size, first + entries.length);
  for (const e of entries.slice(from - first, upto - first)) fold.apply(e);
  return { nodes: upto, decisions: fold.decisions, from, snapshot: snapshotOf(fold) };
}
