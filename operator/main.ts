// The operator process: configuration, caches and controllers (leader-elected), the admission
// webhook (on every replica, served from the caches), metrics and probes, graceful shutdown.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { informerLookup, secretClient, webhookConfigClient } from './cluster.js';
import { kubeCertifyDeps, loadCertifyRoot } from './certify/kube.js';
import { certifyRoute } from './certify/route.js';
import { nodeSuite } from '../kernel/crypto/node.js';
import { loadTrustRoots, parseConfig, type OperatorConfig } from './config.js';
import { serveMetrics } from './http.js';
import { metricsRegistry, operatorMetrics } from './metrics.js';
import { Operator, type Logger } from './operator.js';
import { collectorSettingsFromEnv } from './fleet/collector-settings.js';
import { describeError } from './runtime/errors.js';
import { certifyRootFrom, certifyUrl, injectorConfig, startWebhook, type RunningWebhook } from './webhook/index.js';

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
  const ops = operatorMetrics();
  ops.webhookReady(false);
  const kubeConfig = kubeConfigFor(cfg);
  // The fleet collector (chart value collector.enabled): deployed and watched by the leader.
  const collector = collectorSettingsFromEnv(process.env, cfg.namespace, certifyRootFrom({ HELM_CERTIFY_ROOT: process.env.HELM_CERTIFY_ROOT, HELM_CERTIFY_ROOT_KEY_FILE: cfg.certify.rootKeyFile }));
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
    metrics: ops,
    log,
    ...(collector ? { collector } : {}),
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
    // Certified identity: what the injector tells each sidecar (the root vkey from
    // HELM_CERTIFY_ROOT, or derived from the root key file the /v1/certify endpoint signs with).
    const rootVkey = certifyRootFrom({ HELM_CERTIFY_ROOT: process.env.HELM_CERTIFY_ROOT, HELM_CERTIFY_ROOT_KEY_FILE: cfg.certify.rootKeyFile });
    const servicePort = Number(process.env.HELM_WEBHOOK_SERVICE_PORT ?? '443');
    const certify = rootVkey
      ? { clusterOrigin: cfg.certify.clusterOrigin, url: certifyUrl(cfg.webhook.serviceName, cfg.namespace, servicePort), rootVkey }
      : undefined;
    if (!certify) log('certification root not configured: opted-in pods are refused', { option: 'HELM_CERTIFY_ROOT_KEY_FILE' });
    webhook = await startWebhook({
      ...(certify ? { certify } : {}),
      port: cfg.webhook.port,
      config: injectorConfig(cfg.namespace, {
        sidecarMode,
        failClosed: cfg.webhook.failClosed,
        bundleTrustRoots: trust.roots.map((r) => r.vkey),
        ...(collector ? { fleetCollector: collector } : {}),
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
      ...(cfg.certify.rootKeyFile
        ? { certifyRoute: certifyRoute({ root: loadCertifyRoot(cfg.certify.rootKeyFile), clusterOrigin: cfg.certify.clusterOrigin, suite: nodeSuite, now: () => new Date(), log: (event) => log('certify', event), ...kubeCertifyDeps(kube) }) }
        : {}),
    });
    ops.webhookReady(true);
    log('webhook serving', { port: webhook.port, sidecarMode });
  }
  return {
    operator,
    metricsPort: metrics.port,
    webhook,
    async stop() {
      synced = false;
      ops.webhookReady(false);
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
