// metav1.LabelSelector matching, as the API server does it: matchLabels and matchExpressions are
// ANDed; an empty selector matches everything. A malformed selector matches nothing (fail closed).
import { isObject, stringMap } from './json.js';

export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  if (selector === undefined || selector === null) return true;
  if (!isObject(selector)) return false;
  const want = stringMap(selector.matchLabels);
  for (const [k, v] of Object.entries(want)) if (labels[k] !== v) return false;
  const exprs = selector.matchExpressions;
  if (exprs === undefined) return true;
  if (!Array.isArray(exprs)) return false;
  for (const e of exprs) {
    if (!isObject(e) || typeof e.key !== 'string' || typeof e.operator !== 'string') return false;
    const values = Array.isArray(e.values) ? e.values.filter((x): x is string => typeof x === 'string') : [];
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
