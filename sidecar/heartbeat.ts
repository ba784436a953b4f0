// Periodic heartbeat nodes, each followed by a checkpoint: silence in a log is evidence only if a
// live writer is known to speak at a declared interval (intervalUs in every heartbeat), and the
// checkpoint lets an export taken at any time cover everything up to the last beat.
import type { ProofGraphWriter } from '../kernel/proofgraph/graph-writer.js';
import { errorText, type Logger } from './log.js';

export class HeartbeatTimer {
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  /** Runs after each beat's checkpoint (the sidecar saves the start-up snapshot there). */
  afterBeat: (() => Promise<unknown>) | null = null;

  constructor(
    private readonly writer: ProofGraphWriter,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  /** One heartbeat + checkpoint; skipped while the previous one runs or once the store failed. */
  beat(): Promise<void> {
    if (this.beating || this.writer.failed) return this.beating ?? Promise.resolve();
    this.beating = (async () => {
      try {
        await this.writer.heartbeat('periodic');
        await this.writer.checkpoint();
        await this.afterBeat?.();
      } catch (e) {
        this.log.error('periodic heartbeat failed', { error: errorText(e) });
      } finally {
        this.beating = null;
      }
    })();
    return this.beating;
  }

  /** Stops the timer and waits for a beat in progress (the shutdown heartbeat must come last). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
  }
}
