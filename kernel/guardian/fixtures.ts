// Fixtures are cases a bundle carries with their expected verdicts; `helmctl bundle test` runs
// them. The input of a fixture is a DecisionInput without policyDigest (the bundle cannot contain
// its own hash), so it is pinned here to the bundle under test.
import type { Fixture } from './bundle-types.js';
import type { CompiledBundle } from './compile.js';
import { evaluate, type Decision } from './evaluate.js';
import { policyFromCompiled } from './policy.js';

export interface FixtureResult {
  readonly name: string;
  readonly pass: boolean;
  readonly expected: Fixture['expect'];
  readonly actual: { readonly verdict: string; readonly reasonCode: string; readonly ruleIds: readonly string[] };
  readonly decision: Decision;
}

export function fixtureInput(bundle: CompiledBundle, f: Fixture): Record<string, unknown> {
  return { callId: `fixture:${f.name}`, surface: 'cli', ...f.input, policyDigest: bundle.contentHash };
}

export function runFixtures(bundle: CompiledBundle): FixtureResult[] {
  const policy = policyFromCompiled(bundle);
  return (bundle.doc.fixtures ?? []).map((f) => {
    const decision = evaluate(policy, fixtureInput(bundle, f));
    const e = f.expect;
    const pass =
      decision.verdict === e.verdict &&
      (e.reasonCode === undefined || decision.reasonCode === e.reasonCode) &&
      (e.ruleIds === undefined || (e.ruleIds.length === decision.ruleIds.length && e.ruleIds.every((id, i) => decision.ruleIds[i] === id)));
    return { name: f.name, pass, expected: e, actual: { verdict: decision.verdict, reasonCode: decision.reasonCode, ruleIds: decision.ruleIds }, decision };
  });
}
