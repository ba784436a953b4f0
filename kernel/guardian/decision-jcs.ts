// RFC 8785 text of values in the decision profile: the signed-payload profile of receipt.md plus
// exact decimals (decimal.ts). Non-integers print as ECMAScript Number::toString prints them, which
// is what RFC 8785 prescribes and, for in-profile decimals, the decimal the sender wrote; so the
// bytes are deterministic across machines. Used for bundles and DecisionInputs, never for receipts.
import { CanonicalizationError, jcsProfileString, type JcsNumberRule } from '../crypto/jcs.js';
import { isImpreciseDecimal, numberProblem } from './decimal.js';

/** A number with a fractional part beyond the decimal limits (reason DECIMAL_PRECISION_EXCEEDED). */
export class DecimalPrecisionError extends CanonicalizationError {}

const decimal: JcsNumberRule = (n, path) => {
  const problem = numberProblem(n);
  if (problem) throw isImpreciseDecimal(n) ? new DecimalPrecisionError(problem, path()) : new CanonicalizationError(problem, path());
  return Object.is(n, -0) ? '0' : String(n);
};

export function jcsDecisionString(value: unknown, path = ''): string {
  return jcsProfileString(value, decimal, path);
}
