// The webhook as operator/main.ts starts it: the HTTPS server plus the certificate source
// (self-managed PKI, or cert-manager's mounted files).
import { webhookMetrics } from '../metrics.js';
import type { CertifyRoute } from '../certify/route.js';
import type { CertifyContext } from './certify-context.js';
import type { InjectorConfig } from './config.js';
import type { ClusterLookup } from './lookup.js';
import type { WebhookMetricsSink } from './handlers.js';
import { WebhookServer, type ServingCertificate } from './server.js';
import type { CaBundleTarget } from './tls/ca-bundle.js';
import type { SecretClient, WebhookConfigClient } from './tls/clients.js';
import { FileCertSource } from './tls/file-source.js';
import { CertRotator, type RotationReport } from './tls/rotation.js';

export type CertMode =
  | {
      mode: 'self-managed';
      /** Service the API server calls: certificates are issued for <serviceName>.<namespace>.svc. */
      serviceName: string;
      namespace: string;
      secretName: string;
      secrets: SecretClient;
      webhookConfigs: WebhookConfigClient;
      /** The chart's Mutating/ValidatingWebhookConfiguration names. */
      targets: CaBundleTarget[];
      caLifetimeMs?: number;
      servingLifetimeMs?: number;
      renewBeforeFraction?: number;
      checkIntervalMs?: number;
      clock?: () => Date;
    }
  | { mode: 'files'; dir: string; pollIntervalMs?: number };

export interface StartWebhookOptions {
  port: number;
  host?: string;
  config: InjectorConfig;
  lookup: ClusterLookup;
  certs: CertMode;
  /**
   * Certified identity for injected sidecars; the CA bundle is the one the webhook serves with.
   * Absent: pods that opt in are refused (no sidecar could certify its keys).
   */
  certify?: Omit<CertifyContext, 'caBundle'>;
  metrics?: WebhookMetricsSink;
  log?: (event: Record<string, unknown>) => void;
  /** POST /v1/certify (operator/certify): served when the operator holds the certification root key. */
  certifyRoute?: CertifyRoute;
}

export interface RunningWebhook {
  port: number;
  server: WebhookServer;
  /** Self-managed mode: run a certificate check now (it also runs on its interval). */
  checkCertificates(): Promise<RotationReport | string>;
  close(): Promise<void>;
}

export async function startWebhook(opts: StartWebhookOptions): Promise<RunningWebhook> {
  let caBundle: string | undefined;
  const certify = opts.certify;
  const deps = {
    config: opts.config,
    lookup: opts.lookup,
    certify: () => (certify && caBundle ? { ...certify, caBundle } : undefined),
    metrics: opts.metrics ?? webhookMetrics(),
    ...(opts.log ? { log: opts.log } : {}),
  };
  const server = new WebhookServer({ port: opts.port, ...(opts.host ? { host: opts.host } : {}), deps, ...(opts.certifyRoute ? { certify: opts.certifyRoute } : {}) });
  let first: ServingCertificate | undefined;
  let started = false;
  const deliver = (m: ServingCertificate) => {
    if (m.ca) caBundle = m.ca;
    if (started) server.setCertificate(m);
    else first = m;
  };
  const log = opts.log ? { log: opts.log } : {};
  const c = opts.certs;
  let check: () => Promise<RotationReport | string>;
  let stop: () => void;
  if (c.mode === 'self-managed') {
    const rotator = new CertRotator({
      namespace: c.namespace,
      secretName: c.secretName,
      serviceName: c.serviceName,
      secrets: c.secrets,
      webhookConfigs: c.webhookConfigs,
      targets: c.targets,
      ...(c.clock ? { clock: c.clock } : {}),
      ...(c.caLifetimeMs ? { caLifetimeMs: c.caLifetimeMs } : {}),
      ...(c.servingLifetimeMs ? { servingLifetimeMs: c.servingLifetimeMs } : {}),
      ...(c.renewBeforeFraction ? { renewBeforeFraction: c.renewBeforeFraction } : {}),
      onServingCertificate: deliver,
      ...log,
    });
    await rotator.ensure();
    rotator.start(c.checkIntervalMs ?? 60_000);
    check = () => rotator.ensure();
    stop = () => rotator.stop();
  } else {
    const source = new FileCertSource({ dir: c.dir, onServingCertificate: deliver, ...log });
    await source.load();
    source.start(c.pollIntervalMs ?? 10_000);
    check = () => source.load();
    stop = () => source.stop();
  }
  // start() creates the server synchronously, so a rotation from here on reaches it.
  started = true;
  const port = await server.start(first!);
  return {
    port,
    server,
    checkCertificates: check,
    close: async () => {
      stop();
      await server.close();
    },
  };
}

export { injectorConfig, sidecarModeFor, sidecarModeForNodes, DEFAULT_INJECTOR_CONFIG, type InjectorConfig, type SidecarMode, type SidecarModeSetting } from './config.js';
export { certifyRootFrom, certifyUrl, DEFAULT_CLUSTER_ORIGIN, type CertifyContext } from './certify-context.js';
export { MUTATING_MATCH_CONDITIONS, VALIDATING_MATCH_CONDITIONS, type MatchCondition } from './match-conditions.js';
export { mapLookup, type ClusterLookup, type LookupState } from './lookup.js';
export { injectedByWebhook } from './injected.js';
export { needsInjection } from './needs-injection.js';
export { injectionPatch, reinvocationPatch } from './patch/index.js';
export { WebhookServer, type ServingCertificate } from './server.js';
export { CertRotator } from './tls/rotation.js';
export { ensureCaBundle, type CaBundleTarget } from './tls/ca-bundle.js';
export { ApiStatusError, type SecretClient, type WebhookConfigClient, type WebhookConfigKind } from './tls/clients.js';
