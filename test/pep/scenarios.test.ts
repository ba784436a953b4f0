// The PEP scenario catalogue: every case runs through a real Pep with a real ProofGraphWriter (its
// own log in one shared volume) and asserts the verdict, the reason code, and that a DECISION node
// signed by the node key is in the log, linked to the call's INTENT node. The volume is then
// exported, verified and policy-replayed: every recorded decision must replay identically.
import { nodeSuite } from '../../kernel/crypto/node.js';
import type { SigningKey } from '../../kernel/crypto/signing-key.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { replayPack } from '../../kernel/evidence/replay.js';
import { parseTrustPolicy } from '../../kernel/evidence/trust-policy.js';
import { verifyPack } from '../../kernel/evidence/verify-core.js';
import { composeBundles, type PolicyBundleDoc, type PolicyOverlayDoc } from '../../kernel/guardian/index.js';
import { guardianReplayer, signApproval, type ApprovalResult, type BasisKind, type Challenge, type PepOutcome } from '../../kernel/pep/index.js';
import { bundleSigner, otherSigner } from '../guardian/helpers.js';
import {
  approvers,
  AUDITOR,
  fetchDoc,
  JUNIOR,
  Lab,
  lookup,
  mail,
  mallory,
  OPS,
  pepBundle,
  receiptOf,
  refund,
  req,
  signed,
  START,
  SUPPORT,
  ticket,
  trust,
  type Harness,
  type HarnessOptions,
} from './support.js';

const lab = await Lab.create();
afterAll(() => lab.cleanup());

const MIN = 60_000;
const overlay = (o: Partial<PolicyOverlayDoc>): PolicyOverlayDoc => ({ apiVersion: 'helm-policy-bundle/v1', kind: 'PolicyOverlay', metadata: { name: 'tenant-overlay' }, ...o });
function composedWith(...overlays: PolicyOverlayDoc[]): HarnessOptions {
  const r = composeBundles(pepBundle(), overlays, nodeSuite);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return { policy: signed(r.bundle) };
}
const patched = (f: (d: PolicyBundleDoc) => void): HarnessOptions => ({ policy: signed(pepBundle(f)) });
const errRules: HarnessOptions = patched((d) =>
  d.rules.push(
    { id: 'note-body-required', match: { tools: ['tickets.update'] }, when: 'args.note.body.size() > 0', verdict: 'ALLOW' },
    { id: 'deny-flagged', match: { tools: ['crm.lookup_customer'] }, when: 'context.flagged', verdict: 'DENY' },
    { id: 'not-a-bool', match: { tools: ['ops.purge_cache'] }, when: "args.prefix == '/static/x' ? true : args.prefix", verdict: 'ALLOW' },
  ),
);

/** Decides and insists the answer is recorded (so later steps can use its receipt). */
async function decided(h: Harness, r: unknown, verdict?: string): Promise<PepOutcome> {
  const o = await h.pep.decide(r);
  if (!o.recorded) throw new Error(`not recorded: ${o.detail}`);
  if (verdict && o.verdict !== verdict) throw new Error(`expected ${verdict}, got ${o.verdict} ${o.reasonCode}: ${o.detail}`);
  return o;
}

async function escalate(h: Harness, over: Parameters<typeof refund>[1] = {}): Promise<Challenge> {
  const o = await decided(h, refund(20000, over), 'ESCALATE');
  if (!o.challenge) throw new Error('an ESCALATE without a challenge');
  return o.challenge;
}

async function answer(h: Harness, ch: Challenge, who: SigningKey, verdict: 'approve' | 'reject' = 'approve'): Promise<ApprovalResult> {
  return h.pep.approve(signApproval(ch, who, verdict));
}

async function accepted(h: Harness, ch: Challenge, who: SigningKey): Promise<void> {
  const r = await answer(h, ch, who);
  if (!r.accepted) throw new Error(`approval refused: ${r.code} ${r.message}`);
}

function refusedWith(r: ApprovalResult, code: string): void {
  if (r.accepted || r.code !== code) throw new Error(`expected refusal ${code}, got ${JSON.stringify(r)}`);
}

