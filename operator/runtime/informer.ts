// A supervised list+watch (a reflector with its cache). client-node's own informer stops for good
// on errors and can hang on a dead watch; this one never gives up while running:
// - a watch that ends normally (server timeout) resumes from the last resourceVersion;
// - 410 Gone (an ERROR event or an HTTP 410) relists, and the relist is diffed into the cache so
//   handlers see adds, updates and deletes they missed;
// - other errors back off exponentially and resume (relisting if resuming is 410);
// - a watchdog restarts a watch that hears nothing (no event, no bookmark) for silenceMs.
import type { OperatorMetrics } from '../metrics.js';
import { apiStatus, describeError } from './errors.js';
import type { KObject, Kube, ResourceType, WatchEventType } from './kube.js';
import { backoff, sleep } from './sleep.js';

export interface EventHandler {
  add?(obj: KObject): void;
  update?(old: KObject, obj: KObject): void;
  delete?(obj: KObject): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** Server-side watch timeout; the watch is then resumed. */
  watchTimeoutSeconds?: number;
  /** No event or bookmark for this long: the watch is presumed dead and restarted. */
  silenceMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  metrics?: OperatorMetrics;
  log?: (msg: string, ctx?: Record<string, unknown>) => void;
}

type WatchEnd = 'closed' | 'gone' | 'error' | 'silent' | 'stopped';

export const objectKeyOf = (o: { metadata: { namespace?: string; name: string } }): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);

export class Informer {
  private readonly cache = new Map<string, KObject>();
  private readonly handlers: EventHandler[] = [];
  private resourceVersion = '';
  private stopped = true;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private current: AbortController | undefined;
  private syncedResolve!: () => void;
  readonly synced: Promise<void>;
  private hasSynced = false;
  /** Counts of watch restarts by reason, for tests and logs. */
  readonly restarts: Record<Exclude<WatchEnd, 'stopped'> | 'relist', number> = { closed: 0, gone: 0, error: 0, silent: 0, relist: 0 };

  constructor(
    private readonly kube: Kube,
    readonly resource: ResourceType,
    private readonly opts: InformerOptions = {},
  ) {
    this.synced = new Promise((r) => (this.syncedResolve = r));
  }

  get isSynced(): boolean {
    return this.hasSynced;
  }

  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  addHandler(h: EventHandler): void {
    this.handlers.push(h);
  }

  get(namespace: string | undefined, name: string): KObject | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): KObject[] {
    return [...this.cache.values()];
  }

  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.current?.abort();
    await this.loop;
  }

  private log(msg: string, ctx: Record<string, unknown> = {}): void {
    this.opts.log?.(msg, { resource: this.resource.plural, ...ctx });
  }

  private emit(fn: (h: EventHandler) => void): void {
    for (const h of this.handlers) {
      try {
        fn(h);
      } catch (e) {
        this.log('event handler failed', { error: describeError(e) });
      }
    }
  }

  private async run(): Promise<void> {
    const base = this.opts.backoffBaseMs ?? 200;
    const max = this.opts.backoffMaxMs ?? 30_000;
    let needList = true;
    let failures = 0;
    while (!this.stopped) {
      if (needList) {
        try {
          await this.relist();
          needList = false;
          failures = 0;
        } catch (e) {
          this.log('list failed', { error: describeError(e) });
          await sleep(backoff(failures++, base, max), this.abort.signal);
          continue;
        }
      }
      const end = await this.watchOnce();
      if (end === 'stopped') break;
      this.restarts[end] += 1;
      this.opts.metrics?.watchRestart(this.resource.plural, end);
      if (end === 'gone') needList = true;
      if (end === 'error') await sleep(backoff(failures++, base, max), this.abort.signal);
      else if (end !== 'gone') failures = 0;
    }
  }

  /** Lists and replaces the cache, telling handlers what changed since what they last saw. */
  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.kube.list(this.resource, { ...(this.opts.namespace ? { namespace: this.opts.namespace } : {}), ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}) });
    if (this.stopped) return;
    this.restarts.relist += 1;
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKeyOf(obj);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit((h) => h.add?.(obj));
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit((h) => h.update?.(old, obj));
    }
    for (const [key, old] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit((h) => h.delete?.(old));
    }
    this.resourceVersion = resourceVersion;
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.syncedResolve();
    }
  }

  private watchOnce(): Promise<WatchEnd> {
    const silenceMs = this.opts.silenceMs ?? 90_000;
    const timeoutSeconds = this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 60);
    return new Promise<WatchEnd>((resolve) => {
      let settled = false;
      let lastHeard = Date.now();
      let controller: AbortController | undefined;
      const finish = (end: WatchEnd): void => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        this.abort.signal.removeEventListener('abort', onStop);
        controller?.abort();
        resolve(this.stopped ? 'stopped' : end);
      };
      const onStop = (): void => finish('stopped');
      this.abort.signal.addEventListener('abort', onStop, { once: true });
      const watchdog = setInterval(() => {
        if (Date.now() - lastHeard > silenceMs) {
          this.log('watch went silent; restarting', { silentMs: Date.now() - lastHeard, resourceVersion: this.resourceVersion });
          finish('silent');
        }
      }, Math.max(10, Math.floor(silenceMs / 4)));
      const onEvent = (type: WatchEventType, obj: KObject): void => {
        if (settled) return;
        lastHeard = Date.now();
        if (type === 'ERROR') {
          const code = (obj as { code?: unknown }).code;
          this.log('watch error event', { code, message: (obj as { message?: unknown }).message });
          finish(code === 410 ? 'gone' : 'error');
          return;
        }
        const rv = obj.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (type === 'BOOKMARK') return;
        const key = objectKeyOf(obj);
        const old = this.cache.get(key);
        if (type === 'DELETED') {
          this.cache.delete(key);
          this.emit((h) => h.delete?.(obj));
        } else {
          this.cache.set(key, obj);
          if (old) this.emit((h) => h.update?.(old, obj));
          else this.emit((h) => h.add?.(obj));
        }
      };
      const onDone = (err: unknown): void => {
        if (settled) return;
        if (!err) return finish('closed');
        // client-node aborts a watch that received nothing for 30 s with a TimeoutError.
        if ((err as { name?: unknown }).name === 'TimeoutError') return finish('silent');
        const status = apiStatus(err);
        this.log('watch ended with an error', { error: describeError(err) });
        finish(status?.code === 410 ? 'gone' : 'error');
      };
      this.kube
        .watch(this.resource, { resourceVersion: this.resourceVersion, timeoutSeconds, ...(this.opts.namespace ? { namespace: this.opts.namespace } : {}), ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}) }, onEvent, onDone)
        .then((c) => {
          controller = c;
          this.current = c;
          if (settled) c.abort();
        })
        .catch((e: unknown) => onDone(e ?? new Error('watch failed')));
    });
  }
}
