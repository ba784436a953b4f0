// One writer's view of the ProofGraph: builds, signs and durably appends nodes to its own log,
// chains them (prev + Lamport), signs checkpoints with the log key, and records its own lifecycle
// (start / shutdown heartbeats, a gap after an unclean stop) so silence is evidence too.
import { join } from 'node:path';
import { nodeSuite } from '../crypto/node.js';
import type { SigningKey } from '../crypto/signing-key.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { jcs } from '../crypto/jcs.js';
import type { DsseEnvelope, EnvelopeSigner } from '../contracts/dsse.js';
import { encodeNode, hashRef, isCrossLog, statementError, type HashRef, type ParentRef } from '../contracts/node.js';
import type { NodeKind } from '../contracts/schemas.js';
import { signCheckpoint } from './checkpoint.js';
import { ChainFold, PARENT_WINDOW, rememberLamport, type ChainSnapshot } from './chain-state.js';
import { checkStartSnapshot, readStartSnapshot, treeResumeOf, type LoadedSnapshot } from './start-snapshot.js';
import { toBase64 } from '../crypto/bytes.js';
import { formatTime, type Clock } from './clock.js';
import { LogWriter, readLog, type RecoveryReport } from './store/index.js';
import { refuseFreedStart } from './freed-start.js';

export const SOFTWARE = 'helm-oss/0.1.0';
const WRITER_ID = /^[A-Za-z0-9._-]{1,128}$/;

export interface ProofGraphWriterOptions {
  /** The ProofGraph volume. */
  root: string;
  /** This writer's subdirectory name (e.g. the pod name). */
  writerId: string;
  origin: string;
  nodeKey: SigningKey;
  /** Signs checkpoints; must be a different key, named like the origin. */
  logKey: SigningKey;
  clock: Clock;
  suite?: CryptoSuite;
  software?: string;
  /** Resume from the start-up snapshot in the log directory when it is valid (start-snapshot.ts). */
  startSnapshot?: boolean;
  /** Declared interval of periodic heartbeats (the shell sends them). */
  heartbeatIntervalUs?: number;
  /** Sign a checkpoint every N appended nodes (also on close). */
  checkpointEvery?: number;
  /** Root-signed key events to record in this log (skipped when already present). */
  trustEvents?: readonly DsseEnvelope[];
  policyDigest?: HashRef | null;
  segmentMaxBytes?: number;
  /** Same-log parents are accepted among this many latest entries (default PARENT_WINDOW). */
  parentWindow?: number;
}

export interface AppendOptions {
  /** Causal parents; cross-log parents must carry the parent's lamport. */
  parents?: ReadonlyArray<ParentRef & { lamport?: number }>;
  subjectName?: string;
  /** Extra envelope signatures (an approver, a tool). */
  extraSigners?: readonly EnvelopeSigner[];
}

export interface AppendedNode {
  readonly kind: NodeKind;
  readonly index: number;
  readonly lamport: number;
  readonly entryHash: HashRef;
  readonly time: string;
  readonly origin: string;
}

/** A node accepted by stage(): fixed now, durable once `durable` resolves. */
export interface StagedNode {
  readonly node: AppendedNode;
  readonly durable: Promise<AppendedNode>;
}

export class GraphWriterError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class ProofGraphWriter {
  private readonly lamports = new Map<string, number>();
  private lastHash: HashRef | null = null;
  private lastLamport = 0;
  private lastTimeMs = 0;
  private sinceCheckpoint = 0;
  private closed = false;
  private checkpointing: Promise<string> | null = null;
  readonly origin: string;
  /** The start-up snapshot this open resumed from (its `pep` part is handed to, and owned by, Pep.open), or why the one on disk was refused. */
  startSnapshot: LoadedSnapshot = { snapshot: null, rejected: null };
  /** The chain as folded at open, before this run appended anything (seeds the snapshot keeper). */
  resumedChain: { size: number; chain: ChainSnapshot } = { size: 0, chain: new ChainFold(nodeSuite).snapshot() };
  /** Called with each entry (and its hash) once it is durable, in index order (the snapshot keeper follows the log). */
  onDurable: ((index: number, entry: Uint8Array, entryHash: HashRef) => void) | null = null;

