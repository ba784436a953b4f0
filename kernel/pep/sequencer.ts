// Decision nodes are appended in the order the PEP decided them (the order it reserved budgets
// and tokens in), although each must wait for its own input blob to be durable first. Slots are
// released strictly first-in first-out as their prerequisites settle, so the log order of
// decisions is the decision order and a restart folds consumption back in the same order.

interface Slot {
  settled: boolean;
  error: unknown;
  values: unknown[];
  fire(values: unknown[]): void;
  fail(error: unknown): void;
}

export class DecisionSequencer {
  private readonly queue: Slot[] = [];
  private pumping = false;

  /** Number of decisions waiting for their prerequisites or their turn. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Queues one decision: `fire` runs (synchronously, in queue order) with the prerequisites'
   * values once every one has resolved and every earlier slot has fired or failed; `fail` runs
   * instead when one rejected.
   */
  add(prerequisites: ReadonlyArray<Promise<unknown>>, fire: (values: unknown[]) => void, fail: (error: unknown) => void): void {
    const slot: Slot = { settled: false, error: null, values: [], fire, fail };
    this.queue.push(slot);
    Promise.all(prerequisites).then(
      (values) => this.settle(slot, null, values),
      (e: unknown) => this.settle(slot, e ?? new Error('prerequisite failed'), []),
    );
  }

  private settle(slot: Slot, error: unknown, values: unknown[]): void {
    slot.settled = true;
    slot.error = error;
    slot.values = values;
    this.pump();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && this.queue[0]!.settled) {
        const s = this.queue.shift()!;
        try {
          if (s.error !== null) s.fail(s.error);
          else s.fire(s.values);
        } catch (e) {
          s.fail(e);
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}
