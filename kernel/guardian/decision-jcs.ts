// RFC 8785 text of values in the decision profile: the signed-payload profile of receipt.md plus
// exact decimals (decimal.ts). Non-integers print as ECMAScript Number::toString prints them, which
// is what RFC 8785 prescribes and, for in-profile decimals, the decimal the sender wrote; so the
// bytes are deterministic across machines. Used for bundles and DecisionInputs, never for receipts.
import { CanonicalizationError } from '../crypto/jcs.js';
import { isImpreciseDecimal, numberProblem } from './decimal.js';

/** A number with a fractional part beyond the decimal limits (reason DECIMAL_PRECISION_EXCEEDED). */
export class DecimalPrecisionError extends CanonicalizationError {}

export function jcsDecisionString(value: unknown, path = ''): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number': {
      const problem = numberProblem(value);
      if (problem) throw isImpreciseDecimal(value) ? new DecimalPrecisionError(problem, path) : new CanonicalizationError(problem, path);
      return Object.is(value, -0) ? '0' : String(value);
    }
    case 'string': {
      const s = JSON.stringify(value);
      if (s.includes('\\ud') && !value.isWellFormed()) throw new CanonicalizationError('string contains a lone surrogate', path);
      return s;
    }
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + jcsDecisionString(value[i], `${path}[${i}]`);
        return out + ']';
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw new CanonicalizationError('not a plain object', path);
      const keys = Object.keys(value).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = (value as Record<string, unknown>)[k];
        if (v === undefined) throw new CanonicalizationError(`property "${k}" is undefined`, path);
        const ks = JSON.stringify(k);
        if (ks.includes('\\ud') && !k.isWellFormed()) throw new CanonicalizationError('key contains a lone surrogate', path);
        out += (first ? '' : ',') + ks + ':' + jcsDecisionString(v, `${path}.${k}`);
        first = false;
      }
      return out + '}';
    }
    default:
      throw new CanonicalizationError(`unsupported type ${typeof value}`, path);
  }
}
