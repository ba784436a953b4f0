// Exact decimals (docs/spec/policy-bundle.md §1.1): amounts like 12.5 are decided exactly, at the
// boundary and under arithmetic, beyond-limit precision is refused with its own code, and the
// canonical bytes (so inputDigest) are a deterministic function of the decimal.
import canonicalize from 'canonicalize';
import { canonicalDecisionInput, compileBundle, evaluate, type PolicyBundleDoc } from '../../kernel/guardian/index.js';
import { decimalAdd, decimalDivide, decimalMultiply, decimalSubtract } from '../../kernel/guardian/decimal.js';
import { call, compiled, exampleDoc, signedPolicy, suite } from './helpers.js';

function payDoc(rules: PolicyBundleDoc['rules'], amountSchema: Record<string, unknown> = { type: 'number' }): PolicyBundleDoc {
  const d = exampleDoc();
  d.tools['billing.pay'] = {
    domain: 'billing',
    sideEffect: 'write',
    connectors: ['payments-api'],
    args: { type: 'object', properties: { amount: amountSchema, fee: { type: 'number' } }, required: ['amount'] },
  } as PolicyBundleDoc['tools'][string];
  d.rules.push(...rules);
  return d;
}

const limitDoc = payDoc([{ id: 'pay-up-to-100', match: { tools: ['billing.pay'] }, when: 'args.amount <= 100.00', verdict: 'ALLOW' }]);
const limitBundle = compiled(limitDoc);
const limitPolicy = signedPolicy(limitDoc);
const pay = (args: Record<string, unknown>) => call(limitBundle, 'billing.pay', args, { connector: 'payments-api' });

describe('decimal amounts in decision inputs', () => {
  it('admits 12.5 (it was ENVELOPE_INVALID: integers only)', () => {
    const d = evaluate(limitPolicy, pay({ amount: 12.5 }));
    expect([d.verdict, d.reasonCode]).toEqual(['ALLOW', 'ALLOWED']);
  });

  it.each([
    [100.0, 'ALLOW', 'ALLOWED'],
    [99.99, 'ALLOW', 'ALLOWED'],
    [100.01, 'DENY', 'MISSING_REQUIREMENT'],
    [100.000000000001, 'DENY', 'MISSING_REQUIREMENT'],
  ])('compares %p with the limit 100.00 exactly', (amount, verdict, code) => {
    const d = evaluate(limitPolicy, pay({ amount }));
    expect([d.verdict, d.reasonCode]).toEqual([verdict, code]);
  });

  it.each([
    ['more than 15 significant digits', 0.30000000000000004],
    ['more than 15 digits after the point', 1e-16],
    ['the float sum 0.1 + 0.2', 0.1 + 0.2],
  ])('refuses a decimal with %s as DECIMAL_PRECISION_EXCEEDED', (_why, amount) => {
    const d = evaluate(limitPolicy, pay({ amount }));
    expect([d.verdict, d.reasonCode]).toEqual(['DENY', 'DECIMAL_PRECISION_EXCEEDED']);
    expect(d.detail).toMatch(/decimal .* (significant digits|digits after the point)/);
  });

  it('keeps integers beyond 2^53 as ENVELOPE_INVALID', () => {
    expect(evaluate(limitPolicy, pay({ amount: 2 ** 53 + 2 })).reasonCode).toBe('ENVELOPE_INVALID');
  });

  it('canonical bytes are the shortest round-trip text, equal to RFC 8785, whatever the source spelling', () => {
    const a = canonicalDecisionInput(JSON.parse(JSON.stringify(pay({ amount: 1 })).replace('"amount":1', '"amount":12.50')));
    const b = canonicalDecisionInput(JSON.parse(JSON.stringify(pay({ amount: 1 })).replace('"amount":1', '"amount":1.25e1')));
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.jcs).toContain('"amount":12.5');
    expect(a.jcs).toBe(b.jcs);
    expect(a.jcs).toBe(canonicalize(a.input));
    const da = evaluate(limitPolicy, a.input);
    expect(da.inputDigest).toBe(evaluate(limitPolicy, b.input).inputDigest);
    // Re-deciding from the stored canonical text gives the same decision byte for byte.
    expect(JSON.stringify(evaluate(limitPolicy, JSON.parse(a.jcs)))).toBe(JSON.stringify(da));
  });
});

