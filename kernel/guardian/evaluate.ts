// The Policy Enforcement Point's decision: a pure function of (policy, DecisionInput). It reads
// no clock, no files and no randomness (time and limit state arrive in the input) and never
// throws: every failure, including an internal one, is a DENY with its own reason code.
import type { CelInput } from '@bufbuild/cel';
import { argViolation } from './arg-schema.js';
import type { HashRef } from './bundle-parse.js';
import { celTimestamp, toCel } from './cel.js';
import type { CompiledBundle, CompiledRule, CompiledTool } from './compile.js';
import { canonicalDecisionInput, parseInstant, rawInputDigest, sha256Ref, type CanonicalInputResult, type DecisionInput } from './decision-input.js';
import { checkLimits, consumption, limitViews, type BudgetView, type Consumption } from './limits.js';
import type { GuardianPolicy } from './policy.js';
import type { ReasonCode, Verdict } from './reason-codes.js';
import { checkConnector, checkEgress, checkGrants, checkPathScopes, checkSandbox } from './surface.js';
import { surfaceRefusal } from './refusal.js';
import { isA2aTool, judgeA2a } from './a2a-evaluate.js';
import { judgeDelegatedTool } from './a2a-task.js';

export const ENGINE = 'helm-guardian/0.1.0';

export interface Escalation {
  /** Approval requirement id from the bundle. */
  readonly approval: string;
  /** Handles (name+8hex) of the keys that may approve. */
  readonly approvers: readonly string[];
  readonly quorum: number;
  readonly timelockSeconds: number;
  readonly holdSeconds: number;
  readonly timeoutSeconds: number;
}

export interface Decision {
  readonly verdict: Verdict;
  readonly reasonCode: ReasonCode;
  /** Ids of the rules that decided the verdict (empty when a check before the rules decided). */
  readonly ruleIds: readonly string[];
  /** contentHash of the bundle in force, or null when there is none. */
  readonly policyDigest: HashRef | null;
  readonly inputDigest: HashRef;
  readonly engine: typeof ENGINE;
  /** Human-readable explanation; not part of the decision node body. */
  readonly detail: string;
  /** ALLOW only: what the state store must commit for this call. */
  readonly consumed?: Consumption;
  /** ESCALATE only: the approval ceremony the call needs. */
  readonly escalation?: Escalation;
  /** TEMPORAL_THROTTLE only. */
  readonly retryAfterMs?: number;
  /** ALLOW and ESCALATE: the sandbox profile the executor must apply, when the tool has one. */
  readonly sandbox?: string;
}

/** The `decision` node body (kernel/contracts/schemas.ts) for a decision. */
export function decisionBody(d: Decision, callId: string, tool: string) {
  return { callId, tool, verdict: d.verdict, reasonCode: d.reasonCode, ruleIds: [...d.ruleIds], policyDigest: d.policyDigest, inputDigest: d.inputDigest, engine: d.engine };
}

interface Base {
  readonly policyDigest: HashRef | null;
  readonly inputDigest: HashRef;
}

function deny(base: Base, reasonCode: ReasonCode, detail: string, ruleIds: readonly string[] = [], extra: Partial<Decision> = {}): Decision {
  return { verdict: 'DENY', reasonCode, ruleIds: [...ruleIds], policyDigest: base.policyDigest, inputDigest: base.inputDigest, engine: ENGINE, detail, ...extra };
}

export function evaluate(policy: GuardianPolicy, rawInput: unknown): Decision {
  return evaluatePrepared(policy, rawInput, null);
}

/**
 * Like evaluate, for a caller that already ran canonicalDecisionInput(rawInput) (the PEP, which
 * also stores the canonical bytes): the input is canonicalized once, not twice. `canon` MUST be
 * that function's result for this very rawInput; null canonicalizes here.
 */
export function evaluatePrepared(policy: GuardianPolicy, rawInput: unknown, canon: CanonicalInputResult | null): Decision {
  try {
    return evaluateChecked(policy, rawInput, canon ?? canonicalDecisionInput(rawInput));
  } catch (e) {
    // Unreachable by design; if it is reached, the call is still denied and recorded.
    let digest: HashRef;
    try {
      digest = rawInputDigest(rawInput, policy.suite);
    } catch {
      digest = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    }
    const policyDigest = policy.status === 'ready' ? policy.bundle.contentHash : (policy.policyDigest ?? null);
    return deny({ policyDigest, inputDigest: digest }, 'GUARDIAN_ERROR', `internal error: ${(e as Error)?.message ?? String(e)}`);
  }
}