/** Escalate, pass the timelock, collect the quorum (alice, bob), wait out the hold. */
async function approvedRetry(h: Harness, over: Parameters<typeof refund>[1] = {}): Promise<Challenge> {
  const ch = await escalate(h, over);
  h.clock.advance(MIN + 1000);
  await accepted(h, ch, approvers.alice);
  await accepted(h, ch, approvers.bob);
  h.clock.advance(31_000);
  return ch;
}

interface Case {
  name: string;
  opts?: HarnessOptions;
  run(h: Harness): Promise<PepOutcome>;
  verdict: 'ALLOW' | 'DENY' | 'ESCALATE';
  reason: string;
  ruleIds?: string[];
  basis?: BasisKind;
}

const one = (r: () => unknown) => (h: Harness) => h.pep.decide(r());

/** Calls every tool the bundle would allow (and an escalation); each must be denied with `code`. */
const everyCall = (code: string) => async (h: Harness) => {
  const calls = [lookup(), ticket({ ticketId: 7 }), fetchDoc('https://docs.example.com/a'), mail('hi'), refund(500), refund(20000), req('ops.purge_cache', { prefix: '/static/' }, { principal: OPS })];
  const outs = [];
  for (const c of calls) outs.push(await decided(h, c));
  const wrong = outs.filter((o) => o.verdict !== 'DENY' || o.reasonCode !== code);
  if (wrong.length) throw new Error(`not denied ${code}: ${wrong.map((o) => `${o.verdict} ${o.reasonCode}`).join(', ')}`);
  return outs.at(-1)!;
};

