// The fleet collector (docs/fleet.md §Collector): a c2sp.org/tlog-mirror of every writer log. It
// cosigns a writer checkpoint only after the writer's certified log key signed it, the RFC 6962
// consistency proof from the size it last cosigned verifies, and every entry in between has been
// read back from the bucket and re-hashed to the signed root. Then it appends the cosigned
// checkpoint to the fleet log. A checkpoint that contradicts what it already cosigned is kept as
// signed equivocation evidence and the writer is quarantined. Status codes follow tlog-witness:
// 400 malformed, 403 not signed by the writer's key (or writer quarantined/closed), 404 unknown
// origin, 409 old size is not the collector's size (body: that size), 422 proof or entries fail.
import { createHash } from 'node:crypto';
import { toBase64 } from '../kernel/crypto/bytes.js';
import { parseVerifierKey, type VerifierKey } from '../kernel/crypto/keys.js';
import { nodeSuite } from '../kernel/crypto/node.js';
import { addSignatures, NoteError, parseNote, verifyNote } from '../kernel/crypto/note.js';
import { jcs } from '../kernel/crypto/jcs.js';
import type { FleetEvent } from '../kernel/fleet/events.js';
import { evidenceKey, writerPrefix } from '../kernel/fleet/layout.js';
import { parseAddCheckpoint, WitnessRequestError } from '../kernel/fleet/witness-request.js';
import { CheckpointError, parseCheckpointText, type Checkpoint } from '../kernel/proofgraph/checkpoint.js';
import { MerkleTree, verifyConsistency } from '../kernel/proofgraph/merkle.js';
import { TrustError } from '../kernel/trust/events.js';
import { TrustRegistry } from '../kernel/trust/registry.js';
import type { FleetBucket } from '../sidecar/ship/object-store.js';
import { readEntries, ReadBackError } from '../sidecar/ship/publish.js';
import { FleetLog, type FleetKeys } from './fleet-log.js';

export interface Answer {
  status: number;
  body: string;
  type?: string;
}

type WriterStatus = 'open' | 'closed' | 'quarantined';

interface Writer {
  origin: string;
  namespace: string;
  logKey: VerifierKey;
  tree: MerkleTree;
  /** Size and note (with our cosignature) last cosigned. */
  size: number;
  note: string | null;
  status: WriterStatus;
  /** When the last checkpoint was cosigned (ms; from the fleet log on a rebuild), null before the first. */
  cosignedAt: number | null;
}

export interface CollectorOptions extends FleetKeys {
  bucket: FleetBucket;
  /** The trust root whose trust events certify writer log keys. */
  rootKey: VerifierKey;
  now?: () => number;
}

const text = (status: number, body: string): Answer => ({ status, body: body.endsWith('\n') ? body : `${body}\n`, type: 'text/plain; charset=utf-8' });
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

export class Collector {
  private readonly writers = new Map<string, Writer>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly now: () => number;

  private constructor(
    private readonly o: CollectorOptions,
    readonly fleet: FleetLog,
  ) {
    this.now = o.now ?? Date.now;
  }

  /** Starts from what the bucket holds: replays the fleet log and re-reads each writer's entries. */
  static async open(o: CollectorOptions): Promise<Collector> {
    const { log, events } = await FleetLog.open(o.bucket, o, o.now ?? Date.now);
    const c = new Collector(o, log);
    for (const ev of events) c.replay(ev);
    for (const w of c.writers.values()) {
      if (w.size === 0) continue;
      for (const e of await readEntries(o.bucket, writerPrefix(nodeSuite, w.origin), 0, w.size)) w.tree.appendEntry(e);
      const cp = parseCheckpointText(parseNote(w.note!).text);
      if (!sameBytes(w.tree.root(), cp.root)) throw new Error(`writer ${w.origin}: entries in the bucket do not match the cosigned size ${w.size}`);
    }
    return c;
  }

  private replay(ev: FleetEvent): void {
    const w = this.writers.get(ev.origin);
    switch (ev.kind) {
      case 'WRITER_OPEN':
        if (!w) this.writers.set(ev.origin, { origin: ev.origin, namespace: ev.namespace, logKey: parseVerifierKey(ev.logKey), tree: new MerkleTree(nodeSuite), size: 0, note: null, status: 'open', cosignedAt: null });
        break;
      case 'CHECKPOINT':
        if (w && ev.size >= w.size) Object.assign(w, { size: ev.size, note: ev.note, cosignedAt: ev.time });
        break;
      case 'WRITER_CLOSED':
        if (w) w.status = 'closed';
        break;
      case 'EQUIVOCATION':
        if (w) w.status = 'quarantined';
        break;
    }
  }

