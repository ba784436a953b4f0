// Lint and compile in one pass: everything that can be decided from the bundle alone (schema,
// references, CEL, argument schemas, reason codes) is decided here, so evaluation only looks up
// precomputed structures. A bundle with any lint error does not compile.
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { ALG_ED25519, parseVerifierKey, type VerifierKey } from '../crypto/keys.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { a2aIssues } from './a2a-policy.js';
import { compileToolSchema, newSchemaCompiler } from './arg-schema.js';
import { bundleContentHash, checkProfile, type HashRef } from './bundle-parse.js';
import * as bundleValidators from './bundle-validators.gen.js';
import {
  BUILTIN_PROFILES,
  SIDE_EFFECTS,
  type ApprovalRequirement,
  type Budget,
  type CapabilityProfile,
  type PolicyBundleDoc,
  type RateLimit,
  type Rule,
  type Selector,
  type ToolDecl,
} from './bundle-types.js';
import { compileCel, type CelProgram } from './cel.js';
import { parseDestinationPattern } from './destinations.js';
import { prefixProblem } from './paths.js';
import { DEFAULT_RULE_REASON, isReasonCode, REASON_CODES, type ReasonCode } from './reason-codes.js';
import { isToolPattern, selects, toolPatternMatches } from './selectors.js';
import { lintSandboxed } from './sandboxed-tools.js';

export interface LintIssue {
  readonly code: 'ERR_BUNDLE_SCHEMA' | 'ERR_BUNDLE_PROFILE' | 'ERR_REFERENCE' | 'ERR_DUPLICATE' | 'ERR_CEL' | 'ERR_TOOL_SCHEMA' | 'ERR_REASON_CODE' | 'ERR_APPROVAL' | 'ERR_DESTINATION' | 'ERR_PATH' | 'ERR_PROFILE' | 'WARN_UNREACHABLE';
  readonly path: string;
  readonly message: string;
}

export interface LintReport {
  readonly errors: readonly LintIssue[];
  readonly warnings: readonly LintIssue[];
}

export interface CompiledRule {
  readonly rule: Rule;
  /** null: the rule has no `when` and always matches when selected. */
  readonly program: CelProgram | null;
  readonly reasonCode: ReasonCode;
  readonly layer: number;
}

export interface CompiledTool {
  readonly name: string;
  readonly decl: ToolDecl;
  readonly validateArgs: ValidateFunction;
  readonly validateOutput: ValidateFunction | null;
  /** Rules that select this tool, in bundle order. */
  readonly rules: readonly CompiledRule[];
  readonly budgets: readonly Budget[];
  readonly rateLimits: readonly RateLimit[];
  /** The sandbox profile the tool must run in, or null. */
  readonly sandbox: string | null;
  readonly cost: number;
  /** Layers that have at least one ALLOW rule selecting this tool. */
  readonly allowLayers: readonly number[];
}

export interface CompiledApproval {
  readonly id: string;
  readonly requirement: ApprovalRequirement;
  readonly approvers: readonly VerifierKey[];
}

export interface CompiledBundle {
  readonly doc: PolicyBundleDoc;
  readonly contentHash: HashRef;
  readonly suite: CryptoSuite;
  readonly tools: ReadonlyMap<string, CompiledTool>;
  readonly profiles: Readonly<Record<string, CapabilityProfile>>;
  readonly approvals: ReadonlyMap<string, CompiledApproval>;
  readonly destinations: Readonly<Record<string, readonly string[]>>;
}

// Compiled at build time (scripts/validators.ts): no schema compile at start-up.
const validateBundleDoc = bundleValidators.bundle as ValidateFunction;
const validateOverlayDoc = bundleValidators.overlay as ValidateFunction;

/** Schema errors of a bundle or overlay document (an empty list when it conforms). */
export function schemaIssues(doc: unknown): LintIssue[] {
  // Validate against the branch the document claims, so errors speak about that kind only.
  const validate = (doc as { kind?: unknown } | null)?.kind === 'PolicyOverlay' ? validateOverlayDoc : validateBundleDoc;
  if (validate(doc)) return [];
  return (validate.errors ?? []).slice(0, 20).map((e) => ({
    code: 'ERR_BUNDLE_SCHEMA' as const,
    path: e.instancePath || '/',
    message: `${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''}`,
  }));
}

