// How the Guardian judges an A2A call (docs/spec/a2a.md §6). Two reserved tool names carry them:
// a2a.send (outbound: this agent calls a remote agent) and a2a.receive (inbound: a remote agent
// calls this one). The decision input carries the evidence itself (the remote card with its
// signatures, the signed request, the delegation tokens), so replay re-verifies every signature;
// what needs state the surface observes and records in context.a2a (nonce already seen, calls
// already made under a token), as the PEP records budget state.
import { cardSkills, verifyCard } from '../a2a/card.js';
import { verifyDelegation, type DelegationToken } from '../a2a/delegation.js';
import { isObject, refuse, type A2aResult } from '../a2a/refusal.js';
import { verifySignedRequest, type SignedRequest } from '../a2a/request-auth.js';
import { matches, readScope, widening, type Scope } from '../a2a/scope.js';
import { compileA2aPolicy, delegableScope, SEND_METHODS, TASK_METHODS, type A2aOutboundGrant, type CompiledA2a } from './a2a-policy.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { CompiledBundle } from './compile.js';
import { parseInstant, type DecisionInput } from './decision-input.js';

export const A2A_SEND = 'a2a.send';
export const A2A_RECEIVE = 'a2a.receive';

export function isA2aTool(tool: string): boolean {
  return tool === A2A_SEND || tool === A2A_RECEIVE;
}

const compiled = new WeakMap<CompiledBundle, CompiledA2a>();

/** The bundle's a2a section, compiled once per bundle (compileBundle already refused bad keys). */
export function a2aOf(b: CompiledBundle): CompiledA2a {
  let c = compiled.get(b);
  if (!c) compiled.set(b, (c = compileA2aPolicy((b.doc as { a2a?: Parameters<typeof compileA2aPolicy>[0] }).a2a)));
  return c;
}

export type A2aJudgement = A2aResult<{ detail: string; grant?: A2aOutboundGrant; effective?: Scope }>;

export function judgeA2a(b: CompiledBundle, input: DecisionInput): A2aJudgement {
  const a = a2aOf(b);
  return input.tool === A2A_SEND ? judgeSend(b, a, input) : judgeReceive(a, input, b.suite);
}

const str = (v: unknown, max = 512): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max;

function messageLimits(a: CompiledA2a, m: unknown): A2aResult<object> {
  if (!isObject(m) || !Number.isSafeInteger(m.bytes) || !Number.isSafeInteger(m.parts) || (m.bytes as number) < 0 || (m.parts as number) < 0) return refuse('A2A_MESSAGE_TOO_LARGE', 'args.message must be {bytes, parts} (non-negative integers)');
  if ((m.bytes as number) > a.limits.maxMessageBytes) return refuse('A2A_MESSAGE_TOO_LARGE', `the message is ${String(m.bytes)} bytes; a2a.limits.maxMessageBytes is ${a.limits.maxMessageBytes}`);
  if ((m.parts as number) > a.limits.maxParts) return refuse('A2A_MESSAGE_TOO_LARGE', `the message has ${String(m.parts)} parts; a2a.limits.maxParts is ${a.limits.maxParts}`);
  return { ok: true };
}

function selfOf(input: DecisionInput): Record<string, unknown> {
  const c = input.context.a2a;
  return isObject(c) ? c : {};
}

