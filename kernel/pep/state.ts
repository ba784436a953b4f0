// Everything the PEP remembers between calls. All of it is a fold over its own ProofGraph log
// (rebuild.ts), so a restart loses nothing that was recorded: limit counters come from ALLOW
// decisions, used idempotency keys from ALLOWs whose intent carried one, ceremonies from
// ESCALATE decisions and approval nodes, effects and results from their nodes.
import type { HashRef } from '../contracts/node.js';
import type { Verdict } from '../guardian/reason-codes.js';
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

export class PepState {
  readonly ledger = new LimitLedger();
  readonly ceremonies = new CeremonyBook();
  /** callKey (of an idempotency key) -> the ALLOW that used it. */
  readonly usedKeys = new Map<string, UsedKey>();
  readonly decisions = new Map<string, DecisionInfo>();
  /**
   * ALLOW decisions by what identifies the call on another surface: principal + callId, and
   * principal + tool + argsDigest. A call the proxy allowed and the agent then executes through
   * the MCP gateway continues that causal chain (see Pep.allowedDecisionFor).
   */
  readonly allowsByCall = new Map<string, HashRef>();
  readonly allowsByArgs = new Map<string, HashRef>();
  readonly effects = new Map<string, EffectInfo>();
  /** Latest clock reading used: the PEP's time never runs backwards. */
  lastMs = 0;
}

export const allowCallKey = (principal: string, callId: string): string => JSON.stringify([principal, callId]);
export const allowArgsKey = (principal: string, tool: string, argsDigest: HashRef): string => JSON.stringify([principal, tool, argsDigest]);

/** Indexes an ALLOW so another surface can find it (the latest ALLOW for a key wins). */
export function noteAllow(state: PepState, hash: HashRef, intent: { principal: string; callId: string; tool: string; argsDigest: HashRef }): void {
  state.allowsByCall.set(allowCallKey(intent.principal, intent.callId), hash);
  state.allowsByArgs.set(allowArgsKey(intent.principal, intent.tool, intent.argsDigest), hash);
}
