// The Policy Enforcement Point: the Guardian's pure verdict plus the state it needs (budgets,
// rate buckets, idempotency keys, approval ceremonies) and a signed receipt for every outcome.
// One call to decide(): an INTENT node, the evaluation and the PEP's checks in the same tick
// (so concurrent calls see each other's reservations), the canonical input stored by hash, then
// a DECISION node linked to the intent, still in that tick, so all three share one group commit
// (one fdatasync round). Nothing is allowed before its decision node and input are durable;
// when recording fails the answer is DENY RECEIPT_UNAVAILABLE (HTTP 503). Spec: docs/spec/pep.md.
import { toHex, utf8 } from '../crypto/bytes.js';
import { jcsString } from '../crypto/jcs.js';
import { nodeSuite } from '../crypto/node.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { CrossLogParent, HashRef } from '../contracts/node.js';
import { canonicalBundleBytes } from '../guardian/bundle-parse.js';
import type { BundleTrust } from '../guardian/bundle-trust.js';
import type { Surface } from '../guardian/bundle-types.js';
import { canonicalDecisionInput, formatInstant, type CanonicalInputResult } from '../guardian/decision-input.js';
import { ENGINE, evaluatePrepared } from '../guardian/evaluate.js';
import { loadPolicy, type GuardianPolicy, type PolicySource } from '../guardian/policy.js';
import type { Clock } from '../proofgraph/clock.js';
import type { AppendedNode, ProofGraphWriter, StagedNode } from '../proofgraph/graph-writer.js';
import { readLog } from '../proofgraph/store/index.js';
import { adjudicate, type Adjudication } from './adjudicate.js';
import { approve, type ApprovalResult } from './approve.js';
import { BlobStore } from './blob-store.js';
import { BundleShelf } from './bundles.js';
import { recordEffect, recordExecution, recordResult } from './effects.js';
import { PepError } from './errors.js';
import type { RebuildReport } from './rebuild.js';
import { restoreState } from './snapshot.js';
import type { Ceremony } from './ceremony.js';
import { digestOf, readRequest, type IntentBody, type ReadRequest } from './request.js';
import { DecisionSequencer } from './sequencer.js';
import { allowArgsKey, allowCallKey, claimDecision, noteAllow, PepState } from './state.js';
import type { Challenge, DecisionRecord, EffectOutcome, EffectReport, PepOutcome, ResultOutcome, ResultReport } from './types.js';

export interface PepOptions {
  /** The ProofGraph writer every receipt goes through (the PEP never writes the log itself). */
  writer: ProofGraphWriter;
  /** That writer's log directory (root/writerId): state is rebuilt from it; blobs are kept in it. */
  logDir: string;
  /** Trust roots and revocations for policy bundles. */
  trust: BundleTrust;
  clock: Clock;
  /** Source of challenge nonces (16 bytes each). */
  random: (n: number) => Uint8Array;
  suite?: CryptoSuite;
  /** The bundle in force at start; without one every call is denied BUNDLE_MISSING. */
  policy?: PolicySource;
  /** Surface recorded in the intent of a request that names no valid one (default rest). */
  surface?: Surface;
  /** Decisions waiting to be recorded beyond which calls are throttled (default 10,000). */
  maxPending?: number;
  /** retryAfterMs of an overload throttle (default 100). */
  overloadRetryMs?: number;
  /** Decisions and effects kept in memory (default 100,000; older ones stay in the log only). */
  maxDecisions?: number;
  /** Open (unclaimed) openai ALLOWs another surface can find (default 10,000). */
  maxOpenAllows?: number;
  /** Decision inputs in the blob store's in-memory index (default 10,000; bundles always stay). */
  maxIndexedBlobs?: number;
}

/** Per-call options of decide. */
export interface DecideOptions {
  /**
   * Decisions in other logs this one follows from (an A2A caller's decision, docs/spec/a2a.md §7):
   * cited as cross-log parents of the decision node. Never this log's own origin.
   */
  causes?: ReadonlyArray<CrossLogParent & { lamport: number }>;
  /**
   * Decisions of this log this one follows from (the a2a.receive decision of the delegated task
   * a tool call is made for, docs/spec/a2a.md §9): cited as same-log parents.
   */
  follows?: ReadonlyArray<HashRef>;
}

