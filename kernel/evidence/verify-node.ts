// The node verifier: node:crypto for hashing and signatures, with signature batches spread over a
// worker_threads pool (one worker per core by default). The worker file is found next to this one:
// verify-worker.js when running compiled, or verify-worker.ts under tsx / ts-jest (the worker then
// loads tsx itself).
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { nodeSuite } from '../crypto/node.js';
import { gunzipNodeTo } from './gzip-node.js';
import type { PackLimits } from './limits.js';
import type { SignatureTask, VerifyMany } from './signatures.js';
import type { TrustPolicy } from './trust-policy.js';
import { verifyPack, type VerifyReport } from './verify-core.js';
import { decodePacked, unpackDecoded, verifyPacked, WORKER_MARKER, type DecodeReply, type PackedBatch, type PackedLines, type WorkerRequest } from './verify-worker.js';
import type { DecodeMany } from './graph-check.js';

/** Below this many items a batch is handled on the calling thread: posting costs more. */
const INLINE_BELOW = 64;
/**
 * Items per message. Work is pulled chunk by chunk (two in flight per worker, so a worker never
 * waits for the main thread between chunks): a worker that gets less CPU on a shared machine takes
 * fewer chunks instead of holding everyone up, and a chunk's decoded objects die young.
 */
const CHUNK = 1024;

/** Lines back to back, each after one 0x00 byte: the RFC 6962 leaf prefix, so the worker hashes leaves in place. */
function packLines(lines: readonly Uint8Array[], id: number): PackedLines {
  const offsets = new Float64Array(lines.length + 1);
  let total = 0;
  lines.forEach((l, i) => {
    offsets[i] = total;
    total += 1 + l.length;
  });
  offsets[lines.length] = total;
  const data = new Uint8Array(total); // zero-filled: every prefix byte is already 0x00
  lines.forEach((l, i) => data.set(l, offsets[i]! + 1));
  return { id, count: lines.length, data, offsets };
}


