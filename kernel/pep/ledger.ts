// Budget counters and token buckets as the PEP last committed them. The Guardian judges a snapshot
// of them (part of the DecisionInput) and reports what an ALLOW consumes; the ledger commits that
// in the same tick, so concurrent calls see each other's reservations. Its durable copy is the
// `consumed` field of recorded ALLOW decisions, folded back in order on restart (apply).
import type { CompiledTool } from '../guardian/compile.js';
import { formatInstant, parseInstant, type LimitState } from '../guardian/decision-input.js';
import { limitKey, windowStartMs, type Consumption } from '../guardian/limits.js';

interface Counter {
  windowStart: string;
  calls: number;
  cost: number;
}

interface Bucket {
  tokens: number;
  updatedAt: string;
}

const slot = (id: string, key: string): string => `${id}\n${key}`;

export class LimitLedger {
  private readonly budgets = new Map<string, Counter>();
  private readonly rates = new Map<string, Bucket>();
  /** Bumped by every commit: a snapshot taken at another version is stale. */
  private version = 0;

  /**
   * The counters the Guardian needs for this call: the current window of each budget (zero when
   * the stored counter belongs to an earlier window) and each bucket (full when never used).
   */
  /** The version a call without limit state (an A2A call: no tool) commits against. */
  get currentVersion(): number {
    return this.version;
  }

  snapshot(tool: CompiledTool, principalId: string, nowMs: number): { state: LimitState; version: number } {
    const state: LimitState = { budgets: {}, rates: {} };
    for (const b of tool.budgets) {
      const key = limitKey(b.scope, principalId, tool.name);
      const current = windowStartMs(nowMs, b.windowSeconds);
      const c = this.budgets.get(slot(b.id, key));
      const start = c ? parseInstant(c.windowStart) : null;
      // A counter from a later window (possible only if a bundle changed the window) is passed
      // through: the Guardian denies BUDGET_ERROR rather than guessing.
      state.budgets[b.id] = c && start !== null && start >= current ? { key, windowStart: c.windowStart, calls: c.calls, cost: c.cost } : { key, windowStart: formatInstant(current), calls: 0, cost: 0 };
    }
    for (const r of tool.rateLimits) {
      const key = limitKey(r.scope, principalId, tool.name);
      const s = this.rates.get(slot(r.id, key));
      // A bundle that lowered the capacity caps the stored tokens rather than failing every call.
      state.rates[r.id] = s ? { key, tokens: Math.min(s.tokens, r.capacity), updatedAt: s.updatedAt } : { key, tokens: r.capacity, updatedAt: formatInstant(nowMs) };
    }
    return { state, version: this.version };
  }

  /** Commits an ALLOW's consumption; refuses (returns a message) when the snapshot is stale. */
  commit(c: Consumption, snapshotVersion: number): string | null {
    if (snapshotVersion !== this.version) return `limit state changed since the snapshot (version ${snapshotVersion}, now ${this.version})`;
    this.apply(c);
    return null;
  }

  /** Folds a recorded consumption in (restart), in log order. */
  apply(c: Consumption): void {
    this.version++;
    for (const b of c.budgets) {
      const k = slot(b.id, b.key);
      const cur = this.budgets.get(k);
      if (!cur || cur.windowStart < b.windowStart) this.budgets.set(k, { windowStart: b.windowStart, calls: b.calls, cost: b.cost });
      else if (cur.windowStart === b.windowStart) this.budgets.set(k, { windowStart: b.windowStart, calls: cur.calls + b.calls, cost: cur.cost + b.cost });
    }
    for (const r of c.rates) this.rates.set(slot(r.id, r.key), { tokens: r.after.tokens, updatedAt: r.after.updatedAt });
  }

  /** For tests and diagnostics: the stored counter of one budget scope key. */
  budget(id: string, key: string): Counter | null {
    const c = this.budgets.get(slot(id, key));
    return c ? { ...c } : null;
  }
}