interface PolicyInForce {
  readonly policy: GuardianPolicy;
  /** Resolves once the bundle's bytes are durable in the blob store (decisions wait for it). */
  readonly stored: Promise<unknown>;
}

export class Pep {
  private readonly state: PepState;
  private readonly sequencer = new DecisionSequencer();
  private readonly bundles: BundleShelf;
  private readonly suite: CryptoSuite;
  private current: PolicyInForce;
  private closed = false;
  private inflight = new Set<Promise<unknown>>();
  /** Decisions not yet answered (waiting for their round or their turn): the overload measure. */
  private awaiting = 0;
  /** The bundle in force is durable in the blob store (decisions can share its round-trip). */
  private storedSettled = true;
  rebuilt: RebuildReport = { nodes: 0, decisions: 0 };

  private constructor(
    private readonly o: PepOptions,
    private readonly blobs: BlobStore,
  ) {
    this.suite = o.suite ?? nodeSuite;
    this.state = new PepState({ ...(o.maxDecisions !== undefined ? { maxDecisions: o.maxDecisions } : {}), ...(o.maxOpenAllows !== undefined ? { maxOpenAllows: o.maxOpenAllows } : {}) });
    this.bundles = new BundleShelf(blobs, this.suite);
    this.current = { policy: loadPolicy({}, o.trust, this.suite), stored: Promise.resolve() };
  }

  /** Rebuilds state from the writer's log, opens the blob store and puts `policy` in force. */
  static async open(o: PepOptions): Promise<Pep> {
    const suite = o.suite ?? nodeSuite;
    const snap = o.writer.startSnapshot.snapshot;
    // Only the tail after the writer's start-up snapshot is read (the snapshot holds the fold before it).
    const log = await readLog(o.logDir, { from: snap?.size ?? 0 });
    if (log.origin !== o.writer.origin) throw new PepError('ERR_PEP_LOG_MISMATCH', `${o.logDir} holds log ${log.origin}, not the writer's ${o.writer.origin}`);
    const blobs = await BlobStore.open(o.logDir, suite, o.maxIndexedBlobs !== undefined ? { maxIndexed: o.maxIndexedBlobs } : {});
    const pep = new Pep(o, blobs);
    // From the writer's start-up snapshot when it resumed from one (checked against the log).
    pep.rebuilt = restoreState(pep.state, log.entries, log.first, o.writer.size, suite, snap);
    await pep.setPolicy(o.policy ?? {});
    return pep;
  }

  /** Open approval ceremonies whose ESCALATE is durable (read models such as the approvals API start from them). */
  openCeremonies(): readonly Readonly<Ceremony>[] {
    return this.state.ceremonies.openCeremonies().filter((c) => c.decision !== null);
  }

  get policy(): GuardianPolicy {
    return this.current.policy;
  }

  /**
   * The open ALLOW this principal already got for the same call on another surface (the OpenAI
   * proxy, which delivers its ALLOWs to the agent): found by callId or by tool + arguments, and in
   * both cases the tool and the argument digest must be the ones decided on, so nothing executes on
   * a decision about other arguments, and the bundle must still be the one in force. Open: not yet
   * claimed for execution (claim) and without an effect. A query: the caller claims what it uses.
   */
  allowedDecisionFor(q: { principal: string; callId: string; tool: string; args: unknown }): HashRef | null {
    const argsDigest = digestOf(this.suite, q.args);
    for (const h of [this.state.allowsByCall.get(allowCallKey(q.principal, q.callId)), this.state.allowsByArgs.get(allowArgsKey(q.principal, q.tool, argsDigest))]) {
      if (h === undefined) continue;
      const d = this.state.decisions.get(h);
      // Also the policy in force now: an ALLOW under a bundle since replaced is decided again.
      if (d && d.verdict === 'ALLOW' && d.effect === null && d.claimed !== true && d.tool === q.tool && d.principal === q.principal && d.argsDigest === argsDigest && d.policyDigest === policyDigestOf(this.current.policy)) return h as HashRef;
    }
    return null;
  }

  /**
   * Claims a delivered ALLOW for execution, or for recording an execution the agent reports: true
   * exactly once per decision (docs/spec/pep.md §6.1). An ALLOW of an executing surface (mcp, rest,
   * cli) is claimed by the call that asked for it when it is recorded, so this returns false.
   */
  claim(decision: HashRef): boolean {
    return claimDecision(this.state, decision);
  }