function resolveProfiles(doc: { profiles?: Record<string, CapabilityProfile> }, issues: LintIssue[]): Record<string, CapabilityProfile> {
  const out: Record<string, CapabilityProfile> = { ...BUILTIN_PROFILES };
  for (const [name, p] of Object.entries(doc.profiles ?? {})) {
    const builtin = BUILTIN_PROFILES[name];
    if (builtin && !p.sideEffects.every((s) => builtin.sideEffects.includes(s))) {
      issues.push({ code: 'ERR_PROFILE', path: `/profiles/${name}`, message: `built-in profile ${name} may only be narrowed (allowed side effects: ${builtin.sideEffects.join(', ')})` });
    }
    out[name] = p;
  }
  return out;
}

function checkSelector(sel: Selector | undefined, path: string, doc: PolicyBundleDoc, issues: LintIssue[]): void {
  for (const t of sel?.tools ?? []) {
    if (!isToolPattern(t) && !Object.hasOwn(doc.tools, t)) issues.push({ code: 'ERR_REFERENCE', path: `${path}/match/tools`, message: `unknown tool ${t}` });
  }
  for (const d of sel?.domains ?? []) if (!Object.hasOwn(doc.domains, d)) issues.push({ code: 'ERR_REFERENCE', path: `${path}/match/domains`, message: `unknown domain ${d}` });
}

function duplicates(ids: string[], path: string, what: string, issues: LintIssue[]): void {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) issues.push({ code: 'ERR_DUPLICATE', path: `${path}/${i}`, message: `duplicate ${what} id ${id}` });
    seen.add(id);
  });
}

function checkReason(code: string | undefined, verdict: keyof typeof DEFAULT_RULE_REASON, path: string, issues: LintIssue[]): ReasonCode {
  if (code === undefined) return DEFAULT_RULE_REASON[verdict];
  if (!isReasonCode(code)) {
    issues.push({ code: 'ERR_REASON_CODE', path, message: `reason code ${code} is not registered (docs/spec/reason-codes.json)` });
    return DEFAULT_RULE_REASON[verdict];
  }
  if (REASON_CODES[code].verdict !== verdict) issues.push({ code: 'ERR_REASON_CODE', path, message: `reason code ${code} belongs to ${REASON_CODES[code].verdict}, not ${verdict}` });
  return code;
}

export function compileApprovals(approvals: Record<string, ApprovalRequirement> | undefined, issues: LintIssue[]): Map<string, CompiledApproval> {
  const out = new Map<string, CompiledApproval>();
  for (const [id, a] of Object.entries(approvals ?? {})) {
    const keys: VerifierKey[] = [];
    a.approvers.forEach((v, i) => {
      try {
        const k = parseVerifierKey(v);
        if (k.alg !== ALG_ED25519) throw new Error('approver keys must be Ed25519 signed-note keys (type 0x01)');
        keys.push(k);
      } catch (e) {
        issues.push({ code: 'ERR_APPROVAL', path: `/approvals/${id}/approvers/${i}`, message: (e as Error).message });
      }
    });
    if (new Set(keys.map((k) => k.handle)).size !== keys.length) issues.push({ code: 'ERR_APPROVAL', path: `/approvals/${id}/approvers`, message: 'two approver keys share a handle' });
    if (a.quorum > a.approvers.length) issues.push({ code: 'ERR_APPROVAL', path: `/approvals/${id}/quorum`, message: `quorum ${a.quorum} exceeds ${a.approvers.length} approvers` });
    out.set(id, { id, requirement: a, approvers: keys });
  }
  return out;
}

export function checkDestinationLists(lists: Record<string, string[]> | undefined, issues: LintIssue[]): void {
  for (const [name, patterns] of Object.entries(lists ?? {})) {
    patterns.forEach((p, i) => {
      const parsed = parseDestinationPattern(p);
      if (typeof parsed === 'string') issues.push({ code: 'ERR_DESTINATION', path: `/destinations/${name}/${i}`, message: parsed });
    });
  }
}

function sandboxFor(doc: PolicyBundleDoc, tool: ToolDecl): string | null {
  if (typeof tool.sandbox === 'string') return tool.sandbox;
  return doc.sandbox?.classes?.[tool.sideEffect] ?? null;
}

export type CompileResult = { readonly ok: true; readonly bundle: CompiledBundle; readonly warnings: readonly LintIssue[] } | { readonly ok: false; readonly errors: readonly LintIssue[]; readonly warnings: readonly LintIssue[] };

