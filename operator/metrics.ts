// Operator metrics. One registry per process (not prom-client's global one) so tests and an
// embedding program never collide with other libraries' metrics. The Helm chart's dashboard and
// alert rules may only use names listed in OPERATOR_METRIC_NAMES: a test checks that.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const OPERATOR_METRIC_NAMES = {
  reconcileTotal: 'helm_operator_reconcile_total',
  reconcileDuration: 'helm_operator_reconcile_duration_seconds',
  workqueueDepth: 'helm_operator_workqueue_depth',
  workqueueRetries: 'helm_operator_workqueue_retries_total',
  leader: 'helm_operator_leader',
  watchRestarts: 'helm_operator_watch_restarts_total',
  bundlePhase: 'helm_operator_policybundle_phase',
  injectedPods: 'helm_operator_injected_pods',
  injectionsTotal: 'helm_operator_webhook_injections_total',
  webhookLatency: 'helm_operator_webhook_latency_seconds',
  webhookReady: 'helm_operator_webhook_ready',
} as const;

/**
 * prom-client's Node defaults that are gauges with a `_total` suffix: `promtool check metrics`
 * rejects them (a `_total` name promises a counter), so they are left out.
 */
const NON_COUNTER_TOTALS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export type ReconcileResult = 'success' | 'requeue' | 'error';

export interface OperatorMetrics {
  readonly registry: Registry;
  reconcile(kind: string, result: ReconcileResult, seconds: number): void;
  queueDepth(queue: string, depth: number): void;
  queueRetry(queue: string): void;
  leader(lease: string, identity: string, isLeader: boolean): void;
  watchRestart(resource: string, reason: string): void;
  bundlePhase(namespace: string, name: string, phase: string | null): void;
  injectedPods(namespace: string, name: string, count: number): void;
  /** 1 while this replica's admission webhook serves (the availability alert sums it). */
  webhookReady(ready: boolean): void;
}

export interface WebhookMetrics {
  injection(result: string, reason: string): void;
  latency(seconds: number, kind: 'mutate' | 'validate'): void;
}

const PHASES = ['Pending', 'Active', 'Failed', 'Superseded'] as const;

function build(): { ops: OperatorMetrics; webhook: WebhookMetrics } {
  const registry = new Registry();
  const n = OPERATOR_METRIC_NAMES;
  const reconcileTotal = new Counter({ name: n.reconcileTotal, help: 'Reconciles by kind and result', labelNames: ['kind', 'result'], registers: [registry] });
  const reconcileDuration = new Histogram({
    name: n.reconcileDuration, help: 'Reconcile duration by kind', labelNames: ['kind'], registers: [registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  const depth = new Gauge({ name: n.workqueueDepth, help: 'Keys waiting in the work queue (ready and delayed)', labelNames: ['queue'], registers: [registry] });
  const retries = new Counter({ name: n.workqueueRetries, help: 'Rate-limited requeues', labelNames: ['queue'], registers: [registry] });
  const leader = new Gauge({ name: n.leader, help: '1 while this replica holds the leader Lease', labelNames: ['lease', 'identity'], registers: [registry] });
  const watchRestarts = new Counter({ name: n.watchRestarts, help: 'List+watch restarts by resource and reason (error, gone, silent, closed)', labelNames: ['resource', 'reason'], registers: [registry] });
  const phase = new Gauge({ name: n.bundlePhase, help: 'PolicyBundle phase (1 for the current phase)', labelNames: ['namespace', 'name', 'phase'], registers: [registry] });
  const injected = new Gauge({ name: n.injectedPods, help: 'Running pods injected for a GuardianSidecar', labelNames: ['namespace', 'name'], registers: [registry] });
  const injections = new Counter({ name: n.injectionsTotal, help: 'Admission injections by result and reason', labelNames: ['result', 'reason'], registers: [registry] });
  const latency = new Histogram({
    name: n.webhookLatency, help: 'Admission webhook handling latency', labelNames: ['kind'], registers: [registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  });
  const webhookReady = new Gauge({ name: n.webhookReady, help: '1 while this replica serves the admission webhook', registers: [registry] });
  collectDefaultMetrics({ register: registry, prefix: 'helm_operator_' });
  for (const name of NON_COUNTER_TOTALS) registry.removeSingleMetric(`helm_operator_${name}`);

  const ops: OperatorMetrics = {
    registry,
    reconcile(kind, result, seconds) {
      reconcileTotal.inc({ kind, result });
      reconcileDuration.observe({ kind }, seconds);
    },
    queueDepth: (queue, d) => depth.set({ queue }, d),
    queueRetry: (queue) => retries.inc({ queue }),
    leader: (lease, identity, isLeader) => leader.set({ lease, identity }, isLeader ? 1 : 0),
    watchRestart: (resource, reason) => watchRestarts.inc({ resource, reason }),
    bundlePhase(namespace, name, current) {
      for (const p of PHASES) {
        if (current === null) phase.remove({ namespace, name, phase: p });
        else phase.set({ namespace, name, phase: p }, p === current ? 1 : 0);
      }
    },
    injectedPods(namespace, name, count) {
      if (count < 0) injected.remove({ namespace, name });
      else injected.set({ namespace, name }, count);
    },
    webhookReady: (ready) => webhookReady.set(ready ? 1 : 0),
  };
  const webhook: WebhookMetrics = {
    injection: (result, reason) => injections.inc({ result, reason }),
    latency: (seconds, kind) => latency.observe({ kind }, seconds),
  };
  return { ops, webhook };
}

let singleton: ReturnType<typeof build> | undefined;
function instance(): ReturnType<typeof build> {
  singleton ??= build();
  return singleton;
}

export function operatorMetrics(): OperatorMetrics {
  return instance().ops;
}

export function webhookMetrics(): WebhookMetrics {
  return instance().webhook;
}

export function metricsRegistry(): Registry {
  return instance().ops.registry;
}
