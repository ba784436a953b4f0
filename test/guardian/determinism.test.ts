// Determinism and fail-closed properties of evaluation.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jcsSignedString } from '../../kernel/crypto/jcs.js';
import { portableSuite } from '../../kernel/crypto/portable.js';
import { canonicalDecisionInput, compileBundle, evaluate, inputDigest, isReasonCode, loadPolicy, MAX_INPUT_DEPTH, signBundle, REASON_CODES } from '../../kernel/guardian/index.js';
import { repoRoot } from '../support/shared.js';
import { bundleSigner, call, compiled, exampleDoc, signedPolicy, suite, T, trust } from './helpers.js';

const bundle = compiled();
const policy = signedPolicy();
const depthCall = () => call(bundle, 'crm.lookup_customer', { customerId: 'cus_12345678' });
const base = call(bundle, 'tickets.update', { ticketId: 7, note: { body: 'x' } }, { principal: { id: 'agent:sup-1', roles: ['support'], attributes: { team: 'emea' } }, context: { session: 's1' } });

describe('determinism', () => {
  it('the same input twice gives byte-identical JCS output', () => {
    const a = jcsSignedString(evaluate(policy, base));
    const b = jcsSignedString(evaluate(policy, JSON.parse(JSON.stringify(base))));
    expect(b).toBe(a);
  });

  it('the node and the portable crypto suites decide identically', () => {
    const doc = exampleDoc();
    const portable = loadPolicy({ bundle: doc, signature: signBundle(doc, bundleSigner, portableSuite) }, trust, portableSuite);
    for (const input of [base, { ...base, tool: 'nope' }, { ...base, args: { ticketId: 'x' } }, 42]) {
      expect(jcsSignedString(evaluate(portable, input))).toBe(jcsSignedString(evaluate(policy, input)));
    }
  });

  it('evaluation keeps no state between calls and does not mutate its input', () => {
    const other = call(bundle, 'billing.refund', { paymentId: 'p', amountCents: 20000 });
    const frozen = JSON.stringify(base);
    const first = jcsSignedString(evaluate(policy, base));
    evaluate(policy, other);
    evaluate(policy, { ...base, args: { ticketId: '7' } });
    expect(jcsSignedString(evaluate(policy, base))).toBe(first);
    expect(JSON.stringify(base)).toBe(frozen);
  });

  it('omitted optional fields and their explicit defaults are the same canonical input', () => {
    const minimal = { callId: 'c', surface: 'cli', principal: { id: 'p' }, tool: 't', args: {}, time: T, policyDigest: bundle.contentHash };
    const explicit = { ...minimal, principal: { id: 'p', roles: [], attributes: {} }, connector: null, sandbox: null, context: {}, state: { budgets: {}, rates: {} } };
    const a = canonicalDecisionInput(minimal);
    const b = canonicalDecisionInput(explicit);
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) expect(inputDigest(a.input, suite)).toBe(inputDigest(b.input, suite));
  });

  const c = (x: unknown) => {
    const r = canonicalDecisionInput(x);
    if (!r.ok) throw new Error(r.message);
    return r.input;
  };
  const mutations: Array<[string, (i: typeof base) => unknown]> = [
    ['callId', (i) => ({ ...i, callId: 'call-2' })],
    ['surface', (i) => ({ ...i, surface: 'rest' })],
    ['principal.id', (i) => ({ ...i, principal: { ...i.principal, id: 'agent:sup-2' } })],
    ['principal.roles', (i) => ({ ...i, principal: { ...i.principal, roles: ['support', 'junior'] } })],
    ['principal.attributes', (i) => ({ ...i, principal: { ...i.principal, attributes: { team: 'apac' } } })],
    ['tool', (i) => ({ ...i, tool: 'crm.lookup_customer' })],
    ['args (nested value)', (i) => ({ ...i, args: { ticketId: 7, note: { body: 'y' } } })],
    ['connector', (i) => ({ ...i, connector: 'crm-api' })],
    ['sandbox', (i) => ({ ...i, sandbox: 'no-network' })],
    ['context', (i) => ({ ...i, context: { session: 's2' } })],
    ['time (one millisecond)', (i) => ({ ...i, time: '2026-11-22T10:15:00.001Z' })],
    ['policyDigest', (i) => ({ ...i, policyDigest: `sha256:${'a'.repeat(64)}` })],
    ['budget state', (i) => ({ ...i, state: { ...i.state, budgets: { ...i.state!.budgets, 'support-cost-daily': { ...i.state!.budgets!['support-cost-daily']!, cost: 1 } } } })],
    ['rate state', (i) => ({ ...i, state: { ...i.state, rates: { x: { key: 'k', tokens: 1, updatedAt: T } } } })],
  ];

  it.each(mutations)('the input digest changes when %s changes', (_f, m) => {
    const d0 = inputDigest(c(base), suite);
    const d1 = inputDigest(c(m(base)), suite);
    expect(d1).not.toBe(d0);
    expect(evaluate(policy, m(base)).inputDigest).toBe(d1);
  });

  it('every mutation gives a distinct digest', () => {
    const digests = mutations.map(([, m]) => inputDigest(c(m(base)), suite));
    expect(new Set(digests).size).toBe(mutations.length);
  });

  it('key order in the input does not change the digest', () => {
    const reversed = Object.fromEntries(Object.entries(base).reverse());
    expect(evaluate(policy, reversed).inputDigest).toBe(evaluate(policy, base).inputDigest);
  });
});

