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
import type { CollectorSettings } from './collector-settings.js';

export interface CollectorState {
  /** Deployment and Service applied at the last round. */
  applied: boolean;
  error?: string;
  replicas: number;
  availableReplicas: number;
  /** Holder of the collector Lease while it is unexpired (by its renewTime), else undefined. */
  activeInstance?: string;
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
    } catch (e) {
      next.error = apiStatus(e)?.message ?? describeError(e);
      this.o.log?.('collector reconcile failed', { error: next.error });
    }
    if (!isDeepStrictEqual(next, this.state)) {
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
