// One active collector per bucket: every replica campaigns for a Lease (coordination.k8s.io/v1,
// the operator's LeaderElector: conditional writes on resourceVersion, expiry judged from when the
// record was last seen to change, a leader that cannot renew within renewDeadline steps down
// before its lease can expire). Only the holder opens the Collector, which rebuilds its state
// from the bucket (what a previous holder wrote included), and answers; the others answer 503 and
// are not Ready, so the Service routes to the holder. The collector being the only writer of the
// mutable objects (docs/fleet.md) rests on this.
import { KubeConfig } from '@kubernetes/client-node';
import { Kube } from '../operator/runtime/kube.js';
import { LeaderElector, type LeaderElectionOptions } from '../operator/runtime/leader.js';
import type { Collector } from './collector.js';

export interface ActiveCollectorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  lease: string;
  identity: string;
  /** Opens the Collector from the bucket; called each time this instance becomes the holder. */
  open: () => Promise<Collector>;
  timing?: Pick<LeaderElectionOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>;
  log?: (msg: string, ctx?: Record<string, unknown>) => void;
}

export class ActiveCollector {
  private collector: Collector | undefined;
  /** Bumped at every change of leadership, so a slow open() of an old term is discarded. */
  private term = 0;
  private readonly elector: LeaderElector;

  constructor(private readonly o: ActiveCollectorOptions) {
    this.elector = new LeaderElector(new Kube(o.kubeConfig), {
      namespace: o.namespace,
      name: o.lease,
      identity: o.identity,
      ...o.timing,
      // Not awaited: the elector must keep renewing while the bucket is read.
      onStartedLeading: () => void this.opened(++this.term),
      onStoppedLeading: () => {
        this.term++;
        this.collector = undefined;
        o.log?.('collector no longer active (lease lost or released)');
      },
      ...(o.log ? { log: o.log } : {}),
    });
  }

  /** The Collector while this instance holds the Lease and has opened it; else undefined. */
  get current(): Collector | undefined {
    return this.collector;
  }

  private async opened(term: number): Promise<void> {
    for (let attempt = 0; term === this.term; attempt++) {
      try {
        const c = await this.o.open();
        if (term !== this.term) return;
        this.collector = c;
        this.o.log?.('collector active', { lease: this.o.lease, identity: this.o.identity, writers: c.list().length });
        return;
      } catch (e) {
        this.o.log?.('collector could not open the bucket; retrying', { error: (e as Error).message, attempt });
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** attempt)));
      }
    }
  }

  start(): void {
    this.elector.start();
  }

  /** Stops answering, then releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.term++;
    this.collector = undefined;
    await this.elector.stop();
  }
}