function evaluateChecked(policy: GuardianPolicy, rawInput: unknown, canon: CanonicalInputResult): Decision {
  // canon.bytes is the JCS of the canonical input: hash it rather than serializing twice.
  const digest = canon.ok ? sha256Ref(policy.suite, canon.bytes) : rawInputDigest(rawInput, policy.suite);
  if (policy.status !== 'ready') return deny({ policyDigest: policy.policyDigest, inputDigest: digest }, policy.reasonCode, policy.message);
  const b = policy.bundle;
  const base: Base = { policyDigest: b.contentHash, inputDigest: digest };
  const refused = surfaceRefusal(rawInput);
  if (refused) return deny(base, refused.reasonCode, refused.detail);
  if (!canon.ok) return deny(base, canon.reasonCode ?? 'ENVELOPE_INVALID', canon.message);
  const input = canon.input;
  if (input.policyDigest !== b.contentHash) return deny(base, 'POLICY_DIGEST_MISMATCH', `input pins ${input.policyDigest}; the bundle in force is ${b.contentHash}`);
  if (isA2aTool(input.tool)) return a2aDecision(b, input, base);
  const delegated = judgeDelegatedTool(input);
  if (delegated) return deny(base, delegated.code, delegated.message);
  const tool = b.tools.get(input.tool);
  if (!tool) return deny(base, 'TOOL_NOT_DECLARED', `tool ${input.tool} is not declared in bundle ${b.doc.metadata.name}`);

  for (const check of [checkGrants(b, tool, input), checkConnector(b, tool, input), checkSandbox(tool, input)]) {
    if (check) return deny(base, check.reasonCode, check.message);
  }
  if (!tool.validateArgs(input.args)) {
    const v = argViolation(tool.validateArgs.errors);
    return deny(base, v.reasonCode, `args${v.field}: ${v.message}`);
  }
  const egress = checkEgress(b, tool, input) ?? checkPathScopes(tool, input);
  if (egress) return deny(base, egress.reasonCode, egress.message);

  const nowMs = parseInstant(input.time)!;
  const views = limitViews(tool.budgets, tool.rateLimits, input.state, input.principal.id, tool.name, nowMs, tool.cost);
  if (!views.ok) return deny(base, 'BUDGET_ERROR', views.message);

  const outcome = evaluateRules(b, tool, input, views.budgets, nowMs);
  if (outcome.verdict === 'DENY') return deny(base, outcome.reasonCode, outcome.detail, outcome.ruleIds);

  const limits = checkLimits(views);
  if (!limits.ok) {
    return deny(base, limits.reasonCode, limits.message, [], limits.retryAfterMs === undefined ? {} : { retryAfterMs: limits.retryAfterMs });
  }
  const sandbox = tool.sandbox === null ? {} : { sandbox: tool.sandbox };
  if (outcome.verdict === 'ESCALATE') {
    return { verdict: 'ESCALATE', reasonCode: outcome.reasonCode, ruleIds: outcome.ruleIds, ...base, engine: ENGINE, detail: outcome.detail, escalation: outcome.escalation, ...sandbox };
  }
  return { verdict: 'ALLOW', reasonCode: outcome.reasonCode, ruleIds: outcome.ruleIds, ...base, engine: ENGINE, detail: outcome.detail, consumed: consumption(views), ...sandbox };
}

type RuleOutcome =
  | { verdict: 'DENY'; reasonCode: ReasonCode; ruleIds: string[]; detail: string }
  | { verdict: 'ESCALATE'; reasonCode: ReasonCode; ruleIds: string[]; detail: string; escalation: Escalation }
  | { verdict: 'ALLOW'; reasonCode: ReasonCode; ruleIds: string[]; detail: string };

/**
 * The variables rule expressions read (docs/spec/policy-bundle.md §CEL), built on first read and
 * kept: a rule set that never reads `budget` or `context` never pays for converting them. CEL
 * resolves a variable by property access, so getters are enough.
 */
class Bindings {
  private p?: CelInput;
  private t?: CelInput;
  private a?: CelInput;
  private c?: CelInput;
  private b?: CelInput;
  private r?: CelInput;

  constructor(
    private readonly tl: CompiledTool,
    private readonly input: DecisionInput,
    private readonly budgets: readonly BudgetView[],
    private readonly nowMs: number,
  ) {}

  get principal(): CelInput {
    return (this.p ??= toCel({ id: this.input.principal.id, roles: this.input.principal.roles, attributes: this.input.principal.attributes }));
  }

  get tool(): CelInput {
    return (this.t ??= toolValue(this.tl));
  }

  get args(): CelInput {
    return (this.a ??= toCel(this.input.args));
  }

  get context(): CelInput {
    return (this.c ??= toCel(this.input.context));
  }

  get budget(): CelInput {
    if (this.b === undefined) {
      const budget = new Map<string, CelInput>();
      for (const v of this.budgets) {
        budget.set(
          v.id,
          toCel({
            calls: v.calls,
            cost: v.cost,
            maxCalls: v.maxCalls,
            maxCost: v.maxCost,
            remainingCalls: v.maxCalls === null ? null : Math.max(0, v.maxCalls - v.calls),
            remainingCost: v.maxCost === null ? null : Math.max(0, v.maxCost - v.cost),
            windowStart: v.windowStart,
          }),
        );
      }
      this.b = budget as unknown as CelInput;
    }
    return this.b;
  }

