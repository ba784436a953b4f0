// Binds the tool calls an agent makes for a delegated A2A task to that delegation
// (docs/spec/a2a.md §9). When the inbound surface accepts a task it records a binding under the
// task id it hands the agent (helm.task: the hash of its a2a.receive decision). The agent names
// the task on its later OpenAI and MCP requests with the helm-a2a-task header; those surfaces run
// the request inside forTask(), and every decision made there is judged with the binding in
// context.a2a.task (tools, budget, uses spent), spends the token's budget when allowed, and cites
// the receive decision as a parent. The header can only narrow: a request without it is judged
// under the agent's own policy, as it would be anyway; one naming an unknown task is denied.
// No @a2a-js/sdk import here: the OpenAI proxy and the MCP gateway load this file.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { DecisionRef } from '../../kernel/a2a/delegation.js';
import { isObject } from '../../kernel/a2a/refusal.js';
import type { TaskBinding } from '../../kernel/guardian/a2a-task.js';
import type { DecideOptions, Pep, PepOutcome } from '../../kernel/pep/index.js';
import type { A2aJournal, JournalState } from './journal.js';

export const TASK_HEADER = 'helm-a2a-task';
/** Bindings and token counts kept (the oldest are forgotten first). */
const MAX_TRACKED = 100_000;

export interface Bound {
  decision: DecisionRef;
  caller: string;
  jti: string | null;
  /** The token's exp (ms): how long its uses are remembered. */
  expMs: number;
  tools: string[];
  budget: number | null;
}

/** The tasks this sidecar accepted and the calls allowed under each delegation token. */
export class DelegationLedger {
  private readonly tasks = new Map<string, Bound>();
  /** jti → the latest task accepted under it. */
  private readonly byJti = new Map<string, string>();
  /** jti → [uses, token exp in ms]. */
  private readonly uses = new Map<string, [number, number]>();
  private journal: A2aJournal | null = null;

  constructor(private readonly maxTracked = MAX_TRACKED) {}

  /** Journals every use from now on, starting from the uses it remembers. */
  attach(journal: A2aJournal, state: JournalState): void {
    for (const [jti, [n, exp]] of state.uses) this.uses.set(jti, [n, exp]);
    for (const [id, b] of state.tasks) {
      this.tasks.set(id, b);
      this.index(id, b);
    }
    this.journal = journal;
  }

  bind(id: string, b: Bound): void {
    this.tasks.set(id, b);
    this.index(id, b);
    this.journal?.record({ task: id, bound: b });
    if (this.tasks.size > this.maxTracked) this.tasks.delete(this.tasks.keys().next().value!);
  }

  task(id: string): Bound | undefined {
    return this.tasks.get(id);
  }

  /** The latest task accepted under token `jti` (an onward call on its behalf follows from it). */
  taskOf(jti: string): Bound | undefined {
    const id = this.byJti.get(jti);
    return id === undefined ? undefined : this.tasks.get(id);
  }

  private index(id: string, b: Bound): void {
    if (b.jti === null) return;
    this.byJti.delete(b.jti);
    this.byJti.set(b.jti, id);
    if (this.byJti.size > this.maxTracked) this.byJti.delete(this.byJti.keys().next().value!);
  }

  used(jti: string): number {
    return this.uses.get(jti)?.[0] ?? 0;
  }

  /**
   * Counts one call under `jti` now (in the same tick, so concurrent calls see each other); returns
   * the count before, or -1 (denied) when a new token cannot be tracked: the counts of live tokens
   * are never forgotten to make room (that would give a used-up token its budget back), only those
   * of expired ones.
   */
  reserve(jti: string, expMs: number, nowMs: number): number {
    if (!this.uses.has(jti) && this.uses.size >= this.maxTracked) {
      for (const [k, [, exp]] of this.uses) if (exp <= nowMs) this.uses.delete(k);
      if (this.uses.size >= this.maxTracked) return -1;
    }
    const n = this.used(jti);
    this.uses.delete(jti);
    this.uses.set(jti, [n + 1, expMs]);
    this.journal?.record({ use: jti, exp: expMs, d: 1 });
    return n;
  }

  /** Gives a reserved use back (the call was not allowed). */
  release(jti: string): void {
    const u = this.uses.get(jti);
    if (!u || u[0] === 0) return;
    this.uses.set(jti, [u[0] - 1, u[1]]);
    this.journal?.record({ use: jti, exp: u[1], d: -1 });
  }

  /** Resolves once what was reserved is on disk; rejects when it cannot be (deny then). */
  durable(): Promise<void> {
    return this.journal?.durable() ?? Promise.resolve();
  }
}

const ledgers = new WeakMap<Pep, DelegationLedger>();
const current = new AsyncLocalStorage<string>();

/** The ledger of this PEP; the first call puts the task binding in front of pep.decide. */
export function ledgerOf(pep: Pep): DelegationLedger {
  let l = ledgers.get(pep);
  if (!l) {
    ledgers.set(pep, (l = new DelegationLedger()));
    bindDecisions(pep, l);
  }
  return l;
}

/** Runs a governed request (OpenAI proxy, MCP gateway) for the task its helm-a2a-task header names, if any. */
export function forTask<T>(pep: Pep, req: IncomingMessage, run: () => T): T {
  const h = req.headers[TASK_HEADER];
  if (h === undefined) return run();
  ledgerOf(pep);
  return current.run(Array.isArray(h) ? h.join(',') : h, run);
}

function bindDecisions(pep: Pep, ledger: DelegationLedger): void {
  const decide = pep.decide.bind(pep);
  pep.decide = async (request: unknown, options: DecideOptions = {}): Promise<PepOutcome> => {
    const id = current.getStore();
    // A2A calls carry their own delegation (onBehalfOf); everything else made for the task is bound.
    if (id === undefined || !isObject(request) || request.tool === 'a2a.send' || request.tool === 'a2a.receive') return decide(request, options);
    const b = ledger.task(id);
    let uses = b?.jti ? ledger.reserve(b.jti, b.expMs, pep.now()) : 0;
    // Write-ahead: a use not on disk could be forgotten by a restart; -1 is denied (fail closed).
    await ledger.durable().catch(() => (uses = -1));
    const task: TaskBinding = b ? { id, decision: b.decision, caller: b.caller, jti: b.jti, tools: b.tools, budget: b.budget, uses } : { id: id.slice(0, 200), decision: null };
    const context = isObject(request.context) ? request.context : {};
    const a2a = isObject(context.a2a) ? context.a2a : {};
    const o = await decide({ ...request, context: { ...context, a2a: { ...a2a, task } } }, b ? { ...options, follows: [...(options.follows ?? []), b.decision.hash] } : options);
    if (b?.jti && o.verdict !== 'ALLOW') ledger.release(b.jti);
    return o;
  };
}
