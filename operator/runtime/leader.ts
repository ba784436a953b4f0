// Lease-based leader election (coordination.k8s.io/v1), the algorithm of client-go's
// leaderelection: expiry is judged against the local time at which we last saw the Lease record
// change, never against the holder's clock; every write is conditional on resourceVersion, so two
// candidates can never both win; a leader that cannot renew within renewDeadline steps down; a
// leader that stops releases the Lease so a standby takes over at once.
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { OperatorMetrics } from '../metrics.js';
import { apiStatus, describeError, isAlreadyExists, isConflict, isNotFound } from './errors.js';
import type { Kube } from './kube.js';
import { sleep } from './sleep.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void | Promise<void>;
  onStoppedLeading: () => void | Promise<void>;
  metrics?: OperatorMetrics;
  log?: (msg: string, ctx?: Record<string, unknown>) => void;
}

interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private observed: { record: string; at: number } | undefined;
  private lastRenew = 0;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly kube: Kube,
    private readonly o: LeaderElectionOptions,
  ) {
    this.leaseMs = o.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryMs = o.retryPeriodMs ?? 2_000;
    if (!(this.leaseMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryMs)) {
      throw new Error(`leader election needs leaseDuration > renewDeadline > retryPeriod (got ${this.leaseMs}, ${this.renewDeadlineMs}, ${this.retryMs})`);
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a leader steps down (onStoppedLeading) and releases the Lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
    if (this.leading) {
      this.leading = false;
      this.report();
      await this.o.onStoppedLeading();
      await this.release();
    }
  }

  private log(msg: string, ctx: Record<string, unknown> = {}): void {
    this.o.log?.(msg, { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity, ...ctx });
  }

  private report(): void {
    this.o.metrics?.leader(`${this.o.namespace}/${this.o.name}`, this.o.identity, this.leading);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (e) {
        this.log('lease update failed', { error: describeError(e) });
      }
      if (this.stopped) break;
      const now = Date.now();
      if (ok) {
        this.lastRenew = now;
        if (!this.leading) {
          this.leading = true;
          this.report();
          this.log('became leader');
          await this.o.onStartedLeading();
        }
      } else if (this.leading && now - this.lastRenew > this.renewDeadlineMs) {
        this.leading = false;
        this.report();
        this.log('lost leadership: could not renew within the deadline');
        await this.o.onStoppedLeading();
      }
      await sleep(this.leading ? this.retryMs : Math.round(this.retryMs * (1 + Math.random() * 0.2)), this.abort.signal);
    }
  }

  private now(): V1MicroTime {
    return new V1MicroTime(Date.now());
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.o;
    const durationSeconds = Math.max(1, Math.ceil(this.leaseMs / 1000));
    let lease: V1Lease;
    try {
      lease = await this.kube.coordination.readNamespacedLease({ namespace, name });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      const now = this.now();
      try {
        await this.kube.coordination.createNamespacedLease({
          namespace,
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } },
        });
      } catch (ce) {
        if (isAlreadyExists(ce) || isConflict(ce)) return false;
        throw ce;
      }
      return true;
    }
    const spec = lease.spec ?? {};
    const record: LeaseRecord = {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? durationSeconds,
      acquireTime: String(spec.acquireTime ?? ''),
      renewTime: String(spec.renewTime ?? ''),
      leaseTransitions: spec.leaseTransitions ?? 0,
    };
    const text = JSON.stringify(record);
    const localNow = Date.now();
    if (!this.observed || this.observed.record !== text) this.observed = { record: text, at: localNow };
    const heldByOther = record.holderIdentity !== '' && record.holderIdentity !== identity;
    if (heldByOther && this.observed.at + record.leaseDurationSeconds * 1000 > localNow) return false;
    const now = this.now();
    const mine = record.holderIdentity === identity;
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: mine && spec.acquireTime ? new V1MicroTime(String(spec.acquireTime)) : now,
        renewTime: now,
        leaseTransitions: mine ? record.leaseTransitions : record.leaseTransitions + 1,
      },
    };
    try {
      await this.kube.coordination.replaceNamespacedLease({ namespace, name, body });
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
    return true;
  }

  /** Hands the Lease back (empty holder, 1 s duration) so a standby need not wait for expiry. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.o;
    try {
      const lease = await this.kube.coordination.readNamespacedLease({ namespace, name });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = this.now();
      await this.kube.coordination.replaceNamespacedLease({
        namespace,
        name,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion },
          spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec?.leaseTransitions ?? 0 },
        },
      });
      this.log('released the lease');
    } catch (e) {
      this.log('could not release the lease', { error: describeError(e), status: apiStatus(e)?.code });
    }
  }
}
