// The Guardian's pure core: bundle format and trust, lint/compile, composition, evaluation.
export * from './reason-codes.js';
export * from './bundle-types.js';
export { policyBundleSchema, bundleSignatureSchema, POLICY_BUNDLE_SCHEMA_ID } from './bundle-schema.js';
export { parseBundleText, canonicalBundleBytes, bundleContentHash, BundleError, type HashRef } from './bundle-parse.js';
export { signBundle, verifyBundle, bundleSignatureMessage, BUNDLE_SIGNATURE_DOMAIN, type BundleSignature, type BundleTrust, type BundleTrustCode, type BundleVerification } from './bundle-trust.js';
export { compileBundle, lintBundle, type CompiledBundle, type CompiledTool, type CompileResult, type LintIssue, type LintReport } from './compile.js';
export { composeBundles, type ComposeIssue, type ComposeResult } from './compose.js';
export { compileCel, CEL_VARIABLES, type CelProgram } from './cel.js';
export { canonicalDecisionInput, MAX_INPUT_DEPTH, inputDigest, rawInputDigest, parseInstant, formatInstant, decisionInputSchema, type CanonicalInputResult, type DecisionInput, type DecisionInputDraft, type BudgetCounter, type BucketState, type LimitState } from './decision-input.js';
export { evaluate, evaluatePrepared, decisionBody, ENGINE, type Decision, type Escalation } from './evaluate.js';
export { requiredCounters, limitKey, type Consumption } from './limits.js';
export { loadPolicy, policyFromCompiled, type GuardianPolicy, type PolicySource } from './policy.js';
export { runFixtures, type FixtureResult } from './fixtures.js';
export { checkOutput } from './output.js';