function workerEntry(): { url: URL; execArgv: string[] } {
  const js = new URL('./verify-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { url: js, execArgv: [] };
  const ts = new URL('./verify-worker.ts', import.meta.url);
  if (existsSync(fileURLToPath(ts))) return { url: ts, execArgv: ['--import', 'tsx'] };
  throw new Error(`verify worker not found next to ${fileURLToPath(import.meta.url)}`);
}

function pack(tasks: readonly SignatureTask[], id: number): PackedBatch {
  const count = tasks.length;
  const keys = new Uint8Array(32 * count);
  const sigs = new Uint8Array(64 * count);
  const offsets = new Float64Array(count + 1);
  let total = 0;
  tasks.forEach((t, i) => {
    offsets[i] = total;
    total += t.message.length;
  });
  offsets[count] = total;
  const messages = new Uint8Array(total);
  tasks.forEach((t, i) => {
    // A malformed key or signature length must fail, not shift the packed layout.
    if (t.publicKey.length === 32) keys.set(t.publicKey, 32 * i);
    if (t.signature.length === 64) sigs.set(t.signature, 64 * i);
    messages.set(t.message, offsets[i]!);
  });
  return { id, count, keys, sigs, messages, offsets };
}

export class VerifyPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private readonly busy = new Map<Worker, number>();
  private nextId = 0;
  private failed: Error | null = null;
  /** Signatures handed to worker threads so far (the rest were verified inline). */
  dispatched = 0;
  /** Entries decoded on worker threads so far. */
  decoded = 0;
  /** Leaf hashes computed on worker threads so far. */
  leaves = 0;

  /** Messages each worker answered (by worker), for tests and benchmarks. */
  readonly answered: number[] = [];
  private readonly chunk: number;

  constructor(
    readonly size = Math.max(1, availableParallelism()),
    opts: { chunk?: number } = {},
  ) {
    this.chunk = Math.max(1, opts.chunk ?? CHUNK);
    const { url, execArgv } = workerEntry();
    for (let i = 0; i < size; i++) {
      const w = new Worker(url, { execArgv, workerData: WORKER_MARKER });
      this.answered.push(0);
      w.on('message', (m: { id: number; results: unknown }) => {
        this.answered[i]!++;
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        // An idle pool must not keep the process alive; a busy one must.
        const left = (this.busy.get(w) ?? 1) - 1;
        this.busy.set(w, left);
        if (left === 0) w.unref();
        p?.resolve(m.results);
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`verify worker exited with code ${code}`));
      });
      w.unref();
      this.workers.push(w);
    }
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private post<T>(w: Worker, req: WorkerRequest, transfer: ArrayBuffer[]): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(req.id, { resolve: resolve as (r: unknown) => void, reject });
      this.busy.set(w, (this.busy.get(w) ?? 0) + 1);
      w.ref();
      w.postMessage(req, transfer);
    });
  }

  /**
   * Runs `n` chunks over the workers, pulled in order by whichever worker is free; each reply is
   * turned into its result as it arrives (while the workers go on), results in chunk order.
   */
  private async distribute<T, R>(n: number, make: (i: number) => { req: WorkerRequest; transfer: ArrayBuffer[] }, done: (reply: T, i: number) => R): Promise<R[]> {
    const out = new Array<R>(n);
    let next = 0;
    const lane = async (w: Worker): Promise<void> => {
      while (next < n) {
        const i = next++;
        const { req, transfer } = make(i);
        out[i] = done(await this.post<T>(w, req, transfer), i);
      }
    };
    await Promise.all(this.workers.flatMap((w) => [lane(w), lane(w)]));
    return out;
  }

  /** Decodes entries (and hashes their leaves) on the workers; outcomes in line order. */
  readonly decodeMany: DecodeMany = async (lines) => {
    if (lines.length < INLINE_BELOW) return unpackDecoded(decodePacked(packLines(lines, -1)), lines);
    const c = this.chunk;
    const parts = await this.distribute(
      Math.ceil(lines.length / c),
      (i) => {
        const b = packLines(lines.slice(i * c, (i + 1) * c), this.nextId++);
        this.decoded += b.count;
        return { req: { op: 'decode', ...b }, transfer: [b.data.buffer, b.offsets.buffer] as ArrayBuffer[] };
      },
      (r: DecodeReply, i) => {
        this.leaves += r.leaves.length / 32;
        return unpackDecoded(r, lines.slice(i * c, (i + 1) * c));
      },
    );
    return parts.flat();
  };

  /** Verifies the tasks on the workers, chunk by chunk; results in task order. */
  readonly verifyMany: VerifyMany = async (tasks) => {
    const lengthOk = (t: SignatureTask): boolean => t.publicKey.length === 32 && t.signature.length === 64;
    if (tasks.length < INLINE_BELOW) return [...verifyPacked(pack(tasks, -1))].map((x, i) => x === 1 && lengthOk(tasks[i]!));
    const c = this.chunk;
    const parts = await this.distribute(
      Math.ceil(tasks.length / c),
      (i) => {
        const b = pack(tasks.slice(i * c, (i + 1) * c), this.nextId++);
        this.dispatched += b.count;
        return { req: { op: 'verify', ...b }, transfer: [b.keys.buffer, b.sigs.buffer, b.messages.buffer, b.offsets.buffer] as ArrayBuffer[] };
      },
      (r: Uint8Array) => r,
    );
    const out: boolean[] = [];
    for (const p of parts) for (const x of p) out.push(x === 1);
    return out.map((ok, i) => ok && lengthOk(tasks[i]!));
  };

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

export interface NodeVerifyOptions {
  limits?: Partial<PackLimits>;
  /** Worker threads; 0 verifies on the calling thread. Default: one per core. */
  workers?: number;
  /** Reuse a pool across packs (the caller closes it). */
  pool?: VerifyPool;
}

export async function verifyPackNode(bytes: Uint8Array, policy: TrustPolicy, opts: NodeVerifyOptions = {}): Promise<VerifyReport> {
  const own = opts.pool ? null : opts.workers === 0 ? null : new VerifyPool(opts.workers);
  const pool = opts.pool ?? own;
  try {
    return await verifyPack(bytes, policy, {
      suite: nodeSuite,
      gunzip: gunzipNodeTo,
      ...(pool ? { verifyMany: pool.verifyMany, decodeMany: pool.decodeMany } : {}),
      ...(opts.limits ? { limits: opts.limits } : {}),
    });
  } finally {
    await own?.close();
  }
}
