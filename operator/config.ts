// Operator configuration from flags and environment (flags win). The Helm chart sets the
// environment; every option is also a flag for running outside a cluster.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseVerifierKey, type VerifierKey } from '../kernel/crypto/keys.js';
import type { BundleTrust } from '../kernel/guardian/index.js';
import { parseDuration } from './runtime/duration.js';
import { OperatorError } from './runtime/errors.js';

export interface OperatorConfig {
  namespace: string;
  identity: string;
  kubeconfig: string | undefined;
  trustRootsFile: string;
  watchNamespace: string | undefined;
  leaderElection: boolean;
  leaderElectionId: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  metricsPort: number;
  allowHttpSources: boolean;
  sourceTimeoutMs: number;
  sourceMaxBytes: number;
  defaultRefreshMs: number;
  maxConcurrency: number;
  webhook: {
    enabled: boolean;
    port: number;
    certMode: 'self-managed' | 'files';
    certDir: string;
    serviceName: string;
    secretName: string;
    mutatingConfig: string;
    validatingConfig: string;
    sidecarMode: 'auto' | 'native' | 'container';
    failClosed: boolean;
    signingKeySecret: string | undefined;
  };
  /** Per-pod key certification (POST /v1/certify on the webhook server). */
  certify: {
    /** HELM_CERTIFY_ROOT_KEY_FILE: the root private key; unset = no certification endpoint. */
    rootKeyFile: string | undefined;
    /** HELM_CLUSTER_ORIGIN: the cluster part of every certified origin. */
    clusterOrigin: string;
  };
}

/** name → [environment variable, default]; the flag is --name. */
const OPTIONS = {
  namespace: ['POD_NAMESPACE', 'helm-system'],
  identity: ['POD_NAME', ''],
  kubeconfig: ['KUBECONFIG', ''],
  'trust-roots': ['HELM_TRUST_ROOTS_FILE', '/etc/helm/trust/roots.vkeys'],
  'watch-namespace': ['HELM_WATCH_NAMESPACE', ''],
  'leader-elect': ['HELM_LEADER_ELECT', 'true'],
  'leader-election-id': ['HELM_LEADER_ELECTION_ID', 'helm-operator-leader'],
  'lease-duration': ['HELM_LEASE_DURATION', '15s'],
  'renew-deadline': ['HELM_RENEW_DEADLINE', '10s'],
  'retry-period': ['HELM_RETRY_PERIOD', '2s'],
  'metrics-port': ['HELM_METRICS_PORT', '8080'],
  'allow-http-sources': ['HELM_ALLOW_HTTP_SOURCES', 'false'],
  'source-timeout': ['HELM_SOURCE_TIMEOUT', '10s'],
  'source-max-bytes': ['HELM_SOURCE_MAX_BYTES', String(4 * 1024 * 1024)],
  'default-refresh-interval': ['HELM_DEFAULT_REFRESH_INTERVAL', '5m'],
  'max-concurrent-reconciles': ['HELM_MAX_CONCURRENT_RECONCILES', '2'],
  webhook: ['HELM_WEBHOOK_ENABLED', 'true'],
  'webhook-port': ['HELM_WEBHOOK_PORT', '9443'],
  'webhook-cert-mode': ['HELM_WEBHOOK_CERT_MODE', 'self-managed'],
  'webhook-cert-dir': ['HELM_WEBHOOK_CERT_DIR', '/etc/helm/webhook-certs'],
  'webhook-service': ['HELM_WEBHOOK_SERVICE', 'helm-operator-webhook'],
  'webhook-secret': ['HELM_WEBHOOK_SECRET', 'helm-operator-webhook-tls'],
  'mutating-webhook-config': ['HELM_MUTATING_WEBHOOK_CONFIG', 'helm-operator-mutating'],
  'validating-webhook-config': ['HELM_VALIDATING_WEBHOOK_CONFIG', 'helm-operator-validating'],
  'sidecar-mode': ['HELM_SIDECAR_MODE', 'auto'],
  'fail-closed': ['HELM_FAIL_CLOSED', 'true'],
  'signing-key-secret': ['HELM_SIGNING_KEY_SECRET', ''],
  'certify-root-key-file': ['HELM_CERTIFY_ROOT_KEY_FILE', ''],
  'cluster-origin': ['HELM_CLUSTER_ORIGIN', 'helm/cluster'],
} as const;

type OptionName = keyof typeof OPTIONS;

function bool(name: string, v: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new OperatorError('ERR_CONFIG', `--${name} must be true or false (got ${JSON.stringify(v)})`, { option: name });
}

function int(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new OperatorError('ERR_CONFIG', `--${name} must be an integer in [${min}, ${max}] (got ${JSON.stringify(v)})`, { option: name });
  return n;
}

