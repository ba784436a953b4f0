// Everything the PEP remembers between calls. All of it is a fold over its own ProofGraph log
// (rebuild.ts), so a restart loses nothing that was recorded: limit counters come from ALLOW
// decisions, used idempotency keys from ALLOWs whose intent carried one, ceremonies from
// ESCALATE decisions and approval nodes, effects and results from their nodes.
import type { HashRef } from '../contracts/node.js';
import type { Verdict } from '../guardian/reason-codes.js';
import { BoundedMap } from './bounded.js';
import { CeremonyBook } from './ceremony.js';
import { LimitLedger } from './ledger.js';

export interface DecisionInfo {
  readonly callId: string;
  readonly tool: string;
  /** From the intent: who asked, and the digest of the arguments that were decided on. */
  readonly principal?: string;
  readonly argsDigest?: HashRef;
  readonly verdict: Verdict;
  readonly policyDigest: HashRef | null;
  /** The effect node recorded for it; 'pending' while one is being appended. */
  effect: HashRef | 'pending' | null;
  /**
   * An ALLOW taken for execution (docs/spec/pep.md §6.1): set when it is recorded on a surface that
   * executes what it decides (every surface but openai), or by the one claim of a delivered ALLOW.
   */
  claimed?: boolean;
}

export interface EffectInfo {
  readonly decision: HashRef;
  readonly callId: string;
  readonly tool: string;
  readonly policyDigest: HashRef | null;
  result: HashRef | 'pending' | null;
}

/** An idempotency key some ALLOW used: the decision's entry hash once it is durable. */
export interface UsedKey {
  decision: HashRef | null;
}

/** Open ALLOWs another surface can still find; older ones are forgotten by the indexes. */
export const MAX_OPEN_ALLOWS = 10_000;

/** Decisions (and effects) the PEP keeps in memory; the log keeps them all. */
export const MAX_DECISIONS = 100_000;

export class PepState {
  readonly ledger = new LimitLedger();
  readonly ceremonies = new CeremonyBook();
  /** callKey (of an idempotency key) -> the ALLOW that used it. */
  readonly usedKeys = new Map<string, UsedKey>();
  /**
   * The latest MAX_DECISIONS decisions (oldest out, never one whose effect is being appended): an
   * effect reported for an older one is refused ERR_PEP_UNKNOWN_DECISION.
   */
  readonly decisions: BoundedMap<string, DecisionInfo>;
  /**
   * ALLOW decisions by what identifies the call on another surface: principal + callId, and
   * principal + tool + argsDigest. A call the proxy allowed and the agent then executes through
   * the MCP gateway continues that causal chain (see Pep.allowedDecisionFor and Pep.claim). Only open (unclaimed)
   * ALLOWs of the openai surface are indexed, at most MAX_OPEN_ALLOWS of them (oldest out: an
   * evicted ALLOW is no longer found by another surface, whose call is then decided anew).
   */
  readonly allowsByCall = new Map<string, HashRef>();
  readonly allowsByArgs = new Map<string, HashRef>();
  /** The latest MAX_DECISIONS effects (never one whose result is being appended). */
  readonly effects: BoundedMap<string, EffectInfo>;
  /** Cap of each open-ALLOW index (allowsByCall, allowsByArgs). */
  readonly maxOpenAllows: number;
  /** Latest clock reading used: the PEP's time never runs backwards. */
  lastMs = 0;

  constructor(caps: { maxDecisions?: number; maxOpenAllows?: number } = {}) {
    this.decisions = new BoundedMap(caps.maxDecisions ?? MAX_DECISIONS, (d) => d.effect !== 'pending');
    this.effects = new BoundedMap(caps.maxDecisions ?? MAX_DECISIONS, (e) => e.result !== 'pending');
    this.maxOpenAllows = caps.maxOpenAllows ?? MAX_OPEN_ALLOWS;
  }

  /** How many entries each in-memory structure holds (diagnostics and the bounds tests). */
  footprint(): Record<string, number> {
    return { decisions: this.decisions.size, effects: this.effects.size, allowsByCall: this.allowsByCall.size, allowsByArgs: this.allowsByArgs.size, usedKeys: this.usedKeys.size, ...this.ceremonies.footprint() };
  }
}

export const allowCallKey = (principal: string, callId: string): string => JSON.stringify([principal, callId]);
export const allowArgsKey = (principal: string, tool: string, argsDigest: HashRef): string => JSON.stringify([principal, tool, argsDigest]);

/** The surface whose ALLOWs are delivered to the agent rather than executed by the surface itself. */
const DELIVERING_SURFACE = 'openai';

function boundedSet(m: Map<string, HashRef>, k: string, v: HashRef, cap: number): void {
  m.delete(k); // re-inserted as newest
  m.set(k, v);
  while (m.size > cap) m.delete(m.keys().next().value as string);
}

/**
 * Notes a recorded ALLOW (also on restart). A surface that executes what it decides (mcp, rest,
 * cli) holds its ALLOW's claim from the start; an openai ALLOW is delivered to the agent and stays
 * open, indexed so another surface can find it (the latest ALLOW for a key wins), until claimed.
 */
export function noteAllow(state: PepState, hash: HashRef, intent: { surface: string; principal: string; callId: string; tool: string; argsDigest: HashRef }): void {
  const d = state.decisions.get(hash);
  if (intent.surface !== DELIVERING_SURFACE) {
    if (d) d.claimed = true;
    return;
  }
  boundedSet(state.allowsByCall, allowCallKey(intent.principal, intent.callId), hash, state.maxOpenAllows);
  boundedSet(state.allowsByArgs, allowArgsKey(intent.principal, intent.tool, intent.argsDigest), hash, state.maxOpenAllows);
}

/**
 * Takes an ALLOW for execution: true exactly once per decision, false when it is unknown, not an
 * ALLOW, already claimed or already has an effect. Synchronous, so two callers cannot both win.
 */
export function claimDecision(state: PepState, hash: HashRef): boolean {
  const d = state.decisions.get(hash);
  if (!d || d.verdict !== 'ALLOW' || d.claimed === true || d.effect !== null) return false;
  d.claimed = true;
  if (d.principal !== undefined) {
    const byCall = allowCallKey(d.principal, d.callId);
    if (state.allowsByCall.get(byCall) === hash) state.allowsByCall.delete(byCall);
    if (d.argsDigest !== undefined) {
      const byArgs = allowArgsKey(d.principal, d.tool, d.argsDigest);
      if (state.allowsByArgs.get(byArgs) === hash) state.allowsByArgs.delete(byArgs);
    }
  }
  return true;
}
