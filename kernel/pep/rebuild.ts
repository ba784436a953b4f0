// Restart: the PEP's state is rebuilt by folding its own log in order (docs/spec/pep.md §4).
// Only recorded facts count, so a reservation whose decision never became durable is forgotten,
// which is right: that call was answered 503 and never ran.
import type { CryptoSuite } from '../crypto/suite.js';
import { decodeNode, type FoldedNode, type HashRef } from '../contracts/node.js';
import { parseInstant } from '../guardian/decision-input.js';
import { newCeremony } from './ceremony.js';
import type { IntentBody } from './request.js';
import { noteAllow } from './state.js';
import { callKey } from './request.js';
import type { PepState } from './state.js';
import type { DecisionRecord } from './types.js';

export interface RebuildReport {
  nodes: number;
  decisions: number;
  /** The log size the fold started from: 0 for a full rebuild, else a start-up snapshot's size. */
  from?: number;
  /** The fold as it stood at log size `nodes`, before anything live touched it (seeds the snapshot keeper). */
  snapshot?: unknown;
}

type Body = Record<string, unknown>;

function sameLogParents(parents: ReadonlyArray<{ hash: string; origin?: string }>): HashRef[] {
  return parents.filter((p) => p.origin === undefined).map((p) => p.hash as HashRef);
}

/**
 * The fold, one node at a time, so it can continue from a snapshot (snapshot.ts) or follow a log
 * as it grows. `intents` holds the intents still waiting for their decision.
 */
export class PepFold {
  readonly intents = new Map<string, IntentBody>();
  decisions = 0;
  nodes = 0;

  constructor(
    readonly state: PepState,
    private readonly suite: CryptoSuite,
  ) {}

  apply(entry: Uint8Array): void {
    this.applyNode(decodeNode(this.suite, entry));
  }

  applyNode(node: FoldedNode): void {
    const state = this.state;
    const intents = this.intents;
    this.nodes++;
    const p = node.statement.predicate;
    const parents = sameLogParents(p.parents as Array<{ hash: string; origin?: string }>);
    const t = parseInstant(p.time);
    if (t !== null && t > state.lastMs) state.lastMs = t;
    const body = p.body as Body;
    switch (node.kind) {
      case 'intent':
        intents.set(node.entryHash, body as unknown as IntentBody);
        break;
      case 'decision': {
        this.decisions++;
        foldDecision(state, node.entryHash, body as unknown as DecisionRecord, parents.map((h) => intents.get(h)).find((x) => x !== undefined) ?? null);
        for (const h of parents) intents.delete(h);
        break;
      }
      case 'approval': {
        const c = state.ceremonies.nonce(String(body.nonce));
        const at = typeof body.acceptedAt === 'string' ? parseInstant(body.acceptedAt) : t;
        if (c && at !== null) c.approvals.push({ approver: String(body.approver), verdict: body.verdict === 'reject' ? 'reject' : 'approve', acceptedAtMs: at, node: node.entryHash });
        break;
      }
      case 'effect': {
        const d = parents.map((h) => state.decisions.get(h)).find((x) => x !== undefined);
        const dh = parents.find((h) => state.decisions.has(h));
        if (d && dh) {
          d.effect = node.entryHash;
          state.effects.set(node.entryHash, { decision: dh, callId: d.callId, tool: d.tool, policyDigest: d.policyDigest, result: null });
        }
        break;
      }
      case 'result': {
        const e = parents.map((h) => state.effects.get(h)).find((x) => x !== undefined);
        if (e) e.result = node.entryHash;
        break;
      }
      default:
        break;
    }
  }
}

export function rebuildState(state: PepState, entries: readonly Uint8Array[], suite: CryptoSuite): RebuildReport {
  const fold = new PepFold(state, suite);
  for (const entry of entries) fold.apply(entry);
  return { nodes: entries.length, decisions: fold.decisions };
}

function foldDecision(state: PepState, hash: HashRef, b: DecisionRecord, intent: IntentBody | null): void {
  state.decisions.set(hash, { callId: b.callId, tool: b.tool, verdict: b.verdict, policyDigest: b.policyDigest, effect: null, ...(intent ? { principal: intent.principal, argsDigest: intent.argsDigest } : {}) });
  if (b.verdict === 'ALLOW' && intent) noteAllow(state, hash, intent);
  if (b.verdict === 'ALLOW' && b.consumed) state.ledger.apply(b.consumed);
  if (b.verdict === 'ALLOW' && intent?.idempotencyKey !== undefined && intent) {
    state.usedKeys.set(callKey(intent.principal, intent.tool, intent.argsDigest, intent.idempotencyKey), { decision: hash });
  }
  if (b.escalation && !b.basis && intent && b.policyDigest !== null) {
    const c = newCeremony({
      nonce: b.escalation.nonce,
      callKey: callKey(intent.principal, intent.tool, intent.argsDigest, intent.idempotencyKey ?? null),
      callId: b.callId,
      principal: intent.principal,
      tool: intent.tool,
      argsDigest: intent.argsDigest,
      policyDigest: b.policyDigest,
      escalation: b.escalation,
    });
    state.ceremonies.start(c);
    state.ceremonies.recorded(c, hash);
  }
  const basis = b.basis;
  if (!basis) return;
  const c = basis.kind === 'approved' && basis.decision ? state.ceremonies.ofDecision(basis.decision) : basis.nonce ? state.ceremonies.nonce(basis.nonce) : null;
  if (!c) return;
  if (basis.kind === 'approved') state.ceremonies.close(c, 'granted');
  else if (basis.kind === 'approval-timeout') state.ceremonies.close(c, 'expired');
  else if (basis.kind === 'approval-rejected') state.ceremonies.close(c, 'rejected');
}