  /** The effect and result recorded for a decision, by whichever surface recorded them. */
  executionOf(decision: HashRef): { effect: HashRef; result: HashRef | null } | null {
    const d = this.state.decisions.get(decision);
    if (!d || d.effect === null || d.effect === 'pending') return null;
    const e = this.state.effects.get(d.effect);
    return { effect: d.effect, result: e && e.result !== 'pending' ? e.result : null };
  }

  /** Entries held by each in-memory structure: every one is bounded except used idempotency keys and ceremonies (docs/spec/pep.md §4). */
  footprint(): Record<string, number> {
    return { ...this.state.footprint(), blobIndex: this.blobs.indexSize };
  }

  /** Diagnostics for tests: the ledger's stored counter of one budget scope key. */
  budgetCounter(id: string, key: string) {
    return this.state.ledger.budget(id, key);
  }

  /**
   * Verifies and compiles a new bundle and puts it in force at once (a bundle that fails any check
   * is in force too: as a reason every call is denied). Its bytes are stored by hash and a
   * policy_change heartbeat records the switch.
   */
  async setPolicy(source: PolicySource): Promise<GuardianPolicy> {
    const policy = loadPolicy(source, this.o.trust, this.suite);
    const digest = policy.status === 'ready' ? policy.bundle.contentHash : policy.policyDigest;
    let stored: Promise<unknown> = Promise.resolve();
    if (digest !== null) {
      stored = this.blobs.put(canonicalBundleBytes(source.bundle), undefined, { pin: true }).durable;
      stored.catch(() => undefined);
    }
    if (policy.status === 'ready') this.bundles.remember(policy.bundle);
    this.current = { policy, stored };
    this.storedSettled = false;
    const settledFor = this.current;
    void stored.then(
      () => {
        if (this.current === settledFor) this.storedSettled = true;
      },
      () => undefined,
    );
    await stored;
    await this.o.writer.heartbeat('policy_change', digest);
    return policy;
  }

  /**
   * The PEP's current time: the injected clock, but never earlier than a time the PEP already
   * used or rebuilt from its log. Views of PEP state (pending approvals, budgets) read this, so
   * they agree with what the next decision would see even when the clock is set back.
   */
  now(): number {
    return this.tick();
  }

  private tick(): number {
    const now = Math.max(this.o.clock(), this.state.lastMs);
    this.state.lastMs = now;
    return now;
  }

  private refusal(): string | null {
    if (this.closed) return 'the PEP is closed';
    const w = this.o.writer.failed ?? this.blobs.failed;
    return w ? `the store failed: ${w.message}` : null;
  }

