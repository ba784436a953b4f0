// Policy replay of one recorded decision (docs/spec/pep.md §8): re-evaluate the recorded canonical
// input under the pinned bundle with the same pure Guardian and compare field by field. When the
// PEP recorded a basis (an approval let the call through, a duplicate key, a closed ceremony) the
// evaluation must be one the basis applies to, and the basis itself is checked against the pack:
// the escalation it names, the approval nodes, their signatures by the bundle's approver keys and
// the PEP-clock window.
import { fromUtf8 } from '../crypto/bytes.js';
import { jcsString } from '../crypto/jcs.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { DecisionReplay, DecisionReplayer, ReplayGraph, ReplayNode } from '../evidence/decision-replay.js';
import { compileBundle, type CompiledBundle } from '../guardian/compile.js';
import { canonicalDecisionInput, formatInstant, parseInstant, type DecisionInput } from '../guardian/decision-input.js';
import { ENGINE, evaluate, type Decision } from '../guardian/evaluate.js';
import { policyFromCompiled } from '../guardian/policy.js';
import { REASON_CODES, isReasonCode } from '../guardian/reason-codes.js';
import { verifyApproval, type ApprovalSubmission } from './approval-message.js';
import { consumptionFor } from './consumption.js';
import type { Basis, DecisionRecord, EscalationRecord } from './types.js';

export interface ReplayerOptions {
  suite: CryptoSuite;
  /**
   * What-if: evaluate every decision under this bundle instead of the pinned one (inputs are
   * re-pinned to it). Every decision the other bundle would decide differently is a divergence.
   */
  bundle?: CompiledBundle;
}

const hexOf = (h: string): string => h.slice('sha256:'.length);
const same = (a: unknown, b: unknown): boolean => jcsString(a ?? null) === jcsString(b ?? null);

export function guardianReplayer(o: ReplayerOptions): DecisionReplayer {
  // Compiled bundles are cached per pack: two packs may carry different bytes under one name.
  const perPack = new WeakMap<ReplayGraph, Map<string, CompiledBundle | string>>();
  const loadBundle = (g: ReplayGraph, digest: string): CompiledBundle | string => {
    if (o.bundle) return o.bundle;
    let bundles = perPack.get(g);
    if (!bundles) perPack.set(g, (bundles = new Map()));
    let hit = bundles.get(digest);
    if (hit === undefined) {
      const bytes = g.blob('policy', hexOf(digest));
      if (!bytes) hit = `bundle ${digest} is not in the pack (or its bytes do not match its hash)`;
      else {
        const c = compileBundle(JSON.parse(fromUtf8(bytes)), o.suite);
        hit = c.ok ? c.bundle : `bundle ${digest} does not compile: ${c.errors[0]?.path} ${c.errors[0]?.message}`;
      }
      bundles.set(digest, hit);
    }
    return hit;
  };
  return (d, g) => replayOne(o, d, g, loadBundle);
}

function replayOne(o: ReplayerOptions, d: ReplayNode, g: ReplayGraph, loadBundle: (g: ReplayGraph, digest: string) => CompiledBundle | string): DecisionReplay {
  const b = d.body as unknown as DecisionRecord;
  if (b.engine !== ENGINE) return { status: 'skipped', reasons: [`engine ${String(b.engine)} is not ${ENGINE}`] };
  if (isReasonCode(b.reasonCode) && REASON_CODES[b.reasonCode].category === 'bundle' && !o.bundle) {
    // Bundle trust depends on the trust roots and revocations in force, which no pack carries.
    const reasons = [...(b.verdict === 'DENY' ? [] : [`a ${b.reasonCode} decision must be DENY`]), ...(b.ruleIds.length ? ['a bundle failure matches no rules'] : [])];
    return reasons.length ? { status: 'diverged', reasons } : { status: 'identical', reasons: ['bundle trust is not re-derived: it depends on the trust roots and revocations in force'] };
  }
  if (b.policyDigest === null && !o.bundle) return { status: 'diverged', reasons: [`no bundle was in force, yet the reason is ${b.reasonCode}`] };
  const bundle = loadBundle(g, b.policyDigest ?? '');
  if (typeof bundle === 'string') return { status: 'diverged', reasons: [bundle] };
  const inputBytes = g.blob('input', hexOf(b.inputDigest));
  if (!inputBytes) return { status: 'diverged', reasons: [`input ${b.inputDigest} is not in the pack (or its bytes do not match its hash)`] };
  let input = JSON.parse(fromUtf8(inputBytes)) as Record<string, unknown>;
  if (o.bundle) input = { ...input, policyDigest: o.bundle.contentHash };
  const e = evaluate(policyFromCompiled(bundle), input);
  const replayed = { verdict: e.verdict, reasonCode: e.reasonCode, ruleIds: [...e.ruleIds] };
  const canon = canonicalDecisionInput(input);
  const reasons = b.basis ? checkBasis(o, d, b, b.basis, e, canon.ok ? canon.input : null, bundle, g) : compare(o, b, e, canon.ok ? canon.input : null);
  return { status: reasons.length ? 'diverged' : 'identical', reasons, replayed };
}

