// What both directions of the A2A surface share: the PEP, this agent's A2A key and principal,
// the nonce store and the count of calls made under each delegation token.
import { randomUUID } from 'node:crypto';
import type { NonceStore } from '../../kernel/a2a/nonces.js';
import type { SigningKey } from '../../kernel/crypto/signing-key.js';
import { a2aOf } from '../../kernel/guardian/a2a-evaluate.js';
import type { CompiledA2a } from '../../kernel/guardian/a2a-policy.js';
import type { CompiledBundle } from '../../kernel/guardian/compile.js';
import type { Pep, PepOutcome } from '../../kernel/pep/index.js';
import type { Principal } from '../config/load.js';
import type { Logger } from '../log.js';
import type { Settle, Verdict } from './http.js';
import { taskIdsOf } from './rpc.js';
import type { HashRef } from '../../kernel/contracts/node.js';
import type { A2aJournal } from './journal.js';
import type { DelegationLedger } from './task.js';

export interface A2aContext {
  pep: Pep;
  principal: Principal;
  key: SigningKey;
  /** This agent's own A2A server (inbound target); null: no inbound surface. */
  agentUrl: string | null;
  nonces: NonceStore;
  /** Where accepted nonces are journaled (null: memory only). */
  nonceJournal: A2aJournal | null;
  /** Tasks accepted and calls already allowed under each delegation token (by jti). */
  ledger: DelegationLedger;
  random(n: number): Uint8Array;
  log: Logger;
  /** Largest body read, in bytes (a larger one is judged as that size + 1 and denied). */
  maxBodyBytes: number;
  fetchTimeoutMs: number;
  /** Tasks created through this sidecar: `${direction}\n${peer}\n${id}` → the skill (bounded). */
  tasks: Map<string, string>;
  /** The agent's own card as last read (inbound), and when. */
  ownCard: { card: Record<string, unknown>; atMs: number } | null;
}

export function callId(): string {
  return `a2a-${randomUUID()}`;
}

/** The bundle in force and its a2a section, when a bundle is in force. */
export function bundleInForce(pep: Pep): { bundle: CompiledBundle; a2a: CompiledA2a } | null {
  const p = pep.policy;
  return p.status === 'ready' ? { bundle: p.bundle, a2a: a2aOf(p.bundle) } : null;
}

export function verdictOf(o: PepOutcome): Verdict {
  return { verdict: o.verdict, reasonCode: o.reasonCode, decision: o.decision?.entryHash ?? null, detail: o.detail };
}

/** Fetches JSON (bounded, with a timeout); null on any failure. */
export async function fetchJson(url: string, timeoutMs: number, max = 65536): Promise<Record<string, unknown> | null> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return null;
    const text = await r.text();
    if (text.length > max) return null;
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Records the effect of an allowed call (docs/spec/a2a.md §7): its hash as a header, or null. */
export function settleEffect(ctx: A2aContext, decision: HashRef): Settle {
  return async (ended) => {
    const e = await ctx.pep.recordEffect(decision, { status: ended.status, ...(ended.error ? { error: ended.error } : {}) });
    if (!e.recorded) ctx.log.warn('A2A effect not recorded', { decision, code: e.code, message: e.message });
    return e.recorded ? { 'x-helm-effect-hash': e.node.entryHash } : null;
  };
}

const MAX_TASKS = 100_000;

/** What a GetTask / CancelTask is judged with: the task as this sidecar saw it created, or null. */
export function taskSeen(ctx: A2aContext, direction: 'in' | 'out', peer: string | null, id: string | null): { id: string; peer: string; skill: string } | null {
  if (peer === null || id === null) return null;
  const skill = ctx.tasks.get(`${direction}\n${peer}\n${id}`);
  return skill === undefined ? null : { id, peer, skill };
}

/** Wraps a relay check so every task an allowed call's answer names is remembered as the peer's. */
export function noteTasks(ctx: A2aContext, direction: 'in' | 'out', peer: string, skill: string | null, check: (event: string) => Verdict | null): (event: string) => Verdict | null {
  return (event) => {
    if (skill !== null) {
      for (const id of taskIdsOf(event)) {
        const key = `${direction}\n${peer}\n${id}`;
        ctx.tasks.delete(key);
        ctx.tasks.set(key, skill);
        if (ctx.tasks.size > MAX_TASKS) ctx.tasks.delete(ctx.tasks.keys().next().value!);
      }
    }
    return check(event);
  };
}
