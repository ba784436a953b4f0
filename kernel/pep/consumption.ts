// What an escalated call consumes once its approval lets it through. The Guardian reports a
// consumption only for ALLOW (an ESCALATE consumes nothing yet); the granted retry is charged
// exactly what the same snapshot would charge an ALLOW, computed by the Guardian's own functions
// so replay derives the same numbers.
import type { CompiledBundle } from '../guardian/compile.js';
import { parseInstant, type DecisionInput } from '../guardian/decision-input.js';
import { consumption, limitViews, type Consumption } from '../guardian/limits.js';

export function consumptionFor(bundle: CompiledBundle, input: DecisionInput): Consumption | string {
  const tool = bundle.tools.get(input.tool);
  if (!tool) return `tool ${input.tool} is not declared`;
  const now = parseInstant(input.time);
  if (now === null) return `time ${input.time} is not an instant`;
  const views = limitViews(tool.budgets, tool.rateLimits, input.state, input.principal.id, tool.name, now, tool.cost);
  return views.ok ? consumption(views) : views.message;
}