  private constructor(
    private readonly store: LogWriter,
    private readonly opts: Required<Pick<ProofGraphWriterOptions, 'nodeKey' | 'logKey' | 'clock' | 'suite' | 'software' | 'heartbeatIntervalUs' | 'checkpointEvery' | 'parentWindow'>> & { policyDigest: HashRef | null },
    readonly recovery: RecoveryReport,
  ) {
    this.origin = store.origin;
  }

  static async open(o: ProofGraphWriterOptions): Promise<ProofGraphWriter> {
    if (!WRITER_ID.test(o.writerId)) throw new GraphWriterError('ERR_WRITER_ID', `writer id ${JSON.stringify(o.writerId)} must match ${WRITER_ID}`);
    if (o.logKey.verifier.name !== o.origin) throw new GraphWriterError('ERR_LOG_KEY', `the log key is named ${o.logKey.verifier.name}; checkpoints need a log key named after the origin ${o.origin}`);
    if (o.logKey.verifier.keyId === o.nodeKey.verifier.keyId || Buffer.from(o.logKey.publicKey).equals(Buffer.from(o.nodeKey.publicKey))) {
      throw new GraphWriterError('ERR_LOG_KEY', 'the log key must be distinct from the node-signing key');
    }
    const dir = join(o.root, o.writerId);
    const suite = o.suite ?? nodeSuite;
    // The snapshot is read before the store opens: its tree frontier spares reading old segments.
    const read = o.startSnapshot ? await readStartSnapshot(dir, { origin: o.origin, nodeKey: o.nodeKey, suite }) : { snapshot: null, rejected: null };
    const resume = read.snapshot ? treeResumeOf(read.snapshot, suite) : null;
    const store = await LogWriter.open({ dir, origin: o.origin, suite, ...(o.segmentMaxBytes ? { segmentMaxBytes: o.segmentMaxBytes } : {}), ...(resume ? { resume } : {}) });
    const w = new ProofGraphWriter(
      store,
      {
        nodeKey: o.nodeKey,
        logKey: o.logKey,
        clock: o.clock,
        suite,
        software: o.software ?? SOFTWARE,
        heartbeatIntervalUs: o.heartbeatIntervalUs ?? 60_000_000,
        checkpointEvery: o.checkpointEvery ?? 1000,
        policyDigest: o.policyDigest ?? null,
        parentWindow: o.parentWindow ?? PARENT_WINDOW,
      },
      store.recovery,
    );
    try {
      const loaded = read.snapshot ? checkStartSnapshot(read.snapshot, { size: store.size, rootAt: (n) => store.tree.root(n) }) : read;
      w.startSnapshot = loaded;
      await refuseFreedStart(dir, o.origin, loaded);
      await w.resume(dir, o.trustEvents ?? [], loaded.snapshot);
    } catch (e) {
      await store.close().catch(() => undefined);
      throw e;
    }
    return w;
  }

