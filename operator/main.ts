// The operator process: configuration, caches and controllers (leader-elected), the admission
// webhook (on every replica, served from the caches), metrics and probes, graceful shutdown.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { informerLookup, secretClient, webhookConfigClient } from './cluster.js';
import { loadTrustRoots, parseConfig, type OperatorConfig } from './config.js';
import { serveMetrics } from './http.js';
import { metricsRegistry, operatorMetrics } from './metrics.js';
import { Operator, type Logger } from './operator.js';
import { describeError } from './runtime/errors.js';
import { certifyRootFrom, certifyUrl, DEFAULT_CLUSTER_ORIGIN, injectorConfig, startWebhook, type RunningWebhook } from './webhook/index.js';

export interface RunningOperator {
  operator: Operator;
  metricsPort: number;
  webhook: RunningWebhook | undefined;
  stop(): Promise<void>;
}

export function jsonLogger(write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  return (msg, ctx = {}) => write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...ctx })}\n`);
}

function kubeConfigFor(cfg: OperatorConfig): KubeConfig {
  const kc = new KubeConfig();
  if (cfg.kubeconfig) kc.loadFromFile(cfg.kubeconfig);
  else kc.loadFromDefault();
  return kc;
}

export async function runOperator(cfg: OperatorConfig, log: Logger = jsonLogger()): Promise<RunningOperator> {
  const trust = loadTrustRoots(cfg.trustRootsFile);
  const kubeConfig = kubeConfigFor(cfg);
  const operator = new Operator({
    kubeConfig,
    namespace: cfg.namespace,
    identity: cfg.identity,
    trust,
    ...(cfg.watchNamespace ? { watchNamespace: cfg.watchNamespace } : {}),
    leaderElection: cfg.leaderElection ? { leaseName: cfg.leaderElectionId, leaseDurationMs: cfg.leaseDurationMs, renewDeadlineMs: cfg.renewDeadlineMs, retryPeriodMs: cfg.retryPeriodMs } : false,
    source: { allowHttp: cfg.allowHttpSources, timeoutMs: cfg.sourceTimeoutMs, maxBytes: cfg.sourceMaxBytes },
    defaultRefreshMs: cfg.defaultRefreshMs,
    queue: { maxConcurrency: cfg.maxConcurrency },
    metrics: operatorMetrics(),
    log,
  });
  let synced = false;
  let webhook: RunningWebhook | undefined;
  const metrics = await serveMetrics(cfg.metricsPort, metricsRegistry(), { ready: () => synced && (!cfg.webhook.enabled || webhook !== undefined) });
  log('starting', { identity: cfg.identity, namespace: cfg.namespace, roots: trust.roots.map((r) => r.handle), metricsPort: metrics.port });
  await operator.start();
  synced = true;
  if (cfg.webhook.enabled) {
    // auto is resolved at each admission from the nodes' kubelet versions (webhook/resolve.ts).
    const sidecarMode = cfg.webhook.sidecarMode;
    const kube = operator.kube;
    // Certified identity (BRIEF contract). Read from the environment here until operator/config.ts
    // carries these options: HELM_CLUSTER_ORIGIN, HELM_CERTIFY_ROOT_KEY_FILE (or HELM_CERTIFY_ROOT),
    // HELM_WEBHOOK_SERVICE_PORT (the Service port sidecars dial, default 443).
    const rootVkey = certifyRootFrom(process.env);
    const servicePort = Number(process.env.HELM_WEBHOOK_SERVICE_PORT ?? '443');
    const certify = rootVkey
      ? { clusterOrigin: process.env.HELM_CLUSTER_ORIGIN || DEFAULT_CLUSTER_ORIGIN, url: certifyUrl(cfg.webhook.serviceName, cfg.namespace, servicePort), rootVkey }
      : undefined;
    if (!certify) log('certification root not configured: opted-in pods are refused', { option: 'HELM_CERTIFY_ROOT_KEY_FILE' });
    webhook = await startWebhook({
      ...(certify ? { certify } : {}),
      port: cfg.webhook.port,
      config: injectorConfig(cfg.namespace, {
        sidecarMode,
        failClosed: cfg.webhook.failClosed,
        bundleTrustRoots: trust.roots.map((r) => r.vkey),
        ...(cfg.webhook.signingKeySecret ? { signingKeySecret: cfg.webhook.signingKeySecret } : {}),
      }),
      lookup: informerLookup(operator),
      certs:
        cfg.webhook.certMode === 'files'
          ? { mode: 'files', dir: cfg.webhook.certDir }
          : {
              mode: 'self-managed',
              serviceName: cfg.webhook.serviceName,
              namespace: cfg.namespace,
              secretName: cfg.webhook.secretName,
              secrets: secretClient(kube),
              webhookConfigs: webhookConfigClient(kube),
              targets: [
                { kind: 'MutatingWebhookConfiguration', name: cfg.webhook.mutatingConfig },
                { kind: 'ValidatingWebhookConfiguration', name: cfg.webhook.validatingConfig },
              ],
            },
      log: (event) => log('webhook', event),
    });
    log('webhook serving', { port: webhook.port, sidecarMode });
  }
  return {
    operator,
    metricsPort: metrics.port,
    webhook,
    async stop() {
      synced = false;
      await webhook?.close();
      await operator.stop();
      await new Promise<void>((resolve) => metrics.server.close(() => resolve()));
      log('stopped');
    },
  };
}

export async function main(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const log = jsonLogger();
  let running: RunningOperator;
  try {
    running = await runOperator(parseConfig(argv, env), log);
  } catch (e) {
    log('fatal', { error: describeError(e), code: (e as { code?: unknown }).code });
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log('shutting down', { signal });
    running.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log('shutdown failed', { error: describeError(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

const entry = process.argv[1];
if (entry && realpathSync(entry) === fileURLToPath(import.meta.url)) void main();
