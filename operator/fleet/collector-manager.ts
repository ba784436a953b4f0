// Keeps the collector deployed while this operator leads: applies its Deployment and Service
// (server-side apply, our field manager) every resyncMs, reads back the Deployment status and the
// collector's Lease, and tells the GuardianSidecar controller when that state changes, so
// sidecars with shipping.enabled carry a Shipping condition (operator/fleet/shipping.ts).
import { AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import { FIELD_MANAGER } from '../api/v1alpha1.js';
import { apiStatus, describeError, isNotFound } from '../runtime/errors.js';
import type { Kube } from '../runtime/kube.js';
import { collectorDeployment, collectorService } from './collector-objects.js';
import { collectorUrl, type CollectorSettings } from './collector-settings.js';

export interface CollectorState {
  /** Deployment and Service applied at the last round. */
  applied: boolean;
  error?: string;
  replicas: number;
  availableReplicas: number;
  /** Holder of the collector Lease while it is unexpired (by its renewTime), else undefined. */
  activeInstance?: string;
  /** The collector's writers (GET /writers of the active instance): what ship lag is judged from. */
  writers?: WriterView[];
  /** Why the writers could not be read (the lag is then unknown). */
  writersError?: string;
}

export interface WriterView {
  origin: string;
  namespace: string;
  status: string;
  /** ms of the last cosignature, null before the first. */
  cosignedAt: number | null;
}

/** GET <collector>/writers, bounded in time and size. */
async function readWriters(url: string): Promise<WriterView[]> {
  const res = await fetch(`${url}/writers`, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`GET ${url}/writers answered ${res.status}`);
  const text = await res.text();
  if (text.length > 8 << 20) throw new Error(`GET ${url}/writers answered more than 8 MiB`);
  const list: unknown = JSON.parse(text);
  if (!Array.isArray(list)) throw new Error(`GET ${url}/writers did not answer a JSON list`);
  return list
    .filter((w): w is Record<string, unknown> => typeof w === 'object' && w !== null && typeof w.origin === 'string' && typeof w.namespace === 'string')
    .map((w) => ({ origin: w.origin as string, namespace: w.namespace as string, status: String(w.status), cosignedAt: typeof w.cosignedAt === 'number' ? w.cosignedAt : null }));
}

export class CollectorManager {
  private state: CollectorState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private readonly apps: AppsV1Api;

  constructor(
    private readonly kube: Kube,
    readonly settings: CollectorSettings,
    private readonly o: { onChange: () => void; now?: () => number; log?: (msg: string, ctx?: Record<string, unknown>) => void },
  ) {
    this.apps = kube.config.makeApiClient(AppsV1Api);
  }

  get current(): CollectorState | undefined {
    return this.state;
  }

  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      this.round = this.reconcile().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.settings.resyncMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** One round: apply, then observe. Never throws; failures become the state's error. */
  async reconcile(): Promise<void> {
    const s = this.settings;
    const next: CollectorState = { applied: false, replicas: s.replicas, availableReplicas: 0 };
    try {
      const opts = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
      const common = { namespace: s.namespace, fieldManager: FIELD_MANAGER, force: true };
      const dep = (await this.apps.patchNamespacedDeployment({ ...common, name: s.name, body: collectorDeployment(s) }, opts)) as { status?: { availableReplicas?: number } };
      await this.kube.core.patchNamespacedService({ ...common, name: s.name, body: collectorService(s) }, opts);
      next.applied = true;
      next.availableReplicas = dep.status?.availableReplicas ?? 0;
      next.activeInstance = await this.activeInstance();
      if (next.activeInstance) {
        try {
          next.writers = await readWriters(collectorUrl(s));
        } catch (e) {
          next.writersError = describeError(e);
        }
      }
    } catch (e) {
      next.error = apiStatus(e)?.message ?? describeError(e);
      this.o.log?.('collector reconcile failed', { error: next.error });
    }
    // With writers read, every round re-judges the lag (it grows while nothing changes).
    if (!isDeepStrictEqual(next, this.state) || next.writers !== undefined) {
      this.state = next;
      this.o.onChange();
    }
  }

  /** The Lease holder, if its renewTime + leaseDurationSeconds is still ahead of now. */
  private async activeInstance(): Promise<string | undefined> {
    try {
      const lease = await this.kube.coordination.readNamespacedLease({ namespace: this.settings.namespace, name: this.settings.name });
      const holder = lease.spec?.holderIdentity;
      const renew = lease.spec?.renewTime ? new Date(String(lease.spec.renewTime)).getTime() : NaN;
      const until = renew + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
      return holder && until > (this.o.now ?? Date.now)() ? holder : undefined;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}