function duration(name: string, v: string): number {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new OperatorError('ERR_CONFIG', `--${name}: ${(e as Error).message}`, { option: name });
  }
}

export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): OperatorConfig {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !Object.hasOwn(OPTIONS, m[1]!)) throw new OperatorError('ERR_CONFIG', `unknown argument ${a}`, { argument: a });
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new OperatorError('ERR_CONFIG', `--${m[1]} needs a value`, { option: m[1] });
    given.set(m[1]!, value);
  }
  const get = (name: OptionName): string => given.get(name) ?? env[OPTIONS[name][0]] ?? OPTIONS[name][1];
  const certMode = get('webhook-cert-mode');
  if (certMode !== 'self-managed' && certMode !== 'files') throw new OperatorError('ERR_CONFIG', '--webhook-cert-mode must be self-managed or files', { option: 'webhook-cert-mode' });
  const sidecarMode = get('sidecar-mode');
  if (sidecarMode !== 'auto' && sidecarMode !== 'native' && sidecarMode !== 'container') throw new OperatorError('ERR_CONFIG', '--sidecar-mode must be auto, native or container', { option: 'sidecar-mode' });
  const cfg: OperatorConfig = {
    namespace: get('namespace'),
    identity: get('identity') || hostname(),
    kubeconfig: get('kubeconfig') || undefined,
    trustRootsFile: get('trust-roots'),
    watchNamespace: get('watch-namespace') || undefined,
    leaderElection: bool('leader-elect', get('leader-elect')),
    leaderElectionId: get('leader-election-id'),
    leaseDurationMs: duration('lease-duration', get('lease-duration')),
    renewDeadlineMs: duration('renew-deadline', get('renew-deadline')),
    retryPeriodMs: duration('retry-period', get('retry-period')),
    metricsPort: int('metrics-port', get('metrics-port'), 0, 65535),
    allowHttpSources: bool('allow-http-sources', get('allow-http-sources')),
    sourceTimeoutMs: duration('source-timeout', get('source-timeout')),
    sourceMaxBytes: int('source-max-bytes', get('source-max-bytes'), 1, 64 * 1024 * 1024),
    defaultRefreshMs: duration('default-refresh-interval', get('default-refresh-interval')),
    maxConcurrency: int('max-concurrent-reconciles', get('max-concurrent-reconciles'), 1, 64),
    webhook: {
      enabled: bool('webhook', get('webhook')),
      port: int('webhook-port', get('webhook-port'), 0, 65535),
      certMode,
      certDir: get('webhook-cert-dir'),
      serviceName: get('webhook-service'),
      secretName: get('webhook-secret'),
      mutatingConfig: get('mutating-webhook-config'),
      validatingConfig: get('validating-webhook-config'),
      sidecarMode,
      failClosed: bool('fail-closed', get('fail-closed')),
      signingKeySecret: get('signing-key-secret') || undefined,
    },
    certify: { rootKeyFile: get('certify-root-key-file') || undefined, clusterOrigin: get('cluster-origin') },
  };
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(cfg.certify.clusterOrigin)) {
    throw new OperatorError('ERR_CONFIG', `--cluster-origin ${JSON.stringify(cfg.certify.clusterOrigin)} must be path segments of letters, digits, '.', '_' or '-' separated by '/', e.g. helm/prod-eu1`, { option: 'cluster-origin' });
  }
  if (!(cfg.leaseDurationMs > cfg.renewDeadlineMs && cfg.renewDeadlineMs > cfg.retryPeriodMs)) {
    throw new OperatorError('ERR_CONFIG', 'leader election needs --lease-duration > --renew-deadline > --retry-period', {});
  }
  return cfg;
}

/**
 * Trust roots file: one signed-note verifier key per line; `revoke <name+keyid>` lines list
 * revoked key handles; blank lines and # comments are ignored. An empty root set is refused:
 * the operator would fail every bundle, which is a configuration error, not a policy.
 */
export function parseTrustRoots(text: string, source = 'trust roots'): BundleTrust & { roots: VerifierKey[] } {
  const roots: VerifierKey[] = [];
  const revoked: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const rev = /^revoke\s+(\S+)$/.exec(line);
    if (rev) {
      revoked.push(rev[1]!);
      continue;
    }
    try {
      roots.push(parseVerifierKey(line));
    } catch (e) {
      throw new OperatorError('ERR_TRUST_ROOTS', `${source} line ${i + 1}: ${(e as Error).message}`, { line: i + 1 });
    }
  }
  if (roots.length === 0) throw new OperatorError('ERR_TRUST_ROOTS', `${source} has no trust root`, { source });
  return { roots, revoked };
}

export function loadTrustRoots(path: string): BundleTrust {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OperatorError('ERR_TRUST_ROOTS', `cannot read trust roots ${path}: ${(e as Error).message}`, { path });
  }
  return parseTrustRoots(text, path);
}