/** No basis: the record must be exactly the evaluation. */
function compare(o: ReplayerOptions, b: DecisionRecord, e: Decision, input: DecisionInput | null): string[] {
  const r: string[] = [];
  if (e.verdict !== b.verdict || e.reasonCode !== b.reasonCode) r.push(`verdict ${b.verdict} ${b.reasonCode} recorded, ${e.verdict} ${e.reasonCode} replayed`);
  if (!same(e.ruleIds, b.ruleIds)) r.push(`rule ids [${b.ruleIds.join(', ')}] recorded, [${e.ruleIds.join(', ')}] replayed`);
  if (!o.bundle) {
    if (e.policyDigest !== b.policyDigest) r.push(`policy digest ${String(b.policyDigest)} recorded, ${String(e.policyDigest)} replayed`);
    if (e.inputDigest !== b.inputDigest) r.push(`input digest ${b.inputDigest} recorded, ${e.inputDigest} replayed`);
  }
  if (!same(e.consumed, b.consumed)) r.push('the consumption differs');
  if (e.retryAfterMs !== b.retryAfterMs) r.push(`retryAfterMs ${String(b.retryAfterMs)} recorded, ${String(e.retryAfterMs)} replayed`);
  if (e.sandbox !== b.sandbox) r.push(`sandbox ${String(b.sandbox)} recorded, ${String(e.sandbox)} replayed`);
  if (e.escalation || b.escalation) r.push(...compareEscalation(b.escalation, e, input));
  return r;
}

function compareEscalation(rec: EscalationRecord | undefined, e: Decision, input: DecisionInput | null): string[] {
  if (!rec || !e.escalation || !input) return ['an escalation is recorded on one side only'];
  const x = e.escalation;
  const t0 = parseInstant(input.time)!;
  const want = { approval: x.approval, approvers: x.approvers, quorum: x.quorum, timelockSeconds: x.timelockSeconds, holdSeconds: x.holdSeconds, timeoutSeconds: x.timeoutSeconds, notBefore: formatInstant(t0 + x.timelockSeconds * 1000), expiresAt: formatInstant(t0 + x.timeoutSeconds * 1000) };
  const { nonce: _nonce, ...got } = rec;
  return same(want, got) ? [] : ['the escalation (requirement or window) differs'];
}

/** Lookups replay needs across the pack, built once per pack so replay stays linear. */
interface PackIndex {
  /** nonce -> the ESCALATE decision (no basis) that opened the ceremony. */
  readonly escalations: Map<string, ReplayNode>;
  /** origin, principal and idempotency key -> decisions of calls carrying that key, in pack order. */
  readonly keyUses: Map<string, ReplayNode[]>;
  /** escalation entry hash -> decisions that cite it as approved. */
  readonly grants: Map<string, ReplayNode[]>;
}

const indexes = new WeakMap<ReplayGraph, PackIndex>();

function packIndex(g: ReplayGraph): PackIndex {
  let ix = indexes.get(g);
  if (ix) return ix;
  ix = { escalations: new Map(), keyUses: new Map(), grants: new Map() };
  const push = (m: Map<string, ReplayNode[]>, k: string, n: ReplayNode) => {
    const list = m.get(k);
    if (list) list.push(n);
    else m.set(k, [n]);
  };
  for (const n of g.nodes()) {
    if (n.kind !== 'decision') continue;
    const basis = n.body.basis as Basis | undefined;
    const esc = n.body.escalation as EscalationRecord | undefined;
    if (esc && !basis) ix.escalations.set(esc.nonce, n);
    if (basis?.kind === 'approved' && basis.decision) push(ix.grants, basis.decision, n);
    const i = intentOf(g, n);
    if (i && typeof i.idempotencyKey === 'string') push(ix.keyUses, JSON.stringify([n.origin, i.principal, i.idempotencyKey]), n);
  }
  indexes.set(g, ix);
  return ix;
}