  /** Requests about one writer run one at a time; different writers proceed in parallel. */
  private serial(origin: unknown, f: () => Promise<Answer>): Promise<Answer> {
    const key = typeof origin === 'string' ? origin : '';
    const run = (this.queues.get(key) ?? Promise.resolve()).then(f, f);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  /** The origin a tlog-witness body names (its checkpoint's first line), for per-writer ordering. */
  private static originOf(body: string): string {
    const at = body.indexOf('\n\n');
    return at < 0 ? '' : body.slice(at + 2).split('\n', 1)[0]!;
  }

  writer(origin: string): Readonly<Pick<Writer, 'origin' | 'namespace' | 'size' | 'status' | 'note'>> | undefined {
    return this.writers.get(origin);
  }

  open(body: unknown): Promise<Answer> {
    return this.serial((body as { origin?: unknown } | null)?.origin, async () => {
      const b = body as { origin?: unknown; namespace?: unknown; certification?: unknown } | null;
      if (!b || typeof b.origin !== 'string' || typeof b.namespace !== 'string' || b.namespace === '' || b.certification === undefined) {
        return text(400, 'writer/open needs {origin, namespace, certification}');
      }
      const registry = new TrustRegistry(nodeSuite, this.o.rootKey);
      let logKey: VerifierKey;
      try {
        const ev = registry.apply(b.certification, `writer/open ${b.origin}`);
        if (ev.purpose !== 'log' || ev.origin !== b.origin) return text(403, `the certification is for ${ev.purpose} key of ${ev.origin}, not the log key of ${b.origin}`);
        logKey = parseVerifierKey(ev.key);
      } catch (e) {
        if (e instanceof TrustError) return text(403, `${e.code}: ${e.message}`);
        throw e;
      }
      const known = this.writers.get(b.origin);
      if (known) {
        if (known.logKey.vkey !== logKey.vkey) return text(403, `${b.origin} is already open with another log key`);
        return text(200, `${b.origin} open`);
      }
      await this.fleet.append([{ kind: 'WRITER_OPEN', origin: b.origin, namespace: b.namespace, logKey: logKey.vkey, certification: b.certification, time: this.now() }]);
      this.writers.set(b.origin, { origin: b.origin, namespace: b.namespace, logKey, tree: new MerkleTree(nodeSuite), size: 0, note: null, status: 'open', cosignedAt: null });
      return text(200, `${b.origin} open`);
    });
  }

  close(body: unknown): Promise<Answer> {
    return this.serial((body as { origin?: unknown } | null)?.origin, async () => {
      const b = body as { origin?: unknown; size?: unknown } | null;
      if (!b || typeof b.origin !== 'string' || !Number.isSafeInteger(b.size)) return text(400, 'writer/close needs {origin, size}');
      const w = this.writers.get(b.origin);
      if (!w) return text(404, `unknown origin ${b.origin}`);
      if (w.status === 'quarantined') return text(403, `${w.origin} is quarantined`);
      if (w.status === 'closed') return text(200, `${w.origin} closed at ${w.size}`);
      if (b.size !== w.size) return { status: 409, body: `${w.size}\n`, type: 'text/x.tlog.size' };
      await this.fleet.append([{ kind: 'WRITER_CLOSED', origin: w.origin, size: w.size, time: this.now() }]);
      w.status = 'closed';
      return text(200, `${w.origin} closed at ${w.size}`);
    });
  }

  addCheckpoint(body: string): Promise<Answer> {
    return this.serial(Collector.originOf(body), () => this.add(body));
  }

  private async add(body: string): Promise<Answer> {
    let req;
    let cp: Checkpoint;
    try {
      req = parseAddCheckpoint(body);
      cp = parseCheckpointText(parseNote(req.note).text);
    } catch (e) {
      if (e instanceof WitnessRequestError || e instanceof NoteError || e instanceof CheckpointError) return text(400, e.message);
      throw e;
    }
    const w = this.writers.get(cp.origin);
    if (!w) return text(404, `unknown origin ${cp.origin}: the writer must be opened with a certified log key first`);
    try {
      const v = verifyNote(req.note, [w.logKey], nodeSuite);
      if (!v.verified.some((x) => x.key.vkey === w.logKey.vkey)) return text(403, `${cp.origin}: not signed by its certified log key`);
    } catch (e) {
      if (e instanceof NoteError) return text(403, `${cp.origin}: ${e.message}`);
      throw e;
    }
    if (w.status !== 'open') return text(403, `${cp.origin} is ${w.status}: no further checkpoints are cosigned`);
    if (req.oldSize > cp.size) return text(400, `old size ${req.oldSize} is larger than the checkpoint size ${cp.size}`);
    if (cp.size <= w.size && !sameBytes(w.tree.root(cp.size), cp.root)) return this.equivocation(w, req.note, cp);
    if (req.oldSize !== w.size) return { status: 409, body: `${w.size}\n`, type: 'text/x.tlog.size' };
    if (cp.size === w.size) return text(200, this.cosignatureLines(w.note!));
    if (req.oldSize > 0 && !verifyConsistency(nodeSuite, req.oldSize, cp.size, w.tree.root(req.oldSize), cp.root, req.proof)) {
      return text(422, `consistency proof from ${req.oldSize} to ${cp.size} does not verify`);
    }
    if (req.oldSize === 0 && req.proof.length > 0) return text(422, 'a checkpoint on an empty log takes no consistency proof');
    // tlog-mirror: read back every new entry and re-hash it to the signed root before cosigning.
    let fresh: Uint8Array[];
    try {
      fresh = await readEntries(this.o.bucket, writerPrefix(nodeSuite, w.origin), w.size, cp.size);
    } catch (e) {
      if (e instanceof ReadBackError) return text(422, `${e.code}: ${e.message}`);
      throw e;
    }
    const candidate = new MerkleTree(nodeSuite);
    for (let i = 0; i < w.size; i++) candidate.appendLeafHash(w.tree.leaf(i));
    for (const e of fresh) candidate.appendEntry(e);
    if (candidate.size !== cp.size || !sameBytes(candidate.root(), cp.root)) {
      return text(422, `entries ${w.size}..${cp.size} read back from the bucket do not hash to the signed root of ${cp.origin}@${cp.size}`);
    }
    const cosigned = addSignatures(req.note, [this.o.mirrorKey], BigInt(Math.floor(this.now() / 1000)));
    const at = this.now();
    await this.fleet.append([{ kind: 'CHECKPOINT', origin: w.origin, size: cp.size, note: cosigned, time: at }]);
    w.tree = candidate;
    w.size = cp.size;
    w.note = cosigned;
    w.cosignedAt = at;
    return text(200, this.cosignatureLines(cosigned));
  }

  /** Our signature lines of a cosigned note: what a tlog-witness answers. */
  private cosignatureLines(note: string): string {
    const mine = parseNote(note).signatures.filter((s) => s.name === this.o.mirrorKey.verifier.name && s.keyId === this.o.mirrorKey.verifier.keyId);
    return mine.map((s) => `${s.line}\n`).join('');
  }

  /** Two signed checkpoints of one writer that cannot both be true: keep them, quarantine the writer. */
  private async equivocation(w: Writer, note: string, cp: Checkpoint): Promise<Answer> {
    const evidence = jcs({
      kind: 'helm.fleet.equivocation/v1',
      origin: w.origin,
      logKey: w.logKey.vkey,
      cosigned: w.note,
      conflicting: note,
      // With our verified tree: the root at the conflicting size that the cosigned note commits to.
      rootAtConflictingSize: toBase64(w.tree.root(cp.size)),
      consistency: cp.size > 0 ? w.tree.consistencyProof(cp.size, w.size).map(toBase64) : [],
    });
    const key = evidenceKey(createHash('sha256').update(evidence).digest('hex'));
    await this.o.bucket.putImmutable(key, evidence);
    await this.fleet.append([{ kind: 'EQUIVOCATION', origin: w.origin, evidence: key, time: this.now() }]);
    w.status = 'quarantined';
    return { status: 409, body: `${w.size}\n`, type: 'text/x.tlog.size' };
  }

  /** Writers of a namespace with their state, for status and reports. */
  list(): Array<{ origin: string; namespace: string; size: number; status: WriterStatus; cosignedAt: number | null }> {
    return [...this.writers.values()].map((w) => ({ origin: w.origin, namespace: w.namespace, size: w.size, status: w.status, cosignedAt: w.cosignedAt })).sort((a, b) => (a.origin < b.origin ? -1 : 1));
  }
}
