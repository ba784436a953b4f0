// spec.shipping of a (Cluster)GuardianSidecar: the Shipping status condition (from the
// operator-managed collector's state) and the sidecar environment the webhook injects
// (sidecar/ship/attach.ts reads it). The S3 credentials come from a Secret in the pod's namespace
// through secretKeyRef on the sidecar container only: app containers never see them.
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { CollectorState } from './collector-manager.js';
import { collectorUrl, type CollectorSettings } from './collector-settings.js';

export interface ShippingSpec {
  enabled: boolean;
  highWaterBytes?: number;
  intervalMs?: number;
  retention?: 'keep' | 'free-closed' | 'free-cosigned';
}

export function shippingSpec(spec: unknown): ShippingSpec | undefined {
  const s = (spec as { shipping?: unknown } | undefined)?.shipping;
  if (typeof s !== 'object' || s === null) return undefined;
  const o = s as Record<string, unknown>;
  const out: ShippingSpec = { enabled: o.enabled === true };
  if (typeof o.highWaterBytes === 'number') out.highWaterBytes = o.highWaterBytes;
  if (typeof o.intervalMs === 'number') out.intervalMs = o.intervalMs;
  if (o.retention === 'keep' || o.retention === 'free-closed' || o.retention === 'free-cosigned') out.retention = o.retention;
  return out;
}

export interface ShippingCondition {
  type: 'Shipping';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** Ship lag past which the condition turns False (ShipLagging): 5 minutes, or ten shipping intervals. */
export function lagLimitMs(spec: ShippingSpec): number {
  return Math.max(300_000, 10 * (spec.intervalMs ?? 5_000));
}

/**
 * The ship lag of the open writers in `namespace` (every namespace for a cluster-scoped sidecar):
 * the longest time since a writer's last cosignature, or since the collector first saw it. Within
 * the limit the message carries no running time (the operator re-evaluates every round, and a
 * message that changed each time would re-patch every shipping GuardianSidecar's status for
 * nothing); past it, the lagging writer and its lag in whole minutes.
 */
function shipLag(state: CollectorState, spec: ShippingSpec, o: { namespace?: string; nowMs: number }): { ok: boolean; text: string } {
  if (!state.writers) return { ok: true, text: `ship lag unknown (${state.writersError ?? 'writers not read yet'})` };
  const open = state.writers.filter((w) => w.status === 'open' && (o.namespace === undefined || w.namespace === o.namespace));
  const where = o.namespace === undefined ? 'in the cluster' : `in namespace ${o.namespace}`;
  if (open.length === 0) return { ok: true, text: `no open writers ${where}` };
  const never = open.filter((w) => w.cosignedAt === null);
  const oldest = open.filter((w) => w.cosignedAt !== null).sort((a, b) => a.cosignedAt! - b.cosignedAt!)[0];
  const lagMs = oldest ? Math.max(0, o.nowMs - oldest.cosignedAt!) : 0;
  const limit = lagLimitMs(spec);
  const parts = [`${open.length} open writer${open.length === 1 ? '' : 's'} ${where}`];
  const limitText = `${Math.round(limit / 1000)} s`;
  if (lagMs > limit) parts.push(`longest since a cosignature ${Math.floor(lagMs / 60_000)} min (${oldest!.origin})`);
  else if (oldest) parts.push(`each cosigned within the ${limitText} limit`);
  if (never.length > 0) parts.push(`${never.length} not cosigned yet`);
  return lagMs > limit ? { ok: false, text: `${parts.join(', ')}; over the ${limitText} limit` } : { ok: true, text: parts.join(', ') };
}

/** undefined when shipping is off (no condition is written). */
export function shippingCondition(
  spec: unknown,
  collector: { settings: CollectorSettings; state: CollectorState | undefined } | undefined,
  o: { namespace?: string; nowMs: number } = { nowMs: Date.now() },
): ShippingCondition | undefined {
  const ship = shippingSpec(spec);
  if (!ship?.enabled) return undefined;
  const c = (status: 'True' | 'False', reason: string, message: string): ShippingCondition => ({ type: 'Shipping', status, reason, message });
  if (!collector) return c('False', 'CollectorNotConfigured', 'spec.shipping.enabled but the operator runs without a collector: set the chart value collector.enabled (docs/fleet.md)');
  const { settings: s, state } = collector;
  const where = `collector ${s.namespace}/${s.name} (bucket ${s.bucket})`;
  if (!state) return c('False', 'CollectorPending', `${where}: not reconciled yet`);
  if (state.error) return c('False', 'CollectorApplyFailed', `${where}: ${state.error}`);
  if (state.availableReplicas < 1) return c('False', 'CollectorUnavailable', `${where}: 0 of ${state.replicas} replicas available`);
  if (!state.activeInstance) return c('False', 'CollectorNoLeader', `${where}: ${state.availableReplicas} of ${state.replicas} replicas available, none holds Lease ${s.name}`);
  const active = `${where}: ${state.availableReplicas} of ${state.replicas} replicas available, active instance ${state.activeInstance}`;
  const lag = shipLag(state, ship, o);
  return lag.ok ? c('True', 'CollectorActive', `${active}; ${lag.text}`) : c('False', 'ShipLagging', `${active}; ${lag.text}`);
}

/** Sidecar environment for shipping; [] when off. Throws (the pod is refused) when on without a collector. */
export function shippingEnv(spec: ShippingSpec | undefined, collector: CollectorSettings | undefined): IEnvVar[] {
  if (!spec?.enabled) return [];
  if (!collector) throw new Error('ERR_SHIP_CONFIG: the GuardianSidecar sets spec.shipping.enabled but the operator runs without a collector (chart value collector.enabled)');
  const secret = (name: string) => ({ name, valueFrom: { secretKeyRef: { name: collector.writerCredentialsSecret, key: name } } });
  const env: IEnvVar[] = [
    { name: 'HELM_SHIP', value: 'on' },
    { name: 'HELM_COLLECTOR_URL', value: collectorUrl(collector) },
    // Only cosignatures by this key count: nothing answering on the URL can make a sidecar free data.
    { name: 'HELM_COLLECTOR_VKEY', value: collector.verifierKey },
    { name: 'HELM_FLEET_BUCKET', value: collector.bucket },
    { name: 'HELM_FLEET_STAGING_BUCKET', value: collector.stagingBucket },
    { name: 'AWS_ENDPOINT_URL', value: collector.endpoint },
    { name: 'AWS_REGION', value: collector.region },
    secret('AWS_ACCESS_KEY_ID'),
    secret('AWS_SECRET_ACCESS_KEY'),
    { name: 'HELM_SHIP_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
  ];
  if (spec.highWaterBytes !== undefined) env.push({ name: 'HELM_SHIP_HIGH_WATER_BYTES', value: String(spec.highWaterBytes) });
  if (spec.intervalMs !== undefined) env.push({ name: 'HELM_SHIP_INTERVAL_MS', value: String(spec.intervalMs) });
  // Injected sidecars run with certified identity, which free-closed needs (free-cosigned frees closed boots too).
  if (spec.retention !== undefined) env.push({ name: 'HELM_SHIP_RETENTION', value: spec.retention });
  return env;
}