function judgeSend(b: CompiledBundle, a: CompiledA2a, input: DecisionInput): A2aJudgement {
  const x = input.args;
  const p = input.principal;
  const agentId = x.agent;
  const agent = str(agentId, 128) ? a.agents.get(agentId) : undefined;
  if (!str(agentId, 128) || !agent) return refuse('A2A_AGENT_NOT_ALLOWED', `agent ${JSON.stringify(agentId)} is not declared in a2a.agents`);
  const grants = a.outbound.filter((g) => g.agents.includes(agentId) && ((g.principals.ids ?? []).includes(p.id) || (g.principals.roles ?? []).some((r) => p.roles.includes(r))));
  if (grants.length === 0) return refuse('A2A_AGENT_NOT_ALLOWED', `no a2a.outbound grant lets ${p.id} call agent ${agentId}`);
  const byMethod = grants.filter((g) => (g.methods ?? SEND_METHODS).includes(x.method as never));
  if (byMethod.length === 0) return refuse('A2A_METHOD_NOT_ALLOWED', `method ${JSON.stringify(x.method)} is not granted for agent ${agentId}`);
  const card = verifyCard(x.card, { keys: agent.cardKeys, revoked: a.revoked }, b.suite);
  if (!card.ok) return card;
  const task = taskSkill(x, agentId);
  if (!task.ok) return task;
  const skill = task.skill;
  if (!str(skill, 128)) return refuse('A2A_SKILL_NOT_ALLOWED', 'the message names no skill: set message.metadata["helm.skill"] to a skill id of the agent card');
  if (!cardSkills(x.card as Record<string, unknown>).includes(skill)) return refuse('A2A_SKILL_NOT_ALLOWED', `agent ${agentId}'s card declares no skill ${skill}`);
  const bySkill = byMethod.filter((g) => g.skills.some((s) => matches(s, skill)));
  if (bySkill.length === 0) return refuse('A2A_SKILL_NOT_ALLOWED', `no a2a.outbound grant lets ${p.id} use skill ${skill} of agent ${agentId}`);
  const lim = messageLimits(a, x.message);
  if (!lim.ok) return lim;
  if (x.delegation === null || x.delegation === undefined) return { ok: true, detail: `A2A call to ${agentId} skill ${skill} allowed by ${bySkill[0]!.id} (card signed by ${card.kid})`, grant: bySkill[0]! };
  return judgeDelegationRequest(a, input, bySkill, agentId, skill, b.suite);
}

/** A delegation must ask no more than a grant lets the principal hand on, nor than any token it acts under. */
function judgeDelegationRequest(a: CompiledA2a, input: DecisionInput, grants: A2aOutboundGrant[], agentId: string, skill: string, suite: CryptoSuite): A2aJudgement {
  const d = input.args.delegation;
  if (!isObject(d)) return refuse('A2A_DELEGATION_INVALID', 'args.delegation must be {scope, ttlSeconds, onBehalfOf}');
  const scope = readScope(d.scope, 'delegation.scope');
  if (typeof scope === 'string') return refuse('A2A_DELEGATION_INVALID', scope);
  if (!Number.isSafeInteger(d.ttlSeconds) || (d.ttlSeconds as number) < 1) return refuse('A2A_DELEGATION_INVALID', 'delegation.ttlSeconds must be a positive integer');
  if (!scope.skills.includes(skill)) return refuse('A2A_DELEGATION_INVALID', `the delegated scope must include the skill called (${skill})`);
  const nowMs = parseInstant(input.time)!;
  let held: Scope | null = null;
  if (d.onBehalfOf !== null && d.onBehalfOf !== undefined) {
    const self = selfOf(input).self;
    if (!str(self, 200)) return refuse('A2A_DELEGATION_INVALID', 'context.a2a.self (this agent key handle) is required to act on behalf of a token');
    const v = verifyDelegation(d.onBehalfOf, { key: (h) => a.issuers.get(h) ?? null, revoked: a.revoked, nowMs, expectIss: (d.onBehalfOf as unknown as DelegationToken).iss, expectAud: self, suite, maxDepth: a.limits.maxChainDepth - 1 });
    if (!v.ok) return v;
    held = v.scope;
  }
  const problems: string[] = [];
  for (const g of grants) {
    if (!g.delegate) {
      problems.push(`${g.id} lets nothing be delegated`);
      continue;
    }
    const wider = widening(scope, delegableScope(g.delegate));
    if ((d.ttlSeconds as number) > g.delegate.maxTtlSeconds) wider.push(`ttl ${String(d.ttlSeconds)}s > ${g.delegate.maxTtlSeconds}s`);
    if (held) for (const w of widening(scope, held)) wider.push(`${w} (beyond the token it acts under)`);
    if (wider.length === 0) return { ok: true, detail: `A2A delegation to ${agentId} within grant ${g.id}`, grant: g, effective: scope };
    problems.push(`${g.id}: ${wider.join(', ')}`);
  }
  return refuse('A2A_DELEGATION_EXCEEDS_GRANT', `the delegation asks for more than ${input.principal.id} holds: ${problems.join('; ')}`);
}