const cases: Case[] = [
  // -- allow, deny by default, tools and arguments
  { name: 'allow: support agent looks up a customer', run: one(() => lookup()), verdict: 'ALLOW', reason: 'ALLOWED', ruleIds: ['allow-crm-read'] },
  { name: 'allow: ticket note without a status change', run: one(() => ticket({ ticketId: 7, note: { body: 'called back' } })), verdict: 'ALLOW', reason: 'ALLOWED', ruleIds: ['allow-ticket-update'] },
  { name: 'deny by default: no ALLOW rule covers the tool', opts: patched((d) => (d.rules = d.rules.filter((r) => r.id !== 'allow-crm-read'))), run: one(() => lookup()), verdict: 'DENY', reason: 'NO_POLICY_DEFINED', ruleIds: [] },
  { name: 'unknown tool', run: one(() => req('crm.delete_customer', {})), verdict: 'DENY', reason: 'TOOL_NOT_DECLARED' },
  { name: 'unknown argument field (schema without additionalProperties)', run: one(() => lookup({ args: { customerId: 'cus_12345678', includeSsn: true } })), verdict: 'DENY', reason: 'ERR_TOOL_ARGS_UNKNOWN_FIELD' },
  { name: 'unknown field in a nested object', run: one(() => ticket({ ticketId: 7, note: { body: 'x', cc: 'boss@example.com' } })), verdict: 'DENY', reason: 'ERR_TOOL_ARGS_UNKNOWN_FIELD' },
  { name: 'missing required argument', run: one(() => ticket({ status: 'pending' })), verdict: 'DENY', reason: 'ERR_TOOL_ARGS_MISSING_REQUIRED' },
  { name: 'argument type mismatch', run: one(() => ticket({ ticketId: '7' })), verdict: 'DENY', reason: 'ERR_TOOL_ARGS_TYPE_MISMATCH' },
  { name: 'argument value constraint (enum)', run: one(() => ticket({ ticketId: 7, status: 'closed' })), verdict: 'DENY', reason: 'SCHEMA_VIOLATION' },

  // -- CEL
  { name: 'CEL requirement false', run: one(() => ticket({ ticketId: 7, status: 'solved' })), verdict: 'DENY', reason: 'MISSING_REQUIREMENT', ruleIds: ['allow-ticket-update'] },
  { name: 'CEL DENY rule with its own code', run: one(() => mail('your password: hunter2')), verdict: 'DENY', reason: 'DATA_EGRESS_BLOCKED', ruleIds: ['deny-mail-secrets'] },
  { name: 'CEL DENY rule on the call context', run: one(() => refund(500, { context: { tenantStatus: 'frozen' } })), verdict: 'DENY', reason: 'POLICY_VIOLATION', ruleIds: ['deny-refund-frozen-tenant'] },
  {
    name: "CEL requirement on the PEP's clock (after business hours)",
    run: (h) => {
      h.clock.now = START + 12 * 60 * MIN;
      return h.pep.decide(mail('hello'));
    },
    verdict: 'DENY',
    reason: 'MISSING_REQUIREMENT',
    ruleIds: ['allow-mail-business-hours'],
  },
  { name: 'CEL evaluation error denies (never skipped)', opts: errRules, run: one(() => ticket({ ticketId: 7 })), verdict: 'DENY', reason: 'PRG_EVALUATION_ERROR', ruleIds: ['note-body-required'] },
  { name: 'CEL evaluation error in a DENY rule does not fall through to ALLOW', opts: errRules, run: one(() => lookup()), verdict: 'DENY', reason: 'PRG_EVALUATION_ERROR', ruleIds: ['deny-flagged'] },
  { name: 'CEL expression yielding a non-bool denies', opts: errRules, run: one(() => req('ops.purge_cache', { prefix: '/static/y' }, { principal: OPS })), verdict: 'DENY', reason: 'PRG_EVALUATION_ERROR', ruleIds: ['not-a-bool'] },

  // -- bounded surface
  { name: 'domain scope: auditor has no kb domain', run: one(() => fetchDoc('https://docs.example.com/a', { principal: AUDITOR })), verdict: 'DENY', reason: 'DOMAIN_SCOPE_VIOLATION' },
  { name: 'domain scope: ops bot outside its domain', run: one(() => lookup({ principal: OPS })), verdict: 'DENY', reason: 'DOMAIN_SCOPE_VIOLATION' },
  { name: 'capability read-only: auditor cannot write', run: one(() => ticket({ ticketId: 7 }, { principal: AUDITOR })), verdict: 'DENY', reason: 'CAPABILITY_VIOLATION' },
  { name: 'capability write-limited: junior cannot send external mail', run: one(() => mail('hi', { principal: JUNIOR })), verdict: 'DENY', reason: 'CAPABILITY_VIOLATION' },
  { name: 'capability side-effect class: support-external allows an external read', run: one(() => fetchDoc('https://docs.example.com/guide')), verdict: 'ALLOW', reason: 'ALLOWED', ruleIds: ['allow-kb'] },
  { name: 'capability tool list: ops profile refuses a tool it does not name', run: one(() => req('ops.restart_service', { service: 'api' }, { principal: OPS })), verdict: 'DENY', reason: 'CAPABILITY_VIOLATION' },
  { name: 'connector allowlist: wrong connector', run: one(() => lookup({ connector: 'mailer' })), verdict: 'DENY', reason: 'CONNECTOR_NOT_ALLOWED' },
  { name: 'connector allowlist: none named', run: one(() => lookup({ connector: null })), verdict: 'DENY', reason: 'CONNECTOR_NOT_ALLOWED' },
  { name: 'destination scoping: wildcard subdomain allowed', run: one(() => fetchDoc('https://eu.partner-docs.example/x')), verdict: 'ALLOW', reason: 'ALLOWED' },
  { name: 'destination scoping: host outside the allowlist', run: one(() => fetchDoc('https://evil.example.net/x')), verdict: 'DENY', reason: 'DATA_EGRESS_BLOCKED' },
  { name: 'destination scoping: credentials trick', run: one(() => fetchDoc('https://docs.example.com@evil.example.net/')), verdict: 'DENY', reason: 'DATA_EGRESS_BLOCKED' },
  { name: 'destination scoping: host argument inside array items', run: one(() => req('mail.send', { to: [{ host: 'mail.example-customer.com', user: 'a' }, { host: 'evil.example.net', user: 'b' }], subject: 's', body: 'b' })), verdict: 'DENY', reason: 'DATA_EGRESS_BLOCKED' },
  { name: 'sandbox profile: tool requires one, executor offers none', run: one(() => fetchDoc('https://docs.example.com/a', { sandbox: null })), verdict: 'DENY', reason: 'SANDBOX_VIOLATION' },
  { name: 'sandbox profile: destructive class mapping applies', run: one(() => req('ops.purge_cache', { prefix: '/static/' }, { principal: OPS, sandbox: null })), verdict: 'DENY', reason: 'SANDBOX_VIOLATION' },

  // -- budgets and rate limits (state kept by the PEP)
  {
    name: 'budget: calls exhausted',
    opts: patched((d) => (d.budgets![0]!.maxCalls = 3)),
    run: async (h) => {
      for (let i = 0; i < 3; i++) await decided(h, lookup(), 'ALLOW');
      return h.pep.decide(lookup());
    },
    verdict: 'DENY',
    reason: 'BUDGET_EXCEEDED',
  },
  {
    name: 'budget: cost units exhausted',
    opts: patched((d) => (d.budgets![1]!.maxCost = 2)),
    run: async (h) => {
      for (let i = 0; i < 2; i++) await decided(h, refund(500), 'ALLOW');
      return h.pep.decide(refund(500));
    },
    verdict: 'DENY',
    reason: 'BUDGET_EXCEEDED',
  },
  {
    name: 'budget: a new window starts fresh',
    opts: patched((d) => (d.budgets![0]!.maxCalls = 1)),
    run: async (h) => {
      await decided(h, lookup(), 'ALLOW');
      await decided(h, lookup(), 'DENY');
      h.clock.advance(60 * MIN);
      return h.pep.decide(lookup());
    },
    verdict: 'ALLOW',
    reason: 'ALLOWED',
  },
  {
    name: 'rate limit: empty bucket throttles with retryAfterMs',
    run: async (h) => {
      for (let i = 0; i < 5; i++) await decided(h, mail(`m${i}`), 'ALLOW');
      const o = await h.pep.decide(mail('m5'));
      if (o.retryAfterMs !== MIN) throw new Error(`retryAfterMs ${o.retryAfterMs}`);
      return o;
    },
    verdict: 'DENY',
    reason: 'TEMPORAL_THROTTLE',
  },
  {
    name: 'rate limit: the bucket refills on the PEP clock',
    run: async (h) => {
      for (let i = 0; i < 5; i++) await decided(h, mail(`m${i}`), 'ALLOW');
      await decided(h, mail('m5'), 'DENY');
      h.clock.advance(MIN);
      return h.pep.decide(mail('m6'));
    },
    verdict: 'ALLOW',
    reason: 'ALLOWED',
  },

  // -- the approval ceremony
  { name: 'escalate: a large refund opens a ceremony', run: one(() => refund(20000)), verdict: 'ESCALATE', reason: 'APPROVAL_REQUIRED', ruleIds: ['escalate-large-refund'] },
  {
    name: 'escalate -> approve (quorum 2, after timelock and hold) -> allowed once',
    run: async (h) => {
      await approvedRetry(h);
      return h.pep.decide(refund(20000));
    },
    verdict: 'ALLOW',
    reason: 'APPROVAL_GRANTED',
    ruleIds: ['escalate-large-refund'],
    basis: 'approved',
  },
  {
    name: 'escalate -> approve -> allowed once: the next identical call escalates again',
    run: async (h) => {
      await approvedRetry(h);
      await decided(h, refund(20000), 'ALLOW');
      return h.pep.decide(refund(20000));
    },
    verdict: 'ESCALATE',
    reason: 'APPROVAL_REQUIRED',
  },
  {
    name: 'escalate -> approve -> allowed once: the same idempotency key is a duplicate',
    run: async (h) => {
      await approvedRetry(h, { idempotencyKey: 'refund-77' });
      await decided(h, refund(20000, { idempotencyKey: 'refund-77' }), 'ALLOW');
      return h.pep.decide(refund(20000, { idempotencyKey: 'refund-77' }));
    },
    verdict: 'DENY',
    reason: 'ERR_IDEMPOTENCY_DUPLICATE',
    basis: 'duplicate',
  },
  {
    name: 'escalate -> retry before quorum stays pending',
    run: async (h) => {
      const ch = await escalate(h);
      h.clock.advance(MIN + 1000);
      await accepted(h, ch, approvers.alice);
      return h.pep.decide(refund(20000));
    },
    verdict: 'ESCALATE',
    reason: 'APPROVAL_REQUIRED',
    basis: 'approval-pending',
  },
  {
    name: 'escalate -> quorum -> retry inside the hold stays pending',
    run: async (h) => {
      const ch = await escalate(h);
      h.clock.advance(MIN + 1000);
      await accepted(h, ch, approvers.alice);
      await accepted(h, ch, approvers.carol);
      h.clock.advance(10_000);
      const o = await h.pep.decide(refund(20000));
      if (o.retryAfterMs !== 20_000) throw new Error(`retryAfterMs ${o.retryAfterMs}`);
      return o;
    },
    verdict: 'ESCALATE',
    reason: 'APPROVAL_REQUIRED',
    basis: 'approval-pending',
  },
  {
    name: 'escalate -> timeout -> deny',
    run: async (h) => {
      const ch = await escalate(h);
      h.clock.advance(MIN + 1000);
      await accepted(h, ch, approvers.alice);
      h.clock.advance(60 * MIN);
      return h.pep.decide(refund(20000));
    },
    verdict: 'DENY',
    reason: 'APPROVAL_TIMEOUT',
    basis: 'approval-timeout',
  },
  {
    name: 'approval with a key the bundle does not list is refused',
    run: async (h) => {
      const ch = await escalate(h);
      h.clock.advance(MIN + 1000);
      await accepted(h, ch, approvers.alice);
      refusedWith(await answer(h, ch, mallory), 'ERR_APPROVAL_WRONG_KEY');
      h.clock.advance(31_000);
      return h.pep.decide(refund(20000));
    },
    verdict: 'ESCALATE',
    reason: 'APPROVAL_REQUIRED',
    basis: 'approval-pending',
  },
  {
    name: "approval signed with another key under a listed approver's name is refused",
    run: async (h) => {
      const ch = await escalate(h);
      h.clock.advance(MIN + 1000);
      await accepted(h, ch, approvers.alice);
      const forged = { ...signApproval(ch, mallory), approver: approvers.bob.verifier.handle };
      refusedWith(await h.pep.approve(forged), 'ERR_APPROVAL_BAD_SIGNATURE');
      h.clock.advance(31_000);
      return h.pep.decide(refund(20000));
    },
    verdict: 'ESCALATE',
    reason: 'APPROVAL_REQUIRED',
    basis: 'approval-pending',
  },
  {
    name: 'a replayed nonce (approval of a used ceremony, or the same approver again) is refused',
    run: async (h) => {
      const ch = await approvedRetry(h);
      await decided(h, refund(20000), 'ALLOW');
      refusedWith(await answer(h, ch, approvers.carol), 'ERR_APPROVAL_REPLAYED');
      const next = await escalate(h);
      h.clock.advance(MIN + 1000);
      await accepted(h, next, approvers.alice);
      refusedWith(await answer(h, next, approvers.alice), 'ERR_APPROVAL_REPLAYED');
      refusedWith(await h.pep.approve(signApproval({ ...next, nonce: ch.nonce }, approvers.bob)), 'ERR_APPROVAL_DECISION_MISMATCH');
      h.clock.advance(31_000);
      return h.pep.decide(refund(20000));
    },
    verdict: 'ESCALATE',
    reason: 'APPROVAL_REQUIRED',
    basis: 'approval-pending',
  },
  {
    name: 'an approval before the timelock is refused (the PEP clock decides, not the approver)',
    run: async (h) => {
      const ch = await escalate(h);
      h.clock.advance(30_000);
      refusedWith(await answer(h, ch, approvers.alice), 'ERR_APPROVAL_TOO_EARLY');
      refusedWith(await answer(h, ch, approvers.bob), 'ERR_APPROVAL_TOO_EARLY');
      h.clock.advance(31_000 + 31_000);
      return h.pep.decide(refund(20000));
    },
    verdict: 'ESCALATE',
    reason: 'APPROVAL_REQUIRED',
    basis: 'approval-pending',
  },
  {
    name: 'an approval after the window closed is refused and the retry times out',
    run: async (h) => {
      const ch = await escalate(h);
      h.clock.advance(61 * MIN);
      refusedWith(await answer(h, ch, approvers.alice), 'ERR_APPROVAL_EXPIRED');
      return h.pep.decide(refund(20000));
    },
    verdict: 'DENY',
    reason: 'APPROVAL_TIMEOUT',
    basis: 'approval-timeout',
  },
  {
    name: 'an approver rejects: the retry is denied',
    run: async (h) => {
      const ch = await escalate(h);
      h.clock.advance(MIN + 1000);
      await accepted(h, ch, approvers.alice);
      const r = await answer(h, ch, approvers.carol, 'reject');
      if (!r.accepted) throw new Error(r.message);
      refusedWith(await answer(h, ch, approvers.bob), 'ERR_APPROVAL_REPLAYED');
      return h.pep.decide(refund(20000));
    },
    verdict: 'DENY',
    reason: 'APPROVAL_REJECTED',
    basis: 'approval-rejected',
  },

  // -- composition
  {
    name: 'composition: overlay DENY wins over base ALLOW',
    opts: composedWith(overlay({ rules: [{ id: 'no-contractor-crm', match: { tools: ['crm.*'] }, when: "'contractor' in principal.roles", verdict: 'DENY' }] })),
    run: one(() => lookup({ principal: { id: 'agent:c-1', roles: ['support', 'contractor'] } })),
    verdict: 'DENY',
    reason: 'POLICY_VIOLATION',
    ruleIds: ['no-contractor-crm'],
  },
  {
    name: 'composition: overlay ALLOW is an extra requirement (unmet)',
    opts: composedWith(overlay({ rules: [{ id: 'eu-only-tickets', match: { tools: ['tickets.update'] }, when: "has(context.region) && context.region == 'eu'", verdict: 'ALLOW' }] })),
    run: one(() => ticket({ ticketId: 7 })),
    verdict: 'DENY',
    reason: 'MISSING_REQUIREMENT',
    ruleIds: ['eu-only-tickets'],
  },
  {
    name: 'composition: overlay ESCALATE beats base ALLOW',
    opts: composedWith(overlay({ rules: [{ id: 'review-vip-lookup', match: { tools: ['crm.lookup_customer'] }, when: "has(args.email) && args.email.endsWith('@vip.example')", verdict: 'ESCALATE', approval: 'manager' }] })),
    run: one(() => lookup({ args: { email: 'ceo@vip.example' } })),
    verdict: 'ESCALATE',
    reason: 'APPROVAL_REQUIRED',
    ruleIds: ['review-vip-lookup'],
  },
  {
    name: 'composition: an overlay that widens a grant is refused; the call stays denied',
    run: async (h) => {
      const r = composeBundles(pepBundle(), [overlay({ grants: [{ id: 'junior-agents', principals: { roles: ['junior'] }, domains: ['tickets', 'kb'], profile: 'support-external' }] })], nodeSuite);
      if (r.ok) throw new Error('a widening overlay was composed');
      return h.pep.decide(mail('hi', { principal: JUNIOR }));
    },
    verdict: 'DENY',
    reason: 'CAPABILITY_VIOLATION',
  },
  {
    name: 'composition: an overlay ALLOW for every tool cannot widen the surface',
    opts: composedWith(overlay({ rules: [{ id: 'allow-everything', match: { tools: ['*'] }, verdict: 'ALLOW' }] })),
    run: one(() => mail('hi', { principal: JUNIOR })),
    verdict: 'DENY',
    reason: 'CAPABILITY_VIOLATION',
  },
  {
    name: 'composition: an overlay loaded as a bundle on its own is invalid',
    opts: { policy: signed(overlay({ rules: [{ id: 'allow-everything', match: { tools: ['*'] }, verdict: 'ALLOW' }] })) },
    run: one(() => lookup()),
    verdict: 'DENY',
    reason: 'BUNDLE_INVALID',
  },

  // -- output drift and duplicates
  {
    name: 'drift: a result that breaks the pinned output schema is recorded as rejected',
    run: async (h) => {
      const o = await decided(h, lookup(), 'ALLOW');
      const e = await h.pep.recordEffect(o.decision!.entryHash, { status: 'executed', confirmed: true, durationUs: 900 });
      if (!e.recorded) throw new Error(e.message);
      const r = await h.pep.recordResult(e.node.entryHash, { status: 'ok', output: { id: 'cus_1', name: 'Ann', tier: 'platinum', ssn: '000' } });
      if (!r.recorded || r.status !== 'rejected' || r.reasonCode !== 'ERR_CONNECTOR_CONTRACT_DRIFT') throw new Error(`drift not caught: ${JSON.stringify(r)}`);
      return o;
    },
    verdict: 'ALLOW',
    reason: 'ALLOWED',
  },
  {
    name: 'drift: a result that matches the pinned schema is ok',
    run: async (h) => {
      const o = await decided(h, lookup(), 'ALLOW');
      const e = await h.pep.recordEffect(o.decision!.entryHash, { status: 'executed', confirmed: true });
      if (!e.recorded) throw new Error(e.message);
      const r = await h.pep.recordResult(e.node.entryHash, { status: 'ok', output: { id: 'cus_1', name: 'Ann', tier: 'pro' } });
      if (!r.recorded || r.status !== 'ok' || r.reasonCode !== undefined) throw new Error(`good output refused: ${JSON.stringify(r)}`);
      return o;
    },
    verdict: 'ALLOW',
    reason: 'ALLOWED',
  },
  {
    name: 'duplicate: an idempotency key already used by an allowed call',
    run: async (h) => {
      await decided(h, lookup({ idempotencyKey: 'k-1' }), 'ALLOW');
      return h.pep.decide(lookup({ idempotencyKey: 'k-1' }));
    },
    verdict: 'DENY',
    reason: 'ERR_IDEMPOTENCY_DUPLICATE',
    basis: 'duplicate',
  },
  {
    name: 'duplicate: a key awaiting approval reused for other arguments',
    run: async (h) => {
      await escalate(h, { idempotencyKey: 'k-2' });
      return h.pep.decide(refund(30000, { idempotencyKey: 'k-2' }));
    },
    verdict: 'DENY',
    reason: 'ERR_IDEMPOTENCY_DUPLICATE',
    basis: 'duplicate',
  },
  {
    name: 'duplicate: a second effect for one allowed call is refused',
    run: async (h) => {
      const o = await decided(h, lookup(), 'ALLOW');
      const first = await h.pep.recordEffect(o.decision!.entryHash, { status: 'executed', confirmed: true });
      const second = await h.pep.recordEffect(o.decision!.entryHash, { status: 'executed', confirmed: true });
      if (!first.recorded || second.recorded || second.code !== 'ERR_IDEMPOTENCY_DUPLICATE') throw new Error(`duplicate effect not refused: ${JSON.stringify(second)}`);
      return o;
    },
    verdict: 'ALLOW',
    reason: 'ALLOWED',
  },
  {
    name: 'duplicate: a denied call does not use up its key',
    run: async (h) => {
      await decided(h, lookup({ idempotencyKey: 'k-3', connector: 'mailer' }), 'DENY');
      return h.pep.decide(lookup({ idempotencyKey: 'k-3' }));
    },
    verdict: 'ALLOW',
    reason: 'ALLOWED',
  },

  // -- bundle trust: every call is denied
  { name: 'bundle missing: every call denied', opts: { policy: null }, run: everyCall('BUNDLE_MISSING'), verdict: 'DENY', reason: 'BUNDLE_MISSING' },
  { name: 'bundle missing: a refund is denied', opts: { policy: null }, run: one(() => refund(500)), verdict: 'DENY', reason: 'BUNDLE_MISSING' },
  { name: 'bundle unsigned: every call denied', opts: { policy: { bundle: pepBundle() } }, run: everyCall('BUNDLE_UNSIGNED'), verdict: 'DENY', reason: 'BUNDLE_UNSIGNED' },
  { name: 'bundle signed by a revoked key: every call denied', opts: { trust: { roots: [bundleSigner.verifier], revoked: [bundleSigner.verifier.handle] } }, run: everyCall('SIGNER_REVOKED'), verdict: 'DENY', reason: 'SIGNER_REVOKED' },
  { name: 'bundle signed by a key that is not a root', opts: { policy: signed(pepBundle(), otherSigner) }, run: one(() => lookup()), verdict: 'DENY', reason: 'SIGNER_UNTRUSTED' },
  {
    name: 'bundle changed after signing',
    opts: { policy: { bundle: pepBundle((d) => (d.metadata.version = 'tampered')), signature: signed(pepBundle()).signature } },
    run: one(() => lookup()),
    verdict: 'DENY',
    reason: 'HASH_MISMATCH',
  },
  { name: 'bundle signed but failing lint', opts: patched((d) => d.rules.push({ id: 'broken', when: 'args.x +', verdict: 'DENY' })), run: one(() => lookup()), verdict: 'DENY', reason: 'BUNDLE_INVALID' },
  {
    name: 'bundle replaced at run time by an unsigned one: calls denied at once',
    run: async (h) => {
      await decided(h, lookup(), 'ALLOW');
      await h.pep.setPolicy({ bundle: pepBundle() });
      return h.pep.decide(lookup());
    },
    verdict: 'DENY',
    reason: 'BUNDLE_UNSIGNED',
  },

  // -- malformed requests
  { name: 'bad input: args not an object', run: one(() => lookup({ args: 'cus_12345678' as unknown as Record<string, never> })), verdict: 'DENY', reason: 'ENVELOPE_INVALID' },
  { name: 'bad input: a decimal beyond the exact limits in the arguments', run: one(() => ticket({ ticketId: 0.1 + 0.2 })), verdict: 'DENY', reason: 'DECIMAL_PRECISION_EXCEEDED' },
  { name: 'bad input: the request is not an object', run: one(() => 'please look up cus_12345678'), verdict: 'DENY', reason: 'ENVELOPE_INVALID' },
  { name: 'bad input: an empty idempotency key', run: one(() => lookup({ idempotencyKey: '' })), verdict: 'DENY', reason: 'ENVELOPE_INVALID', basis: 'request' },
  { name: 'bad input: an unknown request field', run: one(() => lookup({ admin: true })), verdict: 'DENY', reason: 'ENVELOPE_INVALID', basis: 'request' },
  { name: 'backpressure: an overloaded PEP throttles with a receipt', opts: { pep: { maxPending: 0, overloadRetryMs: 250 } }, run: one(() => lookup()), verdict: 'DENY', reason: 'TEMPORAL_THROTTLE', basis: 'overload' },
];

