// Budgets (fixed windows aligned to the Unix epoch) and token-bucket rate limits, evaluated
// against a snapshot the caller supplies. Nothing here mutates state: the verdict reports what it
// would consume and the state store commits that atomically (or refuses if the snapshot is stale).
import type { Budget, LimitScope, RateLimit } from './bundle-types.js';
import { formatInstant, parseInstant, type LimitState } from './decision-input.js';

/** Scope key of a counter: JSON text, so no principal or tool name can forge another's key. */
export function limitKey(scope: LimitScope, principalId: string, toolName: string): string {
  switch (scope) {
    case 'principal':
      return JSON.stringify(['principal', principalId]);
    case 'tool':
      return JSON.stringify(['tool', toolName]);
    case 'principal-tool':
      return JSON.stringify(['principal-tool', principalId, toolName]);
  }
}

export function windowStartMs(nowMs: number, windowSeconds: number): number {
  const w = windowSeconds * 1000;
  return Math.floor(nowMs / w) * w;
}

export interface BudgetView {
  readonly id: string;
  readonly key: string;
  readonly windowStart: string;
  /** Usage in the current window before this call. */
  readonly calls: number;
  readonly cost: number;
  readonly maxCalls: number | null;
  readonly maxCost: number | null;
  /** Cost units this call charges. */
  readonly charge: number;
}

export interface RateView {
  readonly id: string;
  readonly key: string;
  readonly capacity: number;
  readonly before: { readonly tokens: number; readonly updatedAt: string };
  /** The bucket after refill up to now, before this call takes its token. */
  readonly refilled: { readonly tokens: number; readonly updatedAt: string };
  /** Milliseconds until the next token when the bucket is empty. */
  readonly retryAfterMs: number;
}

export interface Consumption {
  readonly budgets: ReadonlyArray<{ id: string; key: string; windowStart: string; calls: number; cost: number }>;
  /** The store must find `before` still current and then write `after` (compare-and-set). */
  readonly rates: ReadonlyArray<{ id: string; key: string; tokens: number; before: { tokens: number; updatedAt: string }; after: { tokens: number; updatedAt: string } }>;
}

export type LimitViews = { ok: true; budgets: BudgetView[]; rates: RateView[] } | { ok: false; message: string };

/** The counters the caller must supply for one call: what a state store loads before evaluating. */
export function requiredCounters(budgets: readonly Budget[], rates: readonly RateLimit[], principalId: string, toolName: string, nowMs: number) {
  return {
    budgets: budgets.map((b) => ({ id: b.id, key: limitKey(b.scope, principalId, toolName), windowStart: formatInstant(windowStartMs(nowMs, b.windowSeconds)) })),
    rates: rates.map((r) => ({ id: r.id, key: limitKey(r.scope, principalId, toolName) })),
  };
}

/**
 * Rolls budget windows and refills buckets up to `nowMs`. Missing, mismatched or future-dated
 * state is an error (BUDGET_ERROR): without it the evaluator could not tell an exhausted budget
 * from a fresh one, and guessing "fresh" would fail open.
 */
export function limitViews(budgets: readonly Budget[], rates: readonly RateLimit[], state: LimitState, principalId: string, toolName: string, nowMs: number, charge: number): LimitViews {
  const bViews: BudgetView[] = [];
  for (const b of budgets) {
    const key = limitKey(b.scope, principalId, toolName);
    const c = Object.hasOwn(state.budgets, b.id) ? state.budgets[b.id] : undefined;
    if (!c) return { ok: false, message: `no state for budget ${b.id}` };
    if (c.key !== key) return { ok: false, message: `budget ${b.id} state is for ${c.key}, not ${key}` };
    const current = windowStartMs(nowMs, b.windowSeconds);
    const start = parseInstant(c.windowStart);
    if (start === null || start > current) return { ok: false, message: `budget ${b.id} state window ${c.windowStart} is after the current window` };
    const fresh = start < current;
    bViews.push({
      id: b.id,
      key,
      windowStart: formatInstant(current),
      calls: fresh ? 0 : c.calls,
      cost: fresh ? 0 : c.cost,
      maxCalls: b.maxCalls ?? null,
      maxCost: b.maxCost ?? null,
      charge,
    });
  }
  const rViews: RateView[] = [];
  for (const r of rates) {
    const key = limitKey(r.scope, principalId, toolName);
    const s = Object.hasOwn(state.rates, r.id) ? state.rates[r.id] : undefined;
    if (!s) return { ok: false, message: `no state for rate limit ${r.id}` };
    if (s.key !== key) return { ok: false, message: `rate limit ${r.id} state is for ${s.key}, not ${key}` };
    const updated = parseInstant(s.updatedAt);
    if (updated === null || updated > nowMs) return { ok: false, message: `rate limit ${r.id} state was updated after now (${s.updatedAt})` };
    if (s.tokens > r.capacity) return { ok: false, message: `rate limit ${r.id} state holds ${s.tokens} tokens, above capacity ${r.capacity}` };
    const intervals = Math.floor((nowMs - updated) / r.refillIntervalMs);
    // Compare before multiplying so a long idle period cannot overflow.
    const full = intervals >= Math.ceil((r.capacity - s.tokens) / r.refillTokens);
    const tokens = full ? r.capacity : s.tokens + intervals * r.refillTokens;
    const updatedAt = full ? nowMs : updated + intervals * r.refillIntervalMs;
    rViews.push({
      id: r.id,
      key,
      capacity: r.capacity,
      before: { tokens: s.tokens, updatedAt: s.updatedAt },
      refilled: { tokens, updatedAt: formatInstant(updatedAt) },
      retryAfterMs: tokens >= 1 ? 0 : updatedAt + r.refillIntervalMs - nowMs,
    });
  }
  return { ok: true, budgets: bViews, rates: rViews };
}

export type LimitCheck = { ok: true } | { ok: false; reasonCode: 'BUDGET_EXCEEDED' | 'TEMPORAL_THROTTLE'; id: string; message: string; retryAfterMs?: number };

export function checkLimits(v: { budgets: readonly BudgetView[]; rates: readonly RateView[] }): LimitCheck {
  for (const b of v.budgets) {
    if (b.maxCalls !== null && b.calls + 1 > b.maxCalls) return { ok: false, reasonCode: 'BUDGET_EXCEEDED', id: b.id, message: `budget ${b.id}: ${b.calls} of ${b.maxCalls} calls used in the window from ${b.windowStart}` };
    if (b.maxCost !== null && b.cost + b.charge > b.maxCost) return { ok: false, reasonCode: 'BUDGET_EXCEEDED', id: b.id, message: `budget ${b.id}: ${b.cost} + ${b.charge} cost units exceeds ${b.maxCost}` };
  }
  for (const r of v.rates) {
    if (r.refilled.tokens < 1) return { ok: false, reasonCode: 'TEMPORAL_THROTTLE', id: r.id, message: `rate limit ${r.id} is empty`, retryAfterMs: r.retryAfterMs };
  }
  return { ok: true };
}

export function consumption(v: { budgets: readonly BudgetView[]; rates: readonly RateView[] }): Consumption {
  return {
    budgets: v.budgets.map((b) => ({ id: b.id, key: b.key, windowStart: b.windowStart, calls: 1, cost: b.charge })),
    rates: v.rates.map((r) => ({ id: r.id, key: r.key, tokens: 1, before: { ...r.before }, after: { tokens: r.refilled.tokens - 1, updatedAt: r.refilled.updatedAt } })),
  };
}