  get request(): CelInput {
    if (this.r === undefined) {
      const i = this.input;
      const request = toCel({ callId: i.callId, surface: i.surface, connector: i.connector, sandbox: i.sandbox, policyDigest: i.policyDigest }) as unknown as Map<string, CelInput>;
      request.set('time', celTimestamp(this.nowMs));
      this.r = request as unknown as CelInput;
    }
    return this.r;
  }
}

/** The `tool` variable depends on the compiled tool alone: built once per tool. */
const toolValues = new WeakMap<CompiledTool, CelInput>();
function toolValue(tool: CompiledTool): CelInput {
  let v = toolValues.get(tool);
  if (v === undefined) toolValues.set(tool, (v = toCel({ name: tool.name, domain: tool.decl.domain, sideEffect: tool.decl.sideEffect, cost: tool.cost, sandbox: tool.sandbox })));
  return v;
}

/** The variables rule expressions read; see docs/spec/policy-bundle.md §CEL. */
export function celBindings(tool: CompiledTool, input: DecisionInput, budgets: readonly BudgetView[], nowMs: number): Record<string, CelInput> {
  return new Bindings(tool, input, budgets, nowMs) as unknown as Record<string, CelInput>;
}

/**
 * DENY beats ESCALATE beats ALLOW, and deny is the default: the call needs an ALLOW rule of the
 * base layer (layer 0) to match, and one ALLOW rule to match in every overlay layer that has ALLOW
 * rules for the tool. An expression that errs or yields a non-bool denies the call at once.
 */
function evaluateRules(b: CompiledBundle, tool: CompiledTool, input: DecisionInput, budgets: readonly BudgetView[], nowMs: number): RuleOutcome {
  let bindings: Record<string, CelInput> | null = null;
  const matched: CompiledRule[] = [];
  for (const r of tool.rules) {
    if (r.program) {
      bindings ??= celBindings(tool, input, budgets, nowMs);
      const out = r.program.evaluate(bindings);
      if (!out.ok) return { verdict: 'DENY', reasonCode: 'PRG_EVALUATION_ERROR', ruleIds: [r.rule.id], detail: `rule ${r.rule.id}: ${out.message}` };
      if (typeof out.value !== 'boolean') return { verdict: 'DENY', reasonCode: 'PRG_EVALUATION_ERROR', ruleIds: [r.rule.id], detail: `rule ${r.rule.id}: expression yielded ${typeof out.value}, not a bool` };
      if (!out.value) continue;
    }
    matched.push(r);
  }
  const denies = matched.filter((r) => r.rule.verdict === 'DENY');
  if (denies.length) return { verdict: 'DENY', reasonCode: denies[0]!.reasonCode, ruleIds: denies.map((r) => r.rule.id), detail: `denied by rule ${denies[0]!.rule.id}` };
  if (!tool.allowLayers.includes(0)) return { verdict: 'DENY', reasonCode: 'NO_POLICY_DEFINED', ruleIds: [], detail: `no ALLOW rule covers tool ${tool.name}` };
  for (const layer of tool.allowLayers) {
    if (!matched.some((r) => r.layer === layer && r.rule.verdict === 'ALLOW')) {
      const unmet = tool.rules.filter((r) => r.layer === layer && r.rule.verdict === 'ALLOW').map((r) => r.rule.id);
      return { verdict: 'DENY', reasonCode: 'MISSING_REQUIREMENT', ruleIds: unmet, detail: `no ALLOW requirement of layer ${layer} holds (${unmet.join(', ')})` };
    }
  }
  const allows = matched.filter((r) => r.rule.verdict === 'ALLOW');
  const escalates = matched.filter((r) => r.rule.verdict === 'ESCALATE');
  if (escalates.length) {
    const first = escalates[0]!;
    const a = b.approvals.get(first.rule.approval!)!;
    return {
      verdict: 'ESCALATE',
      reasonCode: first.reasonCode,
      ruleIds: escalates.map((r) => r.rule.id),
      detail: `rule ${first.rule.id} requires approval ${a.id}`,
      escalation: {
        approval: a.id,
        approvers: a.approvers.map((k) => k.handle),
        quorum: a.requirement.quorum,
        timelockSeconds: a.requirement.timelockSeconds ?? 0,
        holdSeconds: a.requirement.holdSeconds ?? 0,
        timeoutSeconds: a.requirement.timeoutSeconds,
      },
    };
  }
  const first = allows.find((r) => r.layer === 0)!;
  return { verdict: 'ALLOW', reasonCode: first.reasonCode, ruleIds: allows.map((r) => r.rule.id), detail: `allowed by rule ${first.rule.id}` };
}

/** An A2A call (a2a.send, a2a.receive) is judged by the bundle's a2a section alone (docs/spec/a2a.md §6). */
function a2aDecision(b: CompiledBundle, input: DecisionInput, base: Base): Decision {
  const r = judgeA2a(b, input);
  if (!r.ok) return deny(base, r.code, r.message);
  return { verdict: 'ALLOW', reasonCode: 'ALLOWED', ruleIds: [], ...base, engine: ENGINE, detail: r.detail, consumed: { budgets: [], rates: [] } };
}