describe('exact decimal arithmetic in rules', () => {
  const sumDoc = payDoc([{ id: 'sum-up-to-0.3', match: { tools: ['billing.pay'] }, when: 'args.amount + args.fee <= 0.3 && args.amount + args.fee == 0.3', verdict: 'ALLOW' }]);
  const sumPolicy = signedPolicy(sumDoc);
  const sumBundle = compiled(sumDoc);

  it('0.1 + 0.2 == 0.3 holds', () => {
    const d = evaluate(sumPolicy, call(sumBundle, 'billing.pay', { amount: 0.1, fee: 0.2 }, { connector: 'payments-api' }));
    expect([d.verdict, d.reasonCode]).toEqual(['ALLOW', 'ALLOWED']);
  });

  it('an amount that arrives as an integer (100.00 is the JSON integer 100) mixes exactly with a decimal', () => {
    const mixDoc = payDoc([{ id: 'mix', match: { tools: ['billing.pay'] }, when: 'args.amount + args.fee <= 100.5 && args.fee * 2 == 1', verdict: 'ALLOW' }]);
    const decide = (amount: number, fee: number) => evaluate(signedPolicy(mixDoc), call(compiled(mixDoc), 'billing.pay', { amount, fee }, { connector: 'payments-api' })).reasonCode;
    expect(decide(100.0, 0.5)).toBe('ALLOWED');
    expect(decide(100.01, 0.5)).toBe('MISSING_REQUIREMENT');
  });

  it('a quotient that does not terminate is an evaluation error (fail closed)', () => {
    const divDoc = payDoc([{ id: 'third', match: { tools: ['billing.pay'] }, when: 'args.amount / 3.0 > 0.0', verdict: 'ALLOW' }]);
    const d = evaluate(signedPolicy(divDoc), call(compiled(divDoc), 'billing.pay', { amount: 1.5 }, { connector: 'payments-api' }));
    expect(d.verdict).toBe('ALLOW'); // 1.5 / 3 = 0.5 exactly
    const e = evaluate(signedPolicy(divDoc), call(compiled(divDoc), 'billing.pay', { amount: 1.1 }, { connector: 'payments-api' }));
    expect([e.verdict, e.reasonCode]).toEqual(['DENY', 'PRG_EVALUATION_ERROR']);
    expect(e.detail).toMatch(/not an exact decimal/);
  });

  it('decimal helpers are exact and refuse results beyond the limits', () => {
    expect(decimalAdd(0.1, 0.2)).toBe(0.3);
    expect(decimalSubtract(0.3, 0.1)).toBe(0.2);
    expect(decimalMultiply(1.1, 1.1)).toBe(1.21);
    expect(decimalDivide(1, 8)).toBe(0.125);
    expect(decimalAdd(-0.5, 0.5)).toBe(0);
    expect(() => decimalMultiply(0.123456789, 0.123456789)).toThrow(/significant digits/);
    expect(() => decimalDivide(1, 0)).toThrow(/division by zero/);
  });

  it('a double literal beyond the limits is a lint error', () => {
    const bad = payDoc([{ id: 'bad-literal', match: { tools: ['billing.pay'] }, when: 'args.amount <= 0.30000000000000004', verdict: 'ALLOW' }]);
    const c = compileBundle(bad, suite);
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.errors.some((e) => e.code === 'ERR_CEL' && /significant digits/.test(e.message))).toBe(true);
  });
});

describe('decimals in argument schemas', () => {
  const schemaDoc = payDoc([{ id: 'pay', match: { tools: ['billing.pay'] }, verdict: 'ALLOW' }], { type: 'number', exclusiveMinimum: 0, maximum: 99.99, multipleOf: 0.01 });
  const schemaPolicy = signedPolicy(schemaDoc);
  const schemaBundle = compiled(schemaDoc);
  const decide = (amount: number) => evaluate(schemaPolicy, call(schemaBundle, 'billing.pay', { amount }, { connector: 'payments-api' }));

  it.each([
    [99.99, 'ALLOWED'],
    [0.07, 'ALLOWED'],
    [12.3, 'ALLOWED'],
    [99.991, 'SCHEMA_VIOLATION'],
    [100, 'SCHEMA_VIOLATION'],
    [0.075, 'SCHEMA_VIOLATION'],
  ])('maximum 99.99 and multipleOf 0.01 decide %p exactly', (amount, code) => {
    expect(decide(amount).reasonCode).toBe(code);
  });
});