  /**
   * Rebuilds chain state from the existing log (or from a snapshot of its first `chain.size`
   * entries, folding only the rest) and records how the previous run ended.
   */
  private async resume(dir: string, trustEvents: readonly DsseEnvelope[], from: { size: number; chain: ChainSnapshot } | null): Promise<void> {
    const fold = from ? ChainFold.from(from.chain, this.opts.suite, this.opts.parentWindow) : new ChainFold(this.opts.suite, this.opts.parentWindow);
    // A snapshot of the whole log (a clean stop) leaves nothing to read.
    const tailFrom = from?.size ?? 0;
    const tail = tailFrom < this.store.size ? (await readLog(dir, { from: tailFrom })).entries : [];
    for (const entry of tail.slice(0, this.store.size - tailFrom)) fold.apply(entry);
    this.resumedChain = { size: this.store.size, chain: fold.snapshot() };
    for (const [h, l] of fold.lamports) this.lamports.set(h, l);
    this.lastHash = fold.lastHash;
    this.lastLamport = fold.lastLamport;
    this.lastTimeMs = fold.lastTimeMs;
    const recorded = new Set(fold.trustEvents);
    const last = fold.last;
    const now = this.now();
    if (last && !(last.kind === 'heartbeat' && last.reason === 'shutdown')) {
      const torn = this.recovery.tornTail;
      await this.append('gap', {
        from: last.time,
        to: formatTime(now),
        reason: 'unclean_shutdown',
        detail: torn ? `previous run ended without a shutdown heartbeat; ${torn.truncatedBytes} torn bytes truncated from ${torn.segment}` : 'previous run ended without a shutdown heartbeat',
      });
    }
    await this.heartbeat('start');
    for (const ev of trustEvents) {
      const h = hashRef(this.opts.suite, jcs(ev));
      if (recorded.has(h)) continue;
      recorded.add(h);
      await this.append('trust', { event: ev }, { subjectName: `log/${this.origin}` });
    }
    await this.checkpoint();
  }

  /** Monotone time: a clock that steps back never makes a node older than its predecessor. */
  private now(): number {
    return Math.max(this.opts.clock(), this.lastTimeMs);
  }

  get size(): number {
    return this.store.size;
  }

  /** How many latest entries are accepted as same-log parents (chain-state.ts PARENT_WINDOW). */
  get parentWindow(): number {
    return this.opts.parentWindow;
  }

  /** Entries whose Lamport value the writer holds (at most parentWindow). */
  get knownParents(): number {
    return this.lamports.size;
  }

  /** The log's Merkle root at `size` (at most the entries accepted so far). */
  rootAt(size: number): Uint8Array {
    return this.store.tree.root(size);
  }

  /** The root at `size`, the tree's frontier there and the leaf hash of entry size - 1 (what a start-up snapshot carries). */
  treeAt(size: number): { root: string; frontier: string[]; lastLeaf: string } {
    const f = this.store.tree.frontierAt(size);
    return { root: toBase64(f.root()), frontier: f.toBase64(), lastLeaf: toBase64(this.store.tree.leaf(size - 1)) };
  }

  /** The size the store's open resumed its tree from a snapshot (0: it read every segment). */
  get treeResumedAt(): number {
    return this.store.resumedAt;
  }

  get failed(): Error | null {
    return this.store.failed;
  }

  /** Entries, batches and fdatasyncs of the log since open (diagnostics, the one-round tests). */
  get storeStats(): { appends: number; batches: number; syncs: number } {
    return this.store.stats;
  }

  /**
   * Builds, signs and appends one node. The index, hash and chain are fixed synchronously (so
   * concurrent callers get a total order); the promise resolves once the entry is durable.
   */
  append(kind: NodeKind, body: Record<string, unknown>, o: AppendOptions = {}): Promise<AppendedNode> {
    let staged: StagedNode;
    try {
      staged = this.stage(kind, body, o);
    } catch (e) {
      return Promise.reject(e);
    }
    return staged.durable;
  }