  /** Judges one proposed tool call. Never rejects: every failure is a DENY outcome. */
  decide(request: unknown, o: DecideOptions = {}): Promise<PepOutcome> {
    const p = this.plan(request, o);
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  private plan(request: unknown, o: DecideOptions): Promise<PepOutcome> {
    const nowMs = this.tick();
    const req = readRequest(request, this.suite, this.o.surface ?? 'rest');
    const { policy, stored } = this.current;
    const refused = this.refusal();
    if (refused) return Promise.resolve(unrecorded(req, policyDigestOf(policy), emptyDigest(this.suite), refused, null));

    // Staged now, durable with its decision in the same group commit (one fdatasync round).
    let intent: StagedNode | null = null;
    let intentFault: unknown = null;
    try {
      intent = this.o.writer.stage('intent', { ...req.intent });
      intent.durable.catch(() => undefined);
    } catch (e) {
      intentFault = e;
    }

    let canon: CanonicalInputResult | null = null;
    let a: Adjudication;
    let raw: Record<string, unknown> = req.draft;
    let inputDigest = emptyDigest(this.suite);
    try {
      const tool = policy.status === 'ready' && req.toolName !== null ? policy.bundle.tools.get(req.toolName) : undefined;
      const snap = tool && req.principalId !== null ? this.state.ledger.snapshot(tool, req.principalId, nowMs) : null;
      raw = { ...req.draft, time: formatInstant(nowMs), policyDigest: policyDigestOf(policy), state: snap?.state ?? { budgets: {}, rates: {} } };
      const prepared = canonicalDecisionInput(raw);
      const evaluation = evaluatePrepared(policy, raw, prepared);
      canon = prepared;
      inputDigest = evaluation.inputDigest;
      a = adjudicate({
        state: this.state,
        policy,
        evaluation,
        input: prepared.ok ? prepared.input : null,
        request: req,
        nowMs,
        snapshotVersion: snap?.version ?? this.state.ledger.currentVersion,
        overloaded: this.awaiting >= (this.o.maxPending ?? 10_000),
        overloadRetryMs: this.o.overloadRetryMs ?? 100,
        random: this.o.random,
      });
    } catch (e) {
      // A PEP fault is still a signed DENY; replay will show it as a divergence.
      a = { verdict: 'DENY', reasonCode: 'GUARDIAN_ERROR', ruleIds: [], detail: `PEP internal error: ${(e as Error)?.message ?? String(e)}` };
    }

    // The stored bytes are exactly what inputDigest hashes (nothing when the fault came first).
    const inputBytes = canon === null ? null : canon.ok ? canon.bytes : rawBytes(raw);
    const input = inputBytes ? this.blobs.put(inputBytes, canon?.ok ? inputDigest.slice(7) : undefined).durable : Promise.resolve();
    const record: DecisionRecord = {
      callId: req.intent.callId,
      tool: req.intent.tool,
      verdict: a.verdict,
      reasonCode: a.reasonCode,
      ruleIds: a.ruleIds,
      policyDigest: policyDigestOf(policy),
      inputDigest,
      engine: ENGINE,
      ...(a.consumed ? { consumed: a.consumed } : {}),
      ...(a.escalation ? { escalation: a.escalation } : {}),
      ...(a.retryAfterMs !== undefined ? { retryAfterMs: a.retryAfterMs } : {}),
      ...(a.sandbox !== undefined ? { sandbox: a.sandbox } : {}),
      ...(a.basis ? { basis: a.basis } : {}),
    };
    this.awaiting++;
    return new Promise<PepOutcome>((resolve) => {
      const lost = (cause: unknown, intentNode: AppendedNode | null) => {
        if (a.opened) this.state.ceremonies.close(a.opened, 'superseded');
        resolve(unrecorded(req, record.policyDigest, inputDigest, `recording failed: ${(cause as Error)?.message ?? String(cause)}`, intentNode, a));
      };
      if (intent === null) return lost(intentFault, null);
      const intentNode = intent.node;
      const append = (): Promise<AppendedNode> => this.o.writer.append('decision', { ...record }, { parents: [{ hash: intentNode.entryHash }, ...causesOf(o, this.o.writer.origin), ...(o.follows ?? []).map((hash) => ({ hash }))] });
      const settle = (decision: Promise<AppendedNode>, first: ReadonlyArray<Promise<unknown>>) =>
        Promise.all([decision, ...first]).then(
          ([node]) => resolve(this.recorded(record, a, intentNode, node, req.intent)),
          (e: unknown) => lost(e, null),
        );
      if (this.sequencer.waiting === 0 && this.current.policy === policy && this.storedSettled) {
        // The usual case: intent, input blob and decision all go out in the batches now forming,
        // so the ALLOW waits for one fdatasync round. The log order is the decision order because
        // nothing is queued ahead (pep.md §2).
        settle(append(), [intent.durable, input]);
        return;
      }
      // A bundle still being stored, or decisions queued behind one: in decision order, each
      // appended once its prerequisites are durable (two rounds; rare).
      this.sequencer.add(
        [intent.durable, input, stored],
        () => settle(append(), []),
        (e) => lost(e, null),
      );
    }).finally(() => {
      this.awaiting--;
    });
  }

  /** Bookkeeping once a decision node is durable, and the caller's answer. */
  private recorded(r: DecisionRecord, a: Adjudication, intent: AppendedNode, node: AppendedNode, asked: IntentBody): PepOutcome {
    this.state.decisions.set(node.entryHash, { callId: r.callId, tool: r.tool, verdict: r.verdict, policyDigest: r.policyDigest, effect: null, principal: asked.principal, argsDigest: asked.argsDigest });
    // Synchronously with the bookkeeping above: no other call sees this ALLOW unclaimed in between.
    if (r.verdict === 'ALLOW') noteAllow(this.state, node.entryHash, asked);
    if (a.opened) this.state.ceremonies.recorded(a.opened, node.entryHash);
    if (a.usedKey) a.usedKey.decision = node.entryHash;
    const c = a.ceremony;
    let challenge: Challenge | undefined;
    if (c && c.decision !== null) {
      challenge = { callId: c.callId, decision: c.decision, policyDigest: c.policyDigest, nonce: c.nonce, approval: c.escalation.approval, approvers: [...c.escalation.approvers], quorum: c.escalation.quorum, notBefore: c.escalation.notBefore, expiresAt: c.escalation.expiresAt };
    }
    return {
      callId: r.callId,
      verdict: r.verdict,
      reasonCode: r.reasonCode,
      ruleIds: r.ruleIds,
      policyDigest: r.policyDigest,
      inputDigest: r.inputDigest,
      detail: a.detail,
      recorded: true,
      intent,
      decision: node,
      ...(r.basis ? { basis: r.basis } : {}),
      ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}),
      ...(r.sandbox !== undefined ? { sandbox: r.sandbox } : {}),
      ...(challenge ? { challenge } : {}),
    };
  }

  /** Accepts one approver's signed answer to an escalation (docs/spec/pep.md §5). */
  approve(submission: unknown): Promise<ApprovalResult> {
    const p = approve({ state: this.state, writer: this.o.writer, bundles: this.bundles, suite: this.suite, now: () => this.tick(), refusal: () => this.refusal() }, submission);
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  /** Records the EFFECT of an allowed call (parent: its decision); a second effect is refused. */
  recordEffect(decision: HashRef, effect: EffectReport): Promise<EffectOutcome> {
    return recordEffect({ state: this.state, writer: this.o.writer, refusal: () => this.refusal() }, decision, effect);
  }

  /** Records the RESULT of an effect (parent: the effect), checking the output against the pinned schema. */
  recordResult(effect: HashRef, result: ResultReport): Promise<ResultOutcome> {
    return recordResult({ state: this.state, writer: this.o.writer, bundles: this.bundles, suite: this.suite, refusal: () => this.refusal() }, effect, result);
  }

  /**
   * Records the EFFECT of an allowed call and its RESULT together, in one group commit (one
   * fdatasync round instead of two): for a caller that reports an execution with its output.
   */
  recordExecution(decision: HashRef, effect: EffectReport, result: ResultReport): Promise<{ effect: EffectOutcome; result: ResultOutcome | null }> {
    return recordExecution({ state: this.state, writer: this.o.writer, bundles: this.bundles, suite: this.suite, refusal: () => this.refusal() }, decision, effect, result);
  }

  /** Waits for every decision in flight, then closes the blob store (the caller closes the writer). */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.allSettled([...this.inflight]);
    this.closed = true;
    await this.blobs.close();
  }
}

