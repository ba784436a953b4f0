// CEL conformance (cel-spec v0.25.1 data shipped in @bufbuild/cel-spec) through the Guardian's
// CEL wrapper. See cel-conformance.ts for which cases are selected.
import { CONFORMANCE_SECTIONS, conformanceCases, runCase } from './cel-conformance.js';

const cases = conformanceCases();
const results = cases.map((c) => ({ c, ...runCase(c) }));

describe('CEL conformance subset', () => {
  it('selects a substantial subset', () => {
    expect(cases.length).toBeGreaterThan(1000);
  });

  it.each(CONFORMANCE_SECTIONS)('section %s: no case gives a wrong value or a missing error', (section) => {
    const mine = results.filter((r) => r.c.name.startsWith(`${section}/`));
    expect(mine.length).toBeGreaterThan(0);
    const failures = mine.filter((r) => r.outcome === 'fail').map((r) => `${r.c.name}: ${r.c.expr} -> ${String(r.got)}`);
    expect(failures).toEqual([]);
  });

  it('only deliberate dialect restrictions refuse expressions the suite evaluates', () => {
    const restricted = results.filter((r) => r.outcome === 'restricted');
    // Protobuf message literals and unbound names (e.g. `x || true`, `a.if() || true`) are
    // compile errors in rule expressions; the suite expects them to evaluate. Double literals
    // beyond the decimal limits and inexact double arithmetic (NaN, division by zero) are refused
    // by the exact-decimal dialect (policy-bundle.md §1.1).
    expect(restricted.every((r) => /message construction|unknown variable|unknown function|double literal|exact decimal/.test(String(r.got)))).toBe(true);
    expect(restricted.length).toBeLessThan(cases.length / 10);
    expect(results.filter((r) => r.outcome === 'pass').length).toBeGreaterThan(1000);
  });
});