/** The ESCALATE decision that opened the ceremony with this nonce (the one with no basis). */
function escalationByNonce(g: ReplayGraph, nonce: string | undefined): ReplayNode | null {
  return nonce ? (packIndex(g).escalations.get(nonce) ?? null) : null;
}

function intentOf(g: ReplayGraph, d: ReplayNode): Record<string, unknown> | null {
  for (const p of d.parents) {
    const n = g.node(d.origin, p.hash);
    if (n?.kind === 'intent') return n.body as Record<string, unknown>;
  }
  return null;
}

function checkBasis(o: ReplayerOptions, d: ReplayNode, b: DecisionRecord, basis: Basis, e: Decision, input: DecisionInput | null, bundle: CompiledBundle, g: ReplayGraph): string[] {
  if (e.verdict === 'DENY') return [`the evaluation denies (${e.reasonCode}), so the PEP had no ${basis.kind} to apply`];
  if (!o.bundle && e.inputDigest !== b.inputDigest) return [`input digest ${b.inputDigest} recorded, ${e.inputDigest} replayed`];
  const expect = (verdict: string, reasonCode: string): string[] => (b.verdict === verdict && b.reasonCode === reasonCode ? [] : [`a ${basis.kind} decision must be ${verdict} ${reasonCode}, not ${b.verdict} ${b.reasonCode}`]);
  const t = input ? parseInstant(input.time)! : NaN;
  switch (basis.kind) {
    case 'request':
      return expect('DENY', 'ENVELOPE_INVALID');
    case 'overload':
      return [...expect('DENY', 'TEMPORAL_THROTTLE'), ...(b.retryAfterMs === undefined ? ['an overload throttle must say when to retry'] : [])];
    case 'duplicate':
      return [...expect('DENY', 'ERR_IDEMPOTENCY_DUPLICATE'), ...checkDuplicate(d, basis, g)];
    case 'approval-pending': {
      const x = escalationByNonce(g, basis.nonce);
      if (!x) return [`no escalation with nonce ${String(basis.nonce)} in the pack`];
      const esc = x.body.escalation as EscalationRecord;
      return [...(e.verdict === 'ESCALATE' && b.verdict === 'ESCALATE' && b.reasonCode === e.reasonCode ? [] : ['a pending approval must stay ESCALATE with the rule code']), ...(t < parseInstant(esc.expiresAt)! ? [] : ['the ceremony had expired: the call should have been denied APPROVAL_TIMEOUT'])];
    }
    case 'approval-timeout': {
      const x = escalationByNonce(g, basis.nonce);
      if (!x) return [`no escalation with nonce ${String(basis.nonce)} in the pack`];
      const esc = x.body.escalation as EscalationRecord;
      return [...expect('DENY', 'APPROVAL_TIMEOUT'), ...(e.verdict === 'ESCALATE' ? [] : ['the evaluation no longer escalates']), ...(t >= parseInstant(esc.expiresAt)! ? [] : [`the ceremony runs until ${esc.expiresAt}: no timeout at ${input?.time}`])];
    }
    case 'approval-rejected': {
      const x = escalationByNonce(g, basis.nonce);
      if (!x) return [`no escalation with nonce ${String(basis.nonce)} in the pack`];
      const rejected = g.children(x.origin, x.entryHash).some((a) => a.kind === 'approval' && a.body.verdict === 'reject' && a.body.nonce === basis.nonce && a.index < d.index && approvalSigned(o, a, bundle, x));
      return [...expect('DENY', 'APPROVAL_REJECTED'), ...(rejected ? [] : ['no signed rejection of the ceremony precedes the decision'])];
    }
    case 'approved':
      return [...expect('ALLOW', 'APPROVAL_GRANTED'), ...checkApproved(o, d, b, basis, e, input, bundle, g)];
  }
}

function checkDuplicate(d: ReplayNode, basis: Basis, g: ReplayGraph): string[] {
  const intent = intentOf(g, d);
  if (!intent || typeof intent.idempotencyKey !== 'string') return ['a duplicate needs an intent with an idempotency key'];
  const uses = packIndex(g).keyUses.get(JSON.stringify([d.origin, intent.principal, intent.idempotencyKey])) ?? [];
  const used = uses.some((n) => n.index < d.index && (basis.nonce ? (n.body.escalation as EscalationRecord | undefined)?.nonce === basis.nonce : n.body.verdict === 'ALLOW'));
  if (used) return [];
  // The earlier use may precede the pack's window; only a pack holding the whole log can tell.
  return g.windowStart(d.origin) === 0 ? [`no earlier use of idempotency key ${JSON.stringify(intent.idempotencyKey)} by ${String(intent.principal)} in the log`] : [];
}

