// metav1.LabelSelector matching: matchLabels AND every matchExpression; an empty selector
// matches everything (Kubernetes semantics); invalid operators match nothing.
import type { LabelSelector } from '../api/v1alpha1.js';

export function matchesSelector(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(l[e.key]!)) return false; break;
      case 'NotIn': if (has && values.includes(l[e.key]!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** Problems that make a selector unusable (the API server accepts them; we report them). */
export function selectorProblems(selector: LabelSelector | undefined, field: string): string[] {
  const out: string[] = [];
  for (const [i, e] of (selector?.matchExpressions ?? []).entries()) {
    const n = e.values?.length ?? 0;
    if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0) out.push(`${field}.matchExpressions[${i}]: operator ${e.operator} needs values`);
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0) out.push(`${field}.matchExpressions[${i}]: operator ${e.operator} takes no values`);
  }
  return out;
}
