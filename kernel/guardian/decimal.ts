// Exact decimals (docs/spec/policy-bundle.md §1.1). A JSON number with a fractional part is the
// exact decimal written by its shortest round-trip text (ECMAScript Number::toString, which is also
// what RFC 8785 prints). With at most 15 significant digits that text IS the number the sender
// wrote (every such decimal survives the trip through a binary64 double unchanged), so comparing
// the doubles orders the decimals exactly and the JCS bytes are the same on every machine.
// Arithmetic on them is done here in scaled integers, never in binary floating point.

/** At most this many significant digits: every such decimal round-trips through a double. */
export const DECIMAL_MAX_DIGITS = 15;
/** At most this many digits after the decimal point. */
export const DECIMAL_MAX_SCALE = 15;

/** value = coef × 10^(−scale), normalised: no trailing zeros in coef when scale > 0. */
export interface Decimal {
  readonly coef: bigint;
  readonly scale: number;
}

const NUMBER_TEXT = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

/** The exact decimal a finite number's shortest round-trip text denotes. */
export function decimalOf(n: number): Decimal {
  if (!Number.isFinite(n)) throw new RangeError(`${n} is not a finite number`);
  const m = NUMBER_TEXT.exec(String(n));
  if (!m) throw new RangeError(`unexpected number text ${String(n)}`);
  const frac = m[3] ?? '';
  const coef = BigInt(`${m[1]}${m[2]}${frac}`);
  return normalise({ coef, scale: frac.length - Number(m[4] ?? '0') });
}

function normalise(d: Decimal): Decimal {
  let { coef, scale } = d;
  if (coef === 0n) return { coef: 0n, scale: 0 };
  while (scale > 0 && coef % 10n === 0n) {
    coef /= 10n;
    scale -= 1;
  }
  return { coef, scale };
}

function significantDigits(d: Decimal): number {
  const s = (d.coef < 0n ? -d.coef : d.coef).toString().replace(/0+$/, '');
  return s === '' ? 0 : s.length;
}

/**
 * Why a number is outside the decision profile, or null when it is in it: safe integers, and
 * non-integers whose decimal has at most DECIMAL_MAX_DIGITS significant digits and
 * DECIMAL_MAX_SCALE fractional digits.
 */
export function numberProblem(n: number): string | null {
  if (!Number.isFinite(n)) return `number ${n} is not finite`;
  if (Number.isInteger(n)) return Number.isSafeInteger(n) ? null : `integer ${n} is outside ±(2^53−1)`;
  return decimalProblem(decimalOf(n), String(n));
}

/** True when n is a non-integer outside the decimal limits (as opposed to a bad integer). */
export function isImpreciseDecimal(n: number): boolean {
  return Number.isFinite(n) && !Number.isInteger(n) && numberProblem(n) !== null;
}

function decimalProblem(d: Decimal, shown: string): string | null {
  if (significantDigits(d) > DECIMAL_MAX_DIGITS) return `decimal ${shown} has more than ${DECIMAL_MAX_DIGITS} significant digits`;
  if (d.scale > DECIMAL_MAX_SCALE) return `decimal ${shown} has more than ${DECIMAL_MAX_SCALE} digits after the point`;
  return null;
}

/** Thrown by decimal arithmetic whose exact result is outside the profile (a rule error). */
export class DecimalRangeError extends Error {
  readonly code = 'ERR_DECIMAL_PRECISION';
  constructor(message: string) {
    super(`exact decimal ${message}`);
  }
}

function text(d: Decimal): string {
  return d.scale <= 0 ? `${d.coef}${'0'.repeat(-d.scale)}` : `${d.coef}e-${d.scale}`;
}

/** Plain positional text (for messages): 12.5, -0.000001. */
export function plainText(d: Decimal): string {
  if (d.scale <= 0) return text(d);
  const neg = d.coef < 0n;
  const digits = (neg ? -d.coef : d.coef).toString().padStart(d.scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -d.scale)}.${digits.slice(-d.scale)}`;
}

/** The double of an in-profile decimal (exact: the decimal is that double's shortest text). */
export function toNumber(d: Decimal, op: string): number {
  const n = normalise(d);
  const shown = plainText(n);
  const problem = decimalProblem(n, shown);
  if (problem) throw new DecimalRangeError(`${op}: exact result ${problem}`);
  const v = Number(text(n));
  if (Number.isInteger(v) && !Number.isSafeInteger(v)) throw new DecimalRangeError(`${op}: exact result ${shown} is outside ±(2^53−1)`);
  return Object.is(v, -0) ? 0 : v;
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const s = Math.max(a.scale, b.scale);
  return [a.coef * 10n ** BigInt(s - a.scale), b.coef * 10n ** BigInt(s - b.scale), s];
}

export function decimalAdd(x: number, y: number): number {
  const [a, b, s] = align(decimalOf(x), decimalOf(y));
  return toNumber({ coef: a + b, scale: s }, '+');
}

export function decimalSubtract(x: number, y: number): number {
  const [a, b, s] = align(decimalOf(x), decimalOf(y));
  return toNumber({ coef: a - b, scale: s }, '-');
}

export function decimalMultiply(x: number, y: number): number {
  const a = decimalOf(x);
  const b = decimalOf(y);
  return toNumber({ coef: a.coef * b.coef, scale: a.scale + b.scale }, '*');
}

/** Exact quotient; a quotient that does not terminate within DECIMAL_MAX_SCALE digits is an error. */
export function decimalDivide(x: number, y: number): number {
  const a = decimalOf(x);
  const b = decimalOf(y);
  if (b.coef === 0n) throw new DecimalRangeError('/: division by zero');
  // a/b = (a.coef × 10^k / b.coef) × 10^−(a.scale − b.scale + k); k gives DECIMAL_MAX_SCALE digits.
  const k = DECIMAL_MAX_SCALE - a.scale + b.scale;
  const num = k >= 0 ? a.coef * 10n ** BigInt(k) : a.coef;
  const den = k >= 0 ? b.coef : b.coef * 10n ** BigInt(-k);
  if (num % den !== 0n) throw new DecimalRangeError(`/: ${x} / ${y} is not an exact decimal within ${DECIMAL_MAX_SCALE} digits after the point`);
  return toNumber({ coef: num / den, scale: DECIMAL_MAX_SCALE }, '/');
}

/** Exact divisibility, for schema `multipleOf` with a decimal divisor. */
export function isDecimalMultiple(x: number, of: number): boolean {
  const [a, b] = align(decimalOf(x), decimalOf(of));
  return b !== 0n && a % b === 0n;
}