function judgeReceive(a: CompiledA2a, input: DecisionInput, suite: CryptoSuite): A2aJudgement {
  const x = input.args;
  const ctx = selfOf(input);
  const self = ctx.self;
  if (!str(self, 200)) return refuse('A2A_REQUEST_SIGNATURE_INVALID', 'context.a2a.self (this agent key handle) is missing');
  const r = x.request;
  if (!isObject(r) || !str(r.method, 16) || !str(r.path, 2048) || !str(r.bodyDigest, 80) || !isObject(r.auth) || typeof r.signature !== 'string') return refuse('A2A_CALLER_UNKNOWN', 'args.request must be the signed request {method, path, bodyDigest, auth, signature}');
  const nowMs = parseInstant(input.time)!;
  const maxSkewMs = a.limits.maxSkewSeconds * 1000;
  const req = r as unknown as SignedRequest;
  const v = verifySignedRequest(req, { caller: (h) => (a.callerByKey.has(h) ? { id: a.callerByKey.get(h)!.id, key: a.callerByKey.get(h)!.keys.find((k) => k.handle === h)! } : null), revoked: a.revoked, self, nowMs, maxSkewMs, suite });
  if (!v.ok) return v;
  // Observed by the surface's nonce store when the request arrived; fail closed when absent.
  if (ctx.replayed !== false) return refuse('A2A_REQUEST_REPLAYED', ctx.replayed === true ? `nonce ${req.auth.nonce} of ${req.auth.keyid} was already used` : 'context.a2a.replayed (the nonce check) is missing: the surface could not remember the nonce durably');
  const caller = a.callerByKey.get(req.auth.keyid)!;
  if (!caller.methods.includes(x.method as never)) return refuse('A2A_METHOD_NOT_ALLOWED', `caller ${caller.id} may not use method ${JSON.stringify(x.method)}`);
  const lim = messageLimits(a, x.message);
  if (!lim.ok) return lim;
  const task = taskSkill(x, caller.id);
  if (!task.ok) return task;
  const skill = task.skill;
  if (!str(skill, 128)) return refuse('A2A_SKILL_NOT_ALLOWED', 'the message names no skill (message.metadata["helm.skill"])');
  if (!caller.skills.some((s) => matches(s, skill))) return refuse('A2A_SKILL_NOT_ALLOWED', `caller ${caller.id} may not use skill ${skill} (a2a.inbound.callers)`);
  const token = req.auth.delegation;
  if (token === null) {
    if (caller.requireDelegation) return refuse('A2A_DELEGATION_REQUIRED', `caller ${caller.id} must present a delegation token`);
    return { ok: true, detail: `A2A call from ${caller.id} to skill ${skill}`, effective: { skills: [...caller.skills], tools: [...caller.tools], budget: 0 } };
  }
  const d = verifyDelegation(token, { key: (h) => a.issuers.get(h) ?? null, revoked: a.revoked, nowMs, expectIss: req.auth.keyid, expectAud: self, suite, maxDepth: a.limits.maxChainDepth });
  if (!d.ok) return d;
  // The effective scope is the token's scope within what this bundle gives the caller.
  if (!d.scope.skills.some((s) => matches(s, skill))) return refuse('A2A_SKILL_NOT_ALLOWED', `the delegation token does not cover skill ${skill} (it covers ${d.scope.skills.join(', ') || 'none'})`);
  const uses = ctx.delegationUses;
  if (!Number.isSafeInteger(uses) || (uses as number) < 0) return refuse('A2A_DELEGATION_BUDGET_EXHAUSTED', 'context.a2a.delegationUses (calls already made under the token) is missing');
  if ((uses as number) >= d.scope.budget) return refuse('A2A_DELEGATION_BUDGET_EXHAUSTED', `the token's budget of ${d.scope.budget} call(s) is used up`);
  const tools = d.scope.tools.filter((t) => caller.tools.some((c) => matches(c, t)));
  const skills = d.scope.skills.filter((s) => caller.skills.some((c) => matches(c, s)));
  return { ok: true, detail: `A2A call from ${caller.id} to skill ${skill} under a delegation from ${d.rootSub}`, effective: { skills, tools, budget: d.scope.budget - (uses as number) } };
}


/**
 * The skill a call is judged under: the one it names, or for GetTask / CancelTask the skill of the
 * call that created the task, as the surface observed it in args.task {id, peer, skill}; the task
 * must have been created with the same peer (remote agent outbound, caller inbound).
 */
function taskSkill(x: DecisionInput['args'], peer: string): A2aResult<{ skill: unknown }> {
  if (!TASK_METHODS.includes(x.method as string)) return { ok: true, skill: x.skill };
  const t = x.task;
  if (!isObject(t) || t.peer !== peer || !str(t.skill, 128)) return refuse('A2A_TASK_UNKNOWN', `${String(x.method)} names task ${JSON.stringify(isObject(t) ? t.id : null)}, which ${peer} did not create through this sidecar (or it is forgotten)`);
  return { ok: true, skill: t.skill };
}