describe('fail closed', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const throwing = Object.defineProperty({ ...base }, 'args', {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });
  const garbage: Array<[string, unknown]> = [
    ['undefined', undefined],
    ['null', null],
    ['an array', [base]],
    ['a cyclic object', { ...base, context: cyclic }],
    ['a BigInt', { ...base, args: { ticketId: 7n } }],
    ['a NaN', { ...base, args: { ticketId: Number.NaN } }],
    ['a getter that throws', throwing],
    ['a class instance as args', { ...base, args: new Date(0) }],
    ['a lone surrogate', { ...base, args: { ticketId: 7, note: { body: '\ud800' } } }],
    ['a huge input', { ...base, args: { ticketId: 7, note: { body: 'x'.repeat(60000) } } }],
  ];

  it.each(garbage)('evaluate never throws and denies %s with a registered code', (_why, input) => {
    const d = evaluate(policy, input);
    expect(d.verdict).toBe('DENY');
    expect(isReasonCode(d.reasonCode)).toBe(true);
    expect(REASON_CODES[d.reasonCode].verdict).toBe('DENY');
    expect(d.inputDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('no matching ALLOW rule means DENY NO_POLICY_DEFINED (deny by default)', () => {
    const doc = exampleDoc();
    doc.rules = doc.rules.filter((r) => r.id !== 'allow-crm-read');
    const p = signedPolicy(doc);
    const b = compileBundle(doc, suite);
    if (!b.ok) throw new Error('compile');
    const d = evaluate(p, call(b.bundle, 'crm.lookup_customer', { customerId: 'cus_12345678' }));
    expect(d).toMatchObject({ verdict: 'DENY', reasonCode: 'NO_POLICY_DEFINED', ruleIds: [] });
  });

  it('a bundle with no rules at all denies every declared tool', () => {
    const doc = exampleDoc();
    doc.rules = [];
    doc.fixtures = [];
    const p = signedPolicy(doc);
    const b = compiled(doc);
    for (const [tool, args] of [['crm.lookup_customer', { customerId: 'cus_12345678' }], ['kb.fetch_article', { url: 'https://docs.example.com/' }]] as const) {
      expect(evaluate(p, call(b, tool, args))).toMatchObject({ verdict: 'DENY', reasonCode: 'NO_POLICY_DEFINED' });
    }
  });
});

describe('purity of kernel/guardian', () => {
  const dir = join(repoRoot, 'kernel', 'guardian');
  const files = readdirSync(dir).filter((n) => n.endsWith('.ts'));
  it.each(files)('%s reads no clock, randomness, environment or I/O and imports no shell code', (name) => {
    const src = readFileSync(join(dir, name), 'utf8');
    expect(src).not.toMatch(/from ['"]node:/);
    expect(src).not.toMatch(/\bDate\.now\(|new Date\(\)|Math\.random|performance\.now|crypto\.getRandomValues|\bprocess\.|\brequire\(/);
    expect(src).not.toMatch(/from ['"](\.\.\/)+(sidecar|operator|cli)\//);
    for (const m of src.matchAll(/from ['"](\.\.\/[^'"]+)['"]/g)) expect(m[1]).toMatch(/^\.\.\/(crypto|contracts|a2a|sandbox|json)\//);
  });
});

describe('input nesting depth (checked before any recursion)', () => {
  const nest = (depth: number): Record<string, unknown> => {
    let v: Record<string, unknown> = { leaf: 1 };
    for (let i = 1; i < depth; i++) v = { a: v };
    return v;
  };

  it('refuses args nested beyond the limit as ENVELOPE_INVALID, naming the place', () => {
    // The old code canonicalized 5,000 levels in one process and overflowed the stack in another,
    // so a replay could decide differently from the sidecar.
    for (const depth of [200, 5000, 1_000_000]) {
      const c = canonicalDecisionInput({ ...depthCall(), args: nest(depth) });
      expect(c.ok).toBe(false);
      if (!c.ok) expect(c.message).toMatch(/nested deeper than 128 levels at \/args\/a\/a/);
    }
  });

  it('admits nesting up to the limit', () => {
    expect(canonicalDecisionInput({ ...depthCall(), args: nest(MAX_INPUT_DEPTH - 1) }).ok).toBe(true);
    expect(canonicalDecisionInput({ ...depthCall(), args: nest(MAX_INPUT_DEPTH) }).ok).toBe(false);
  });
});

describe('tooDeep (the DecisionInput depth check)', () => {
  it('names the first container past the limit with an escaped JSON pointer, in depth-first order', async () => {
    const { tooDeep } = await import('../../kernel/guardian/decision-input.js');
    const nest = (n: number): unknown => (n === 0 ? {} : { 'a/b~': [nest(n - 1)] });
    expect(tooDeep({ x: 1, y: [1, 'two', null] }, 2)).toBeNull();
    expect(tooDeep(nest(2), 5)).toBeNull();
    expect(tooDeep(nest(3), 5)).toBe('/a~1b~0/0/a~1b~0/0/a~1b~0');
    expect(tooDeep({ first: { deep: { er: {} } }, second: { deep: { er: {} } } }, 3)).toBe('/second/deep/er');
    expect(tooDeep([[], [[]]], 2)).toBe('/1/0');
    expect(tooDeep('scalar', 0)).toBeNull();
    expect(tooDeep({}, 0)).toBe('/');
  });
});