/** Lints and compiles a bundle document. Never throws for a bad document. */
export function compileBundle(raw: unknown, suite: CryptoSuite): CompileResult {
  const errors: LintIssue[] = [];
  const warnings: LintIssue[] = [];
  try {
    checkProfile(raw);
  } catch (e) {
    return { ok: false, errors: [{ code: 'ERR_BUNDLE_PROFILE', path: '/', message: (e as Error).message }], warnings };
  }
  errors.push(...schemaIssues(raw));
  if (errors.length) return { ok: false, errors, warnings };
  if ((raw as { kind: string }).kind !== 'PolicyBundle') return { ok: false, errors: [{ code: 'ERR_BUNDLE_SCHEMA', path: '/kind', message: 'an overlay cannot be evaluated on its own; compose it with its base bundle' }], warnings };
  // A private deep copy: the compiled bundle must not change if the caller mutates its document.
  const doc = JSON.parse(JSON.stringify(raw)) as PolicyBundleDoc;

  const profiles = resolveProfiles(doc, errors);
  duplicates(doc.grants.map((g) => g.id), '/grants', 'grant', errors);
  doc.grants.forEach((g, i) => {
    for (const d of g.domains) if (!Object.hasOwn(doc.domains, d)) errors.push({ code: 'ERR_REFERENCE', path: `/grants/${i}/domains`, message: `unknown domain ${d}` });
    if (!Object.hasOwn(profiles, g.profile)) errors.push({ code: 'ERR_REFERENCE', path: `/grants/${i}/profile`, message: `unknown capability profile ${g.profile}` });
  });
  const sandboxProfiles = doc.sandbox?.profiles ?? {};
  for (const s of SIDE_EFFECTS) {
    const p = doc.sandbox?.classes?.[s];
    if (p !== undefined && !Object.hasOwn(sandboxProfiles, p)) errors.push({ code: 'ERR_REFERENCE', path: `/sandbox/classes/${s}`, message: `unknown sandbox profile ${p}` });
  }
  checkDestinationLists(doc.destinations, errors);
  errors.push(...lintSandboxed(doc, (t) => sandboxFor(doc, t)));
  const approvals = compileApprovals(doc.approvals, errors);
  for (const x of a2aIssues(doc)) errors.push({ code: 'ERR_REFERENCE', ...x });

  const ajv = newSchemaCompiler();
  const tools = new Map<string, Omit<CompiledTool, 'rules' | 'budgets' | 'rateLimits' | 'allowLayers'>>();
  for (const [name, t] of Object.entries(doc.tools)) {
    const path = `/tools/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (!Object.hasOwn(doc.domains, t.domain)) errors.push({ code: 'ERR_REFERENCE', path: `${path}/domain`, message: `unknown domain ${t.domain}` });
    for (const c of t.connectors ?? []) if (!Object.hasOwn(doc.connectors ?? {}, c)) errors.push({ code: 'ERR_REFERENCE', path: `${path}/connectors`, message: `unknown connector ${c}` });
    if (typeof t.sandbox === 'string' && !Object.hasOwn(sandboxProfiles, t.sandbox)) errors.push({ code: 'ERR_REFERENCE', path: `${path}/sandbox`, message: `unknown sandbox profile ${t.sandbox}` });
    if (t.sandbox === true && sandboxFor(doc, t) === null) errors.push({ code: 'ERR_REFERENCE', path: `${path}/sandbox`, message: `sandbox: true but no sandbox profile is mapped for class ${t.sideEffect}` });
    (t.destinations ?? []).forEach((d, i) => {
      for (const l of d.allow) if (!Object.hasOwn(doc.destinations ?? {}, l)) errors.push({ code: 'ERR_REFERENCE', path: `${path}/destinations/${i}/allow`, message: `unknown destination list ${l}` });
    });
    (t.paths ?? []).forEach((p, i) => {
      p.under.forEach((u, j) => {
        const problem = prefixProblem(u);
        if (problem) errors.push({ code: 'ERR_PATH', path: `${path}/paths/${i}/under/${j}`, message: problem });
      });
    });
    const args = compileToolSchema(ajv, t.args, `${path}/args`, true);
    if (!args.ok) errors.push(...args.issues.map((x) => ({ code: 'ERR_TOOL_SCHEMA' as const, ...x })));
    const output = t.output === undefined ? null : compileToolSchema(ajv, t.output, `${path}/output`, false);
    if (output && !output.ok) errors.push(...output.issues.map((x) => ({ code: 'ERR_TOOL_SCHEMA' as const, ...x })));
    if (args.ok) {
      tools.set(name, { name, decl: t, validateArgs: args.validate, validateOutput: output?.ok ? output.validate : null, sandbox: sandboxFor(doc, t), cost: t.cost ?? 1 });
    }
  }

  duplicates(doc.rules.map((r) => r.id), '/rules', 'rule', errors);
  const rules: CompiledRule[] = [];
  doc.rules.forEach((r, i) => {
    const path = `/rules/${i}`;
    checkSelector(r.match, path, doc, errors);
    const reasonCode = checkReason(r.reason, r.verdict, `${path}/reason`, errors);
    if (r.verdict === 'ESCALATE' && (r.approval === undefined || !approvals.has(r.approval))) {
      errors.push({ code: 'ERR_APPROVAL', path: `${path}/approval`, message: r.approval === undefined ? 'an ESCALATE rule must name an approval requirement' : `unknown approval requirement ${r.approval}` });
    }
    if (r.verdict !== 'ESCALATE' && r.approval !== undefined) errors.push({ code: 'ERR_APPROVAL', path: `${path}/approval`, message: 'only ESCALATE rules name an approval requirement' });
    let program: CelProgram | null = null;
    if (r.when !== undefined) {
      const c = compileCel(r.when, { requireBool: true });
      if (c.ok) program = c.program;
      else errors.push({ code: 'ERR_CEL', path: `${path}/when`, message: c.message });
    }
    rules.push({ rule: r, program, reasonCode, layer: r.layer ?? 0 });
  });
  const budgets = doc.budgets ?? [];
  const rateLimits = doc.rateLimits ?? [];
  duplicates(budgets.map((b) => b.id), '/budgets', 'budget', errors);
  duplicates(rateLimits.map((b) => b.id), '/rateLimits', 'rate limit', errors);
  budgets.forEach((b, i) => {
    checkSelector(b.match, `/budgets/${i}`, doc, errors);
    if (b.maxCalls === undefined && b.maxCost === undefined) errors.push({ code: 'ERR_REFERENCE', path: `/budgets/${i}`, message: 'a budget needs maxCalls or maxCost' });
  });
  rateLimits.forEach((r, i) => checkSelector(r.match, `/rateLimits/${i}`, doc, errors));
  duplicates((doc.fixtures ?? []).map((f) => f.name), '/fixtures', 'fixture', errors);
  (doc.fixtures ?? []).forEach((f, i) => {
    if (f.expect.reasonCode !== undefined) checkReason(f.expect.reasonCode, f.expect.verdict, `/fixtures/${i}/expect/reasonCode`, errors);
  });

  const compiledTools = new Map<string, CompiledTool>();
  for (const [name, t] of tools) {
    const selected = rules.filter((r) => selects(r.rule.match, name, t.decl));
    const allowLayers = [...new Set(selected.filter((r) => r.rule.verdict === 'ALLOW').map((r) => r.layer))].sort((a, b) => a - b);
    if (!allowLayers.includes(0)) warnings.push({ code: 'WARN_UNREACHABLE', path: `/tools/${name}`, message: `no base ALLOW rule selects tool ${name}: every call is denied NO_POLICY_DEFINED` });
    if (!doc.grants.some((g) => g.domains.includes(t.decl.domain))) warnings.push({ code: 'WARN_UNREACHABLE', path: `/tools/${name}`, message: `no grant covers domain ${t.decl.domain}: every call is denied DOMAIN_SCOPE_VIOLATION` });
    compiledTools.set(name, {
      ...t,
      rules: selected,
      budgets: budgets.filter((b) => selects(b.match, name, t.decl)),
      rateLimits: rateLimits.filter((r) => selects(r.match, name, t.decl)),
      allowLayers,
    });
  }
  for (const [name, p] of Object.entries(profiles)) {
    for (const pat of p.tools ?? []) {
      if (!isToolPattern(pat) && !Object.hasOwn(doc.tools, pat)) errors.push({ code: 'ERR_REFERENCE', path: `/profiles/${name}/tools`, message: `unknown tool ${pat}` });
    }
  }
  if (errors.length) return { ok: false, errors, warnings };
  deepFreeze(doc);
  const bundle: CompiledBundle = {
    doc,
    contentHash: bundleContentHash(doc, suite),
    suite,
    tools: compiledTools,
    profiles,
    approvals,
    destinations: doc.destinations ?? {},
  };
  return { ok: true, bundle, warnings };
}

/** A compiled bundle is shared by every evaluation: nothing may change it after compilation. */
function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x);
}

/** Lint only: the issues compileBundle would report. */
export function lintBundle(raw: unknown, suite: CryptoSuite): LintReport {
  const r = compileBundle(raw, suite);
  return r.ok ? { errors: [], warnings: r.warnings } : { errors: r.errors, warnings: r.warnings };
}

/** Does a profile permit a tool? (side-effect class and, if listed, the tool name) */
export function profilePermits(p: CapabilityProfile, name: string, tool: ToolDecl): boolean {
  return p.sideEffects.includes(tool.sideEffect) && (p.tools === undefined || p.tools.some((pat) => toolPatternMatches(pat, name)));
}
