// Group commit: items that arrive while a batch is being written and synced wait together and go
// out as the next batch, so a burst of N appends costs a few fsyncs instead of N. A batch's
// promise settles only after its commit (write + datasync) has finished.
import type { StoreError } from './errors.js';

interface Batch<T> {
  items: T[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: StoreError) => void;
}

function newBatch<T>(): Batch<T> {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  // Callers chain on the batch promise; this keeps the shared promise itself from being reported
  // as an unhandled rejection when the store fails.
  promise.catch(() => undefined);
  return { items: [], promise, resolve, reject };
}

export class CommitQueue<T> {
  batches = 0;
  private pending: Batch<T> | null = null;
  private inflight: Batch<T> | null = null;
  private running = false;
  private error: StoreError | null = null;

  /**
   * @param commit writes and syncs one batch, in order; it throwing fails the queue for good.
   * @param onError turns a commit failure into the store-wide error (and aborts sibling queues).
   */
  constructor(
    private readonly commit: (items: T[]) => Promise<void>,
    private readonly onError: (err: unknown) => StoreError,
  ) {}

  /** Queues `item`; the promise resolves once the batch holding it is durable. */
  enqueue(item: T): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    let batch = this.pending;
    if (!batch) {
      batch = this.pending = newBatch<T>();
      if (!this.running) {
        this.running = true;
        // Start in a microtask: appends issued in the same tick join the first batch.
        queueMicrotask(() => void this.drain());
      }
    }
    batch.items.push(item);
    return batch.promise;
  }

  /** Resolves when everything queued so far is durable; rejects if any of it cannot be. */
  settled(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    return (this.pending ?? this.inflight)?.promise ?? Promise.resolve();
  }

  /** Fails the queue: the waiting batch and every later enqueue reject with `err`. */
  abort(err: StoreError): void {
    if (!this.error) this.error = err;
    this.pending?.reject(this.error);
    this.pending = null;
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.error) {
      const batch = (this.inflight = this.pending);
      this.pending = null;
      try {
        await this.commit(batch.items);
        this.batches++;
        batch.resolve();
      } catch (err) {
        const failure = this.onError(err);
        this.abort(failure);
        batch.reject(failure);
      } finally {
        this.inflight = null;
      }
    }
    this.running = false;
  }
}
