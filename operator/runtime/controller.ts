// Workers over a WorkQueue running a level-triggered Reconcile(key): the reconciler reads the
// current state itself and never learns which event woke it. A thrown error requeues the key with
// per-key exponential backoff; a result may ask for a requeue after a delay (periodic refresh).
import type { OperatorMetrics, ReconcileResult } from '../metrics.js';
import { describeError } from './errors.js';
import { WorkQueue } from './workqueue.js';

export interface ReconcileOutcome {
  requeueAfterMs?: number;
}

export interface Reconciler {
  readonly kind: string;
  reconcile(key: string): Promise<ReconcileOutcome | void>;
}

export interface ControllerOptions {
  maxConcurrency?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  metrics?: OperatorMetrics;
  log?: (msg: string, ctx?: Record<string, unknown>) => void;
}

export class Controller {
  private queue: WorkQueue | undefined;
  private workers: Promise<void>[] = [];

  constructor(
    readonly reconciler: Reconciler,
    private readonly opts: ControllerOptions = {},
  ) {}

  get running(): boolean {
    return this.queue !== undefined && !this.queue.shuttingDown;
  }

  /** Enqueue a key; ignored while not running (a resync on start covers it). */
  enqueue(key: string): void {
    this.queue?.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue?.addAfter(key, ms);
  }

  get depth(): number {
    return this.queue?.depth ?? 0;
  }

  start(initialKeys: Iterable<string> = []): void {
    if (this.running) return;
    const queue = new WorkQueue(this.reconciler.kind, {
      ...(this.opts.baseDelayMs !== undefined ? { baseDelayMs: this.opts.baseDelayMs } : {}),
      ...(this.opts.maxDelayMs !== undefined ? { maxDelayMs: this.opts.maxDelayMs } : {}),
      ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
    });
    this.queue = queue;
    for (const k of initialKeys) queue.add(k);
    const n = Math.max(1, this.opts.maxConcurrency ?? 2);
    this.workers = Array.from({ length: n }, () => this.work(queue));
  }

  /** Stops taking keys and waits for in-flight reconciles to finish. */
  async stop(): Promise<void> {
    const q = this.queue;
    if (!q) return;
    q.shutdown();
    await Promise.all(this.workers);
    this.workers = [];
  }

  private async work(queue: WorkQueue): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const started = performance.now();
      let result: ReconcileResult = 'success';
      try {
        const out = await this.reconciler.reconcile(key);
        queue.forget(key);
        if (out?.requeueAfterMs !== undefined) {
          result = 'requeue';
          queue.addAfter(key, out.requeueAfterMs);
        }
      } catch (e) {
        result = 'error';
        const delay = queue.addRateLimited(key);
        this.opts.log?.('reconcile failed; requeued', { kind: this.reconciler.kind, key, retryInMs: delay, attempt: queue.retries(key), error: describeError(e) });
      } finally {
        this.opts.metrics?.reconcile(this.reconciler.kind, result, (performance.now() - started) / 1000);
        queue.done(key);
      }
    }
  }
}
