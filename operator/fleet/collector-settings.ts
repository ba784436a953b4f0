// The operator-managed fleet collector's settings, from the operator's environment (the chart's
// collector.* values, docs/fleet.md §Operator-managed collector). Absent HELM_COLLECTOR_ENABLED
// there is no collector, and GuardianSidecars with shipping.enabled report Shipping=False.
import { parseVerifierKey } from '../../kernel/crypto/keys.js';

export interface CollectorSettings {
  /** Deployment, Service and Lease name, in the operator's namespace. */
  name: string;
  namespace: string;
  image: string;
  replicas: number;
  port: number;
  /** Locked bucket and its unlocked staging bucket (docs/fleet.md §Object storage). */
  bucket: string;
  stagingBucket: string;
  endpoint: string;
  region: string;
  /** Secret (operator namespace) with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: collector only. */
  credentialsSecret: string;
  /** Secret (operator namespace) with fleet.key and collector.key: mounted into the collector only. */
  keysSecret: string;
  /** Secret in each governed namespace with the writers' (prefix-scoped) S3 credentials: sidecar container only. */
  writerCredentialsSecret: string;
  serviceAccount: string;
  /** The collector's cosignature verifier key (public half of collector.key): sidecars trust only its cosignatures. */
  verifierKey: string;
  /** Root vkey certifying writer log keys (the operator's certification root). */
  trustRoot: string;
  /** Re-apply and re-read period. */
  resyncMs: number;
  /** Where the operator and the sidecars reach the collector (default its Service's cluster DNS name). */
  url?: string;
}

export class CollectorConfigError extends Error {
  readonly code = 'ERR_COLLECTOR_CONFIG';
}

export function collectorSettingsFromEnv(env: Readonly<Record<string, string | undefined>>, namespace: string, trustRoot: string | undefined): CollectorSettings | undefined {
  if (env.HELM_COLLECTOR_ENABLED !== 'true') return undefined;
  const need = (k: string): string => {
    const v = env[k]?.trim();
    if (!v) throw new CollectorConfigError(`HELM_COLLECTOR_ENABLED=true needs ${k} (chart value collector.*, docs/fleet.md)`);
    return v;
  };
  const int = (k: string, dflt: number, min: number): number => {
    const v = env[k];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new CollectorConfigError(`${k}=${v} must be an integer >= ${min}`);
    return n;
  };
  if (!trustRoot) throw new CollectorConfigError('the collector needs the certification root (HELM_CERTIFY_ROOT or HELM_CERTIFY_ROOT_KEY_FILE): it accepts only writer keys certified by it');
  const name = env.HELM_COLLECTOR_NAME?.trim() || 'helm-collector';
  const bucket = need('HELM_COLLECTOR_BUCKET');
  return {
    name,
    namespace,
    image: need('HELM_COLLECTOR_IMAGE'),
    replicas: int('HELM_COLLECTOR_REPLICAS', 2, 1),
    port: int('HELM_COLLECTOR_PORT', 8090, 1),
    bucket,
    stagingBucket: env.HELM_COLLECTOR_STAGING_BUCKET?.trim() || `${bucket}-staging`,
    endpoint: need('HELM_COLLECTOR_ENDPOINT'),
    region: env.HELM_COLLECTOR_REGION?.trim() || 'us-east-1',
    credentialsSecret: need('HELM_COLLECTOR_CREDENTIALS_SECRET'),
    keysSecret: need('HELM_COLLECTOR_KEYS_SECRET'),
    writerCredentialsSecret: need('HELM_COLLECTOR_WRITER_CREDENTIALS_SECRET'),
    verifierKey: collectorVerifierKey(need('HELM_COLLECTOR_VKEY')),
    serviceAccount: env.HELM_COLLECTOR_SERVICE_ACCOUNT?.trim() || name,
    trustRoot,
    resyncMs: int('HELM_COLLECTOR_RESYNC_MS', 30_000, 100),
  };
}

/** The collector's cosignature vkey, checked here so a typo is an operator start error, not a fleet of failing sidecars. */
function collectorVerifierKey(v: string): string {
  try {
    return parseVerifierKey(v).vkey;
  } catch (e) {
    throw new CollectorConfigError(`HELM_COLLECTOR_VKEY (chart value collector.verifierKey, the verifier key of collector.key: helmctl keygen prints it) is not a verifier key: ${(e as Error).message}`);
  }
}

/** The in-cluster URL injected sidecars ship to. */
export function collectorUrl(s: CollectorSettings): string {
  return s.url ?? `http://${s.name}.${s.namespace}.svc:${s.port}`;
}
