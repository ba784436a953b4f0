// Entry point of the fleet collector (docs/fleet.md §Running the collector). Configuration comes
// from the environment; the keys are files (a Secret mounted only into the collector):
//   HELM_COLLECTOR_LISTEN        host:port (default 0.0.0.0:8090)
//   HELM_FLEET_BUCKET, HELM_FLEET_STAGING_BUCKET, AWS_ENDPOINT_URL, AWS_REGION,
//   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
//   HELM_FLEET_KEY (signs fleet checkpoints), HELM_COLLECTOR_KEY (cosignature/v1 key),
//   HELM_TRUST_ROOT (vkey, or a file holding it: the root that certifies writer log keys)
//   HELM_COLLECTOR_VKEY (optional): must be the verifier key of HELM_COLLECTOR_KEY
//   HELM_COLLECTOR_LEASE (optional): campaign for this Lease in HELM_COLLECTOR_NAMESPACE as
//   HELM_COLLECTOR_IDENTITY (the pod name); only the holder is active (collector/active.ts).
//   The kubeconfig is the in-cluster one, or KUBECONFIG.
import { KubeConfig } from '@kubernetes/client-node';
import { ActiveCollector } from './active.js';
import { loadSigningKey, loadVerifierKey } from '../cli/key-files.js';
import { jsonLogger, errorText } from '../sidecar/log.js';
import { FleetBucket } from '../sidecar/ship/object-store.js';
import { Collector } from './collector.js';
import { collectorServer } from './http.js';

function need(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`ERR_COLLECTOR_CONFIG: set ${name} (see docs/fleet.md)`);
  return v;
}

export async function startCollectorFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<{ url: string; close(): Promise<void> }> {
  const log = jsonLogger('info');
  const bucketName = need(env, 'HELM_FLEET_BUCKET');
  const bucket = new FleetBucket({
    endpoint: need(env, 'AWS_ENDPOINT_URL'),
    region: env.AWS_REGION ?? 'us-east-1',
    accessKeyId: need(env, 'AWS_ACCESS_KEY_ID'),
    secretAccessKey: need(env, 'AWS_SECRET_ACCESS_KEY'),
    bucket: bucketName,
    stagingBucket: env.HELM_FLEET_STAGING_BUCKET ?? `${bucketName}-staging`,
  });
  const keys = {
    fleetKey: await loadSigningKey(need(env, 'HELM_FLEET_KEY'), 'fleet key'),
    mirrorKey: await loadSigningKey(need(env, 'HELM_COLLECTOR_KEY'), 'collector cosignature key'),
    rootKey: await loadVerifierKey(need(env, 'HELM_TRUST_ROOT'), 'trust root'),
  };
  // The key sidecars were told to trust (HELM_COLLECTOR_VKEY) must be this collector's, or every
  // cosignature would be refused by them: say so at start.
  const vkey = env.HELM_COLLECTOR_VKEY?.trim();
  if (vkey && vkey !== keys.mirrorKey.verifier.vkey) throw new Error(`ERR_COLLECTOR_CONFIG: HELM_COLLECTOR_VKEY ${vkey} is not the verifier key of HELM_COLLECTOR_KEY (${keys.mirrorKey.verifier.vkey}): set the chart value collector.verifierKey to the latter`);
  const open = (): Promise<Collector> => Collector.open({ bucket, ...keys });
  let active: ActiveCollector | undefined;
  let current: () => Collector | undefined;
  if (env.HELM_COLLECTOR_LEASE) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
    active = new ActiveCollector({
      kubeConfig,
      namespace: need(env, 'HELM_COLLECTOR_NAMESPACE'),
      lease: env.HELM_COLLECTOR_LEASE,
      identity: need(env, 'HELM_COLLECTOR_IDENTITY'),
      open,
      log: (msg, ctx) => log.info(msg, ctx),
    });
    active.start();
    current = () => active!.current;
  } else {
    const collector = await open();
    current = () => collector;
  }
  const server = collectorServer(current, (e) => log.error('collector request failed', { error: errorText(e) }));
  const [host, port] = (env.HELM_COLLECTOR_LISTEN ?? '0.0.0.0:8090').split(/:(?=[^:]*$)/) as [string, string];
  await new Promise<void>((r) => server.listen(Number(port), host, r));
  const url = `http://${host}:${(server.address() as { port: number }).port}`;
  log.info('fleet collector listening', { url, bucket: bucketName, lease: env.HELM_COLLECTOR_LEASE ?? null });
  return {
    url,
    async close() {
      await active?.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      bucket.destroy();
    },
  };
}

if (process.argv[1]?.endsWith('collector/main.js')) {
  startCollectorFromEnv().then(
    (c) => {
      const stop = (): void => void c.close().then(() => process.exit(0));
      process.on('SIGTERM', stop).on('SIGINT', stop);
    },
    (e: unknown) => {
      process.stderr.write(`${errorText(e)}\n`);
      process.exit(2);
    },
  );
}
