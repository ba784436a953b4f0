// A real PEP on a temp directory: a ProofGraphWriter with test keys, an injected clock and a
// deterministic nonce source, the example support-desk bundle (with approver keys these tests
// hold) signed by the test bundle signer, and a receipt checker that reads the log back.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { nodeSuite } from '../../kernel/crypto/node.js';
import type { SigningKey } from '../../kernel/crypto/signing-key.js';
import { decodeNode, type DecodedNode } from '../../kernel/contracts/node.js';
import { signBundle, type BundleTrust, type PolicyBundleDoc, type PolicySource } from '../../kernel/guardian/index.js';
import { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { Pep, type PepOptions, type PepOutcome, type PepRequest } from '../../kernel/pep/index.js';
import { makeKeys, policyText, publishEvent, T0, tempDir, TestClock, testKey, type Keys } from '../evidence/fixtures.js';
import { bundleSigner, exampleDoc } from '../guardian/helpers.js';

export const WRITER = 'sidecar-a';
/** Scenarios jump the clock by hours; a day-long heartbeat interval keeps those jumps covered. */
const HEARTBEAT_US = 24 * 3600 * 1_000_000;
/** 10:15 UTC on the test day: inside the example bundle's mail business hours. */
export const START = T0 + (10 * 60 + 15) * 60_000;

export const approvers = { alice: testKey('approver-alice'), bob: testKey('approver-bob'), carol: testKey('approver-carol') };
export const mallory = testKey('approver-mallory');
export const trust: BundleTrust = { roots: [bundleSigner.verifier], revoked: [] };

/** The example bundle with approvers these tests hold: quorum 2, timelock 60 s, hold 30 s, timeout 1 h. */
export function pepBundle(patch?: (d: PolicyBundleDoc) => void): PolicyBundleDoc {
  const d = exampleDoc();
  d.approvals = {
    manager: {
      description: 'two of three managers',
      approvers: [approvers.alice.verifier.vkey, approvers.bob.verifier.vkey, approvers.carol.verifier.vkey],
      quorum: 2,
      timelockSeconds: 60,
      holdSeconds: 30,
      timeoutSeconds: 3600,
    },
  };
  d.fixtures = [];
  patch?.(d);
  return d;
}

export function signed(doc: unknown, signer: SigningKey = bundleSigner): PolicySource {
  return { bundle: doc, signature: signBundle(doc, signer, nodeSuite) };
}

/** Deterministic challenge nonces: SHA-256 of a counter. */
export function counterRandom(seed = 'nonce'): (n: number) => Uint8Array {
  let i = 0;
  return (n) => new Uint8Array(createHash('sha256').update(`${seed}:${i++}`).digest()).slice(0, n);
}

export interface Harness {
  pep: Pep;
  writer: ProofGraphWriter;
  clock: TestClock;
  root: string;
  logDir: string;
  keys: Keys;
  node: SigningKey;
  /** Closes the PEP and writer cleanly and opens both again on the same directory. */
  restart(o?: Partial<PepOptions>): Promise<void>;
  close(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface HarnessOptions {
  /** null: start without a bundle (every call BUNDLE_MISSING). Default: the signed pepBundle(). */
  policy?: PolicySource | null;
  clock?: TestClock;
  trust?: BundleTrust;
  pep?: Partial<PepOptions>;
}

/**
 * Several PEPs (one writer and log each) under one ProofGraph volume, so a single pack can carry
 * every scenario. Keys come from fixed test seeds.
 */
export class Lab {
  readonly keys: Keys = { ...makeKeys([]), logs: {} };
  private readonly open: Harness[] = [];

  private constructor(
    readonly root: string,
    private readonly remove: () => Promise<void>,
  ) {}

  static async create(): Promise<Lab> {
    const { dir, cleanup } = await tempDir('helm-pep-');
    return new Lab(dir, cleanup);
  }

  /** A PEP writing its own log `writerId` (origin helm.test/<writerId>). */
  async harness(writerId: string, o: HarnessOptions = {}): Promise<Harness> {
    const origin = `helm.test/${writerId}`;
    this.keys.logs[origin] = { log: testKey(origin), node: testKey(`node-${writerId}`) };
    const k = this.keys.logs[origin]!;
    const clock = o.clock ?? new TestClock(START);
    const random = counterRandom(writerId);
    const root = this.root;
    const keys = this.keys;
    const openWriter = () => ProofGraphWriter.open({ root, writerId, origin, nodeKey: k.node, logKey: k.log, clock: clock.read, trustEvents: [publishEvent(keys, origin)], checkpointEvery: 50, heartbeatIntervalUs: HEARTBEAT_US });
    const policy = o.policy === null ? undefined : (o.policy ?? signed(pepBundle()));
    const openPep = (writer: ProofGraphWriter, extra?: Partial<PepOptions>) =>
      Pep.open({ writer, logDir: join(root, writerId), trust: o.trust ?? trust, clock: clock.read, random, ...(policy ? { policy } : {}), ...o.pep, ...extra });
    let closed = false;
    const h: Harness = {
      pep: null as unknown as Pep,
      writer: await openWriter(),
      clock,
      root,
      logDir: join(root, writerId),
      keys,
      node: k.node,
      async restart(extra) {
        await h.close();
        h.writer = await openWriter();
        h.pep = await openPep(h.writer, extra);
        closed = false;
      },
      async close() {
        if (closed) return;
        closed = true;
        await h.pep.close();
        await h.writer.close();
      },
      cleanup: () => h.close(),
    };
    h.pep = await openPep(h.writer);
    this.open.push(h);
    return h;
  }

  /** A trust policy (tlog-policy text) trusting every log of the lab. */
  policyText(): string {
    return policyText(this.keys);
  }

  async close(): Promise<void> {
    for (const h of this.open) await h.close();
  }

  async cleanup(): Promise<void> {
    await this.close();
    await this.remove();
  }
}

/** One PEP in its own temporary volume. */
export async function openHarness(o: HarnessOptions = {}): Promise<Harness> {
  const lab = await Lab.create();
  const h = await lab.harness(WRITER, o);
  h.cleanup = () => lab.cleanup();
  return h;
}

export const SUPPORT = { id: 'agent:sup-1', roles: ['support'] };
export const AUDITOR = { id: 'agent:audit-1', roles: ['auditor'] };
export const JUNIOR = { id: 'agent:jr-1', roles: ['junior'] };
export const OPS = { id: 'agent:ops-bot', roles: [] as string[] };

let seq = 0;
const CONNECTOR: Record<string, string> = { 'crm.lookup_customer': 'crm-api', 'tickets.update': 'helpdesk-mcp', 'mail.send': 'mailer', 'billing.refund': 'payments-api' };
const SANDBOX: Record<string, string> = { 'kb.fetch_article': 'egress-only', 'ops.purge_cache': 'no-network' };

/** A well-formed request for the example bundle (connector and sandbox as the tool needs). */
export function req(tool: string, args: Record<string, unknown>, over: Partial<PepRequest> & Record<string, unknown> = {}): PepRequest {
  return {
    callId: `call-${++seq}`,
    surface: 'mcp',
    principal: SUPPORT,
    tool,
    args: args as PepRequest['args'],
    connector: CONNECTOR[tool] ?? null,
    sandbox: SANDBOX[tool] ?? null,
    ...over,
  } as PepRequest;
}

export const lookup = (over: Partial<PepRequest> & Record<string, unknown> = {}) => req('crm.lookup_customer', { customerId: 'cus_12345678' }, over);
export const refund = (amountCents: number, over: Partial<PepRequest> & Record<string, unknown> = {}) => req('billing.refund', { paymentId: 'pay_1', amountCents }, over);
export const mail = (body: string, over: Partial<PepRequest> & Record<string, unknown> = {}) => req('mail.send', { to: [{ host: 'mail.example-customer.com', user: 'ann' }], subject: 'Re: ticket', body }, over);
export const fetchDoc = (url: string, over: Partial<PepRequest> & Record<string, unknown> = {}) => req('kb.fetch_article', { url }, over);
export const ticket = (args: Record<string, unknown>, over: Partial<PepRequest> & Record<string, unknown> = {}) => req('tickets.update', args, over);

export interface Receipt {
  decision: DecodedNode;
  intent: DecodedNode;
  body: Record<string, unknown>;
}

/**
 * Reads the decision node of an outcome back from the log, checks the node key's signature on it
 * and that its parent is the INTENT node of the same call. Throws when any of that fails.
 */
export async function receiptOf(h: Harness, o: PepOutcome): Promise<Receipt> {
  if (!o.recorded || !o.decision || !o.intent) throw new Error(`outcome for ${o.callId} is not recorded: ${o.detail}`);
  const log = await readLog(h.logDir);
  const decision = decodeNode(nodeSuite, log.entries[o.decision.index]!);
  const intent = decodeNode(nodeSuite, log.entries[o.intent.index]!);
  if (decision.kind !== 'decision' || decision.entryHash !== o.decision.entryHash) throw new Error('the log entry at the decision index is not this decision');
  if (intent.kind !== 'intent' || intent.entryHash !== o.intent.entryHash) throw new Error('the log entry at the intent index is not this intent');
  const sig = decision.signatures[0]!;
  if (sig.keyid !== h.node.verifier.handle || !nodeSuite.verifyEd25519(h.node.publicKey, decision.pae, sig.sig)) throw new Error('the decision is not signed by the node key');
  const parents = decision.statement.predicate.parents as Array<{ hash: string }>;
  if (!parents.some((p) => p.hash === intent.entryHash)) throw new Error('the decision does not name its intent as a parent');
  const ib = intent.statement.predicate.body as Record<string, unknown>;
  const body = decision.statement.predicate.body as Record<string, unknown>;
  if (ib.callId !== body.callId) throw new Error('intent and decision are about different calls');
  return { decision, intent, body };
}