function approvalSigned(o: ReplayerOptions, a: ReplayNode, bundle: CompiledBundle, x: ReplayNode): boolean {
  const esc = x.body.escalation as EscalationRecord;
  const key = bundle.approvals.get(esc.approval)?.approvers.find((k) => k.handle === a.body.approver);
  if (!key || typeof a.body.signature !== 'string') return false;
  const s: ApprovalSubmission = { decision: x.entryHash, policyDigest: String(x.body.policyDigest) as ApprovalSubmission['policyDigest'], nonce: esc.nonce, approver: String(a.body.approver), verdict: a.body.verdict === 'reject' ? 'reject' : 'approve', signature: a.body.signature };
  return verifyApproval(s, key, o.suite);
}

function checkApproved(o: ReplayerOptions, d: ReplayNode, b: DecisionRecord, basis: Basis, e: Decision, input: DecisionInput | null, bundle: CompiledBundle, g: ReplayGraph): string[] {
  const r: string[] = [];
  if (e.verdict !== 'ESCALATE' || !e.escalation || !input) return ['the evaluation does not escalate: there was nothing to approve'];
  if (!same(e.ruleIds, b.ruleIds)) r.push(`rule ids [${b.ruleIds.join(', ')}] recorded, [${e.ruleIds.join(', ')}] replayed`);
  const consumed = consumptionFor(bundle, input);
  if (typeof consumed === 'string' || !same(consumed, b.consumed)) r.push('the consumption differs');
  const x = basis.decision ? g.node(d.origin, basis.decision) : null;
  const esc = x?.body.escalation as EscalationRecord | undefined;
  if (!x || x.kind !== 'decision' || !esc || esc.nonce !== basis.nonce) return [...r, `the escalation ${String(basis.decision)} with nonce ${String(basis.nonce)} is not in the pack`];
  if (esc.approval !== e.escalation.approval || x.body.policyDigest !== b.policyDigest) r.push('the escalation was for another requirement or bundle');
  const xi = intentOf(g, x);
  const di = intentOf(g, d);
  if (!xi || !di || xi.principal !== di.principal || xi.tool !== di.tool || xi.argsDigest !== di.argsDigest) r.push('the approved call and the retried call differ (principal, tool or arguments)');
  const notBefore = parseInstant(esc.notBefore)!;
  const expiresAt = parseInstant(esc.expiresAt)!;
  const approvers = new Set<string>();
  let quorumAt = 0;
  for (const h of basis.approvals ?? []) {
    const a = g.node(d.origin, h);
    const at = typeof a?.body.acceptedAt === 'string' ? parseInstant(a.body.acceptedAt) : null;
    if (!a || a.kind !== 'approval' || a.body.decision !== x.entryHash || a.body.nonce !== esc.nonce || a.body.verdict !== 'approve' || a.index >= d.index) {
      r.push(`approval ${h} is not an earlier approval of this escalation in the pack`);
      continue;
    }
    if (!esc.approvers.includes(String(a.body.approver)) || approvers.has(String(a.body.approver))) r.push(`approval ${h} is by ${String(a.body.approver)}, not a distinct listed approver`);
    if (!approvalSigned(o, a, bundle, x)) r.push(`approval ${h} is not signed by ${String(a.body.approver)}'s key in the bundle`);
    if (at === null || at < notBefore || at >= expiresAt) r.push(`approval ${h} was accepted outside [${esc.notBefore}, ${esc.expiresAt})`);
    approvers.add(String(a.body.approver));
    quorumAt = Math.max(quorumAt, at ?? 0);
  }
  if (approvers.size < esc.quorum) r.push(`${approvers.size} approvals for a quorum of ${esc.quorum}`);
  const t = parseInstant(input.time)!;
  if (t < quorumAt + esc.holdSeconds * 1000) r.push(`the retry came at ${input.time}, inside the ${esc.holdSeconds}s hold after quorum`);
  if (t >= expiresAt) r.push(`the retry came at ${input.time}, after the ceremony expired (${esc.expiresAt})`);
  // A ceremony lets one call through: no other decision may cite the same escalation.
  const others = (packIndex(g).grants.get(x.entryHash) ?? []).filter((n) => n !== d);
  if (others.length) r.push(`the escalation was already used by the decision at index ${others[0]!.index}`);
  return r;
}