  /**
   * append() with the node returned at once: its entry hash can parent another node staged in the
   * same tick, so both go out in one group commit (one fdatasync round for an intent and its
   * decision). Throws (nothing accepted) where append() rejects; `durable` resolves with the node.
   */
  stage(kind: NodeKind, body: Record<string, unknown>, o: AppendOptions = {}): StagedNode {
    if (this.closed) throw new GraphWriterError('ERR_WRITER_CLOSED', 'the ProofGraph writer is closed');
    if (this.store.failed) throw this.store.failed;
    let lamport = this.lastLamport;
    const parents: ParentRef[] = [];
    for (const p of o.parents ?? []) {
      let pl: number | undefined;
      if (isCrossLog(p) && p.origin !== this.origin) {
        pl = p.lamport;
        if (pl === undefined) throw new GraphWriterError('ERR_PARENT_LAMPORT', `cross-log parent ${p.origin}#${p.index} needs its lamport`);
        parents.push({ origin: p.origin, index: p.index, hash: p.hash });
      } else {
        pl = this.lamports.get(p.hash);
        if (pl === undefined) throw new GraphWriterError('ERR_PARENT_UNKNOWN', `parent ${p.hash} is not among the latest ${this.opts.parentWindow} entries of log ${this.origin}`);
        parents.push({ hash: p.hash });
      }
      lamport = Math.max(lamport, pl);
    }
    const timeMs = this.now();
    const predicate = {
      origin: this.origin,
      index: this.store.size,
      lamport: lamport + 1,
      prev: this.lastHash,
      parents,
      time: formatTime(timeMs),
      body,
    };
    const encoded = encodeNode(
      this.opts.suite,
      { kind, subjectName: o.subjectName ?? defaultSubject(kind, body, this.origin), predicate },
      [{ keyid: this.opts.nodeKey.verifier.handle, signer: this.opts.nodeKey }, ...(o.extraSigners ?? [])],
    );
    // Never persist a node a verifier would reject: the log is append-only, a bad entry is forever.
    const invalid = statementError(kind, encoded.statement);
    if (invalid) throw new GraphWriterError('ERR_SCHEMA', invalid);
    const stored = this.store.append(encoded.entry, encoded.entryDigest);
    this.lastHash = encoded.entryHash;
    this.lastLamport = predicate.lamport;
    this.lastTimeMs = timeMs;
    rememberLamport(this.lamports, encoded.entryHash, predicate.lamport, this.opts.parentWindow);
    const node: AppendedNode = { kind, index: predicate.index, lamport: predicate.lamport, entryHash: encoded.entryHash, time: predicate.time, origin: this.origin };
    if (++this.sinceCheckpoint >= this.opts.checkpointEvery) {
      this.sinceCheckpoint = 0;
      // Errors surface through the store's failed state and the next append.
      this.checkpoint().catch(() => undefined);
    }
    const durable = stored.then(() => {
      this.onDurable?.(node.index, encoded.entry, encoded.entryHash);
      return node;
    });
    return { node, durable };
  }

  heartbeat(reason: 'start' | 'periodic' | 'policy_change' | 'shutdown', policyDigest?: HashRef | null): Promise<AppendedNode> {
    if (policyDigest !== undefined) this.opts.policyDigest = policyDigest;
    return this.append('heartbeat', {
      reason,
      intervalUs: this.opts.heartbeatIntervalUs,
      software: this.opts.software,
      policyDigest: this.opts.policyDigest,
    });
  }

  /**
   * Signs a checkpoint of everything accepted so far and stores it once those entries are durable.
   * The root is taken now, at O(log n), not after the flush when more entries may have arrived.
   */
  checkpoint(): Promise<string> {
    const run = async (): Promise<string> => {
      const size = this.store.size;
      const root = size > 0 ? this.store.tree.root() : this.opts.suite.sha256(new Uint8Array(0));
      const note = signCheckpoint({ origin: this.origin, size, root, extensions: [] }, this.opts.logKey);
      await this.store.flush();
      await this.store.appendCheckpoint(note);
      return note;
    };
    // Serialise checkpoints so they are stored in size order.
    const next = (this.checkpointing ?? Promise.resolve('')).catch(() => '').then(run);
    this.checkpointing = next;
    return next;
  }

  /** Shutdown heartbeat, final checkpoint, release the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.store.failed) {
      await this.heartbeat('shutdown');
      await this.checkpoint();
    }
    this.closed = true;
    await this.store.close();
  }
}

function defaultSubject(kind: NodeKind, body: Record<string, unknown>, origin: string): string {
  if (typeof body.callId === 'string') return `call/${body.callId}`;
  return `${kind}/${origin}`;
}