/**
 * The causes a decision node may cite: other logs only, with a Lamport value the writer can
 * carry. A cause from a hostile caller must not make the node unrecordable (and the store fail).
 */
function causesOf(o: DecideOptions, origin: string): Array<CrossLogParent & { lamport: number }> {
  return (o.causes ?? []).filter((c) => typeof c.origin === 'string' && c.origin.length >= 1 && c.origin.length <= 256 && c.origin !== origin && /^sha256:[0-9a-f]{64}$/.test(c.hash) && Number.isSafeInteger(c.lamport) && c.lamport >= 1 && c.lamport < 2 ** 48 && Number.isSafeInteger(c.index) && c.index >= 0);
}

function policyDigestOf(p: GuardianPolicy): HashRef | null {
  return p.status === 'ready' ? p.bundle.contentHash : p.policyDigest;
}

function emptyDigest(suite: CryptoSuite): HashRef {
  return `sha256:${toHex(suite.sha256(new Uint8Array(0)))}`;
}

/** The general JCS of an input that is not canonical (so replay can show why), if it has one. */
function rawBytes(raw: unknown): Uint8Array | null {
  try {
    return utf8(jcsString(raw));
  } catch {
    return null;
  }
}

function unrecorded(req: ReadRequest, policyDigest: HashRef | null, inputDigest: HashRef, cause: string, intent: AppendedNode | null, a?: Adjudication): PepOutcome {
  const intended = a ? ` (the decision would have been ${a.verdict} ${a.reasonCode})` : '';
  return {
    callId: req.intent.callId,
    verdict: 'DENY',
    reasonCode: 'RECEIPT_UNAVAILABLE',
    ruleIds: [],
    policyDigest,
    inputDigest,
    detail: `${cause}${intended}`,
    recorded: false,
    intent,
    decision: null,
  };
}
