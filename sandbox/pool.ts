// A small pool of Workers that run guests. A guest past its wall time is killed with
// worker.terminate() (V8 interrupts even a tight wasm loop); its Worker is discarded and a fresh
// one is started for the next call, so other calls in other Workers are never blocked.
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { workerSource, type WorkerJob, type WorkerResult } from './worker-main.js';

export type PoolResult = WorkerResult | { kind: 'timeout' } | { kind: 'died'; detail: string };

export interface PoolOptions {
  /** Workers at most (default 2): calls beyond wait in order. */
  size?: number;
  /** V8 heap limits of each Worker: guest memory is bounded by the meter, host JS by these. */
  resourceLimits?: ResourceLimits;
  /** Called with each Worker started (observability; tests use it to kill one). */
  onWorker?: (worker: Worker) => void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  /** Resolves when the Worker is running: its start-up does not count against a call's wallMs. */
  online: Promise<boolean>;
}

let source: string | undefined;

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Array<{ resolve: (slot: Slot) => void; reject: (e: Error) => void }> = [];
  private closed = false;
  readonly size: number;

  constructor(private readonly options: PoolOptions = {}) {
    this.size = Math.max(1, options.size ?? 2);
  }

  private start(): Slot {
    source ??= workerSource();
    const worker = new Worker(source, {
      eval: true,
      resourceLimits: this.options.resourceLimits ?? { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    worker.unref();
    const online = new Promise<boolean>((resolve) => {
      worker.once('online', () => resolve(true));
      worker.once('error', () => resolve(false));
      worker.once('exit', () => resolve(false));
    });
    const slot: Slot = { worker, busy: false, online };
    this.slots.push(slot);
    // A Worker that dies while idle leaves the pool at once: a later call must not be posted to it.
    worker.once('exit', () => {
      const i = this.slots.indexOf(slot);
      if (!slot.busy && i >= 0) this.slots.splice(i, 1);
    });
    this.options.onWorker?.(worker);
    return slot;
  }

  private acquire(): Promise<Slot> {
    if (this.closed) return Promise.reject(new Error('sandbox pool is closed'));
    // Marked busy here, synchronously: two calls must never be handed the same Worker.
    const idle = this.slots.find((s) => !s.busy) ?? (this.slots.length < this.size ? this.start() : undefined);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(slot: Slot, healthy: boolean): void {
    if (!healthy) {
      this.slots.splice(this.slots.indexOf(slot), 1);
      void slot.worker.terminate().catch(() => undefined);
    }
    const next = this.waiting.shift();
    if (!next) {
      if (healthy) slot.busy = false;
      return;
    }
    if (healthy) return next.resolve(slot);
    const fresh = this.start();
    fresh.busy = true;
    next.resolve(fresh);
  }

  /** Runs one job; resolves (never rejects) with the worker's result, a timeout or a death. */
  async run(job: WorkerJob, wallMs: number): Promise<PoolResult> {
    let slot: Slot;
    try {
      slot = await this.acquire();
    } catch (e) {
      return { kind: 'died', detail: (e as Error).message };
    }
    const { worker } = slot;
    // A call in flight keeps the process alive; an idle Worker does not (unref'd at start).
    worker.ref();
    if (!(await slot.online)) {
      this.release(slot, false);
      return { kind: 'died', detail: 'the worker did not start' };
    }
    return new Promise<PoolResult>((resolve) => {
      let done = false;
      const finish = (result: PoolResult, healthy: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        worker.unref();
        this.release(slot, healthy);
        resolve(result);
      };
      const onMessage = (r: WorkerResult) => finish(r, true);
      const onError = (e: Error) => finish({ kind: 'died', detail: `worker error: ${e.message}` }, false);
      const onExit = (code: number) => finish({ kind: 'died', detail: `worker exited with code ${code}` }, false);
      const timer = setTimeout(() => finish({ kind: 'timeout' }, false), wallMs);
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      try {
        worker.postMessage(job);
      } catch (e) {
        finish({ kind: 'died', detail: `cannot post the job: ${(e as Error).message}` }, false);
      }
    });
  }

  get workers(): number {
    return this.slots.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new Error('sandbox pool is closed'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate().catch(() => undefined)));
  }
}