describe('PEP scenario catalogue', () => {
  it('has at least 50 distinct cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.map((c, i) => [c.name, i] as const))('%s', async (_name, i) => {
    const c = cases[i]!;
    const h = await lab.harness(`s${i}`, c.opts ?? {});
    const o = await c.run(h);
    expect({ verdict: o.verdict, reasonCode: o.reasonCode }).toEqual({ verdict: c.verdict, reasonCode: c.reason });
    if (c.ruleIds) expect(o.ruleIds).toEqual(c.ruleIds);
    expect(o.basis?.kind).toBe(c.basis);
    expect(o.recorded).toBe(true);
    const r = await receiptOf(h, o);
    expect(r.body).toMatchObject({ callId: o.callId, verdict: c.verdict, reasonCode: c.reason, engine: 'helm-guardian/0.1.0', inputDigest: o.inputDigest, policyDigest: o.policyDigest });
    expect(r.intent.statement.predicate.body).toMatchObject({ callId: o.callId });
    // Only an ALLOW consumes; an ESCALATE that opens a ceremony carries its challenge nonce.
    expect(r.body.consumed !== undefined).toBe(c.verdict === 'ALLOW');
    if (c.verdict === 'ESCALATE') expect(o.challenge?.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await h.close();
  });
});

describe('a pack of every scenario', () => {
  it('verifies, carries every input and bundle, and replays with zero divergences', async () => {
    await lab.close();
    const ex = await exportPack({ store: lab.root, exporterKey: lab.keys.exporter });
    expect(ex.notes.filter((n) => n.includes('not stored'))).toEqual([]);
    const v = await verifyPack(ex.bytes, parseTrustPolicy(lab.policyText(), 'lab.policy'), { suite: nodeSuite });
    expect(v.problems).toEqual([]);
    expect(v.blobs.inputs).toBeGreaterThan(cases.length);
    const r = replayPack(ex.bytes, { suite: nodeSuite, decisions: guardianReplayer({ suite: nodeSuite }) });
    expect(r.problems).toEqual([]);
    const d = r.decisions!;
    expect(d.diverged).toBe(0);
    expect(d.skipped).toBe(0);
    expect(d.decisions).toBeGreaterThan(cases.length);
    expect(d.identical).toBe(d.decisions);
  });
});

void SUPPORT;
void trust;
