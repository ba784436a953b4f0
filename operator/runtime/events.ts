// events.k8s.io/v1 Events about our objects. Best effort (a failed Event never fails a
// reconcile) and deduplicated: the same reason and note for the same object is recorded once per
// window, so a hot requeue loop cannot flood the API server.
import { V1MicroTime } from '@kubernetes/client-node';
import { describeError } from './errors.js';
import type { KObject, Kube } from './kube.js';

export interface EventRecorderOptions {
  controller: string;
  instance: string;
  dedupeWindowMs?: number;
  log?: (msg: string, ctx?: Record<string, unknown>) => void;
}

export class EventRecorder {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly kube: Kube,
    private readonly o: EventRecorderOptions,
  ) {}

  async record(regarding: KObject, type: 'Normal' | 'Warning', reason: string, action: string, note: string): Promise<void> {
    const ns = regarding.metadata.namespace ?? 'default';
    const key = `${regarding.metadata.uid ?? regarding.metadata.name}|${type}|${reason}|${note}`;
    const now = Date.now();
    const window = this.o.dedupeWindowMs ?? 10 * 60_000;
    const last = this.recent.get(key);
    if (last !== undefined && now - last < window) return;
    this.recent.set(key, now);
    if (this.recent.size > 4096) for (const [k, t] of this.recent) if (now - t >= window) this.recent.delete(k);
    try {
      await this.kube.events.createNamespacedEvent({
        namespace: ns,
        body: {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: { generateName: `${regarding.metadata.name}.`, namespace: ns },
          eventTime: new V1MicroTime(now),
          reportingController: this.o.controller,
          reportingInstance: this.o.instance,
          action,
          reason,
          type,
          note: note.length > 1000 ? `${note.slice(0, 997)}...` : note,
          regarding: {
            apiVersion: regarding.apiVersion,
            kind: regarding.kind,
            name: regarding.metadata.name,
            namespace: regarding.metadata.namespace,
            uid: regarding.metadata.uid,
            resourceVersion: regarding.metadata.resourceVersion,
          },
        },
      });
    } catch (e) {
      this.recent.delete(key);
      this.o.log?.('could not record event', { reason, error: describeError(e) });
    }
  }
}
