// Remaining budget of the sidecar's principal, read at scrape time from the PEP's committed
// counters (the same numbers the next decision would be judged against). A sidecar has one
// principal, so the series count is bounded by the bundle's budgets times its declared tools.
import { parseInstant } from '../../kernel/guardian/decision-input.js';
import { limitKey, windowStartMs } from '../../kernel/guardian/limits.js';
import type { Pep } from '../../kernel/pep/index.js';
import type { BudgetRow } from './metrics.js';

export function budgetRows(pep: Pep, principalId: string, nowMs: number): BudgetRow[] {
  const policy = pep.policy;
  if (policy.status !== 'ready') return [];
  const rows: BudgetRow[] = [];
  const seen = new Set<string>();
  for (const tool of policy.bundle.tools.values()) {
    for (const b of tool.budgets) {
      const key = limitKey(b.scope, principalId, tool.name);
      if (seen.has(`${b.id}\n${key}`)) continue;
      seen.add(`${b.id}\n${key}`);
      const stored = pep.budgetCounter(b.id, key);
      const current = windowStartMs(nowMs, b.windowSeconds);
      const used = stored && parseInstant(stored.windowStart) === current ? stored : { calls: 0, cost: 0 };
      const label = { budget: b.id, scope: b.scope, tool: b.scope === 'principal' ? '' : tool.name };
      if (b.maxCalls !== undefined) rows.push({ ...label, unit: 'calls', remaining: Math.max(0, b.maxCalls - used.calls) });
      if (b.maxCost !== undefined) rows.push({ ...label, unit: 'cost', remaining: Math.max(0, b.maxCost - used.cost) });
    }
  }
  return rows;
}
