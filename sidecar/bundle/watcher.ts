// Notices changes to the mounted bundle files. Kubernetes ConfigMap and Secret volumes update by
// swapping a `..data` symlink in the mount directory, which a watch on the file itself misses, so
// the directories are watched and the files are also polled; the fingerprint check behind `check`
// makes extra wake-ups free.
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { errorText, type Logger } from '../log.js';

export class BundleWatcher {
  private readonly watchers: FSWatcher[] = [];
  private poll: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly paths: readonly string[],
    private readonly intervalMs: number,
    private readonly check: () => Promise<unknown>,
    private readonly log: Logger,
    private readonly debounceMs = 50,
  ) {}

  start(): void {
    for (const dir of new Set(this.paths.map((p) => dirname(resolve(p))))) {
      try {
        const w = watch(dir, { persistent: false }, () => this.soon());
        w.on('error', (e) => this.log.warn('bundle directory watch failed; polling continues', { dir, error: errorText(e) }));
        this.watchers.push(w);
      } catch (e) {
        this.log.warn('cannot watch the bundle directory; polling only', { dir, error: errorText(e) });
      }
    }
    this.poll = setInterval(() => this.run(), this.intervalMs);
    this.poll.unref();
  }

  private soon(): void {
    if (this.closed || this.debounce) return;
    // An editor or a symlink swap produces a burst of events: read once it settles.
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.run();
    }, this.debounceMs);
    this.debounce.unref();
  }

  private run(): void {
    if (this.closed) return;
    this.check().catch((e: unknown) => this.log.error('bundle check failed', { error: errorText(e) }));
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers) w.close();
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
  }
}
