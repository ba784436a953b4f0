// The operator-managed collector against the API-server double: the leader applies the collector's
// Deployment and Service from its settings (chart values), GuardianSidecars with shipping.enabled
// carry a Shipping condition that follows the Deployment's availability and the collector Lease,
// and the webhook injects the shipping environment into the sidecar container only.
import { AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectorSettingsFromEnv, type CollectorSettings } from '../../operator/fleet/collector-settings.js';
import { shippingCondition, shippingEnv, shippingSpec } from '../../operator/fleet/shipping.js';
import type { GuardianSidecar } from '../../operator/api/v1alpha1.js';
import type { Operator } from '../../operator/operator.js';
import { guardianView } from '../../operator/webhook/guardian.js';
import { injectionPatch } from '../../operator/webhook/patch/index.js';
import type { ApiServerDouble } from '../k8s/api-server-double.js';
import { GROUP, OPERATOR_NS, bundleText, guardianSidecar, operatorFor, policyBundle, signedSpec, startDouble, waitFor } from '../operator/support.js';
import { mirrorKey } from './fleet-support.js';
import { agentPod, APP_NS, applyPatch, CERTIFY, config, guardianSidecar as rawGuardian } from '../operator/webhook/support.js';

const ROOT = 'example-bundle-signer+7383a887+AYFGZA8CSTr0+8VP4zOI513CyTeuC3cnzCsq+xt1GZo+';
const COLLECTOR_VKEY = mirrorKey.verifier.vkey;
const ENV = {
  HELM_COLLECTOR_VKEY: COLLECTOR_VKEY,
  HELM_COLLECTOR_ENABLED: 'true',
  HELM_COLLECTOR_IMAGE: 'ghcr.io/mindburn-labs/helm-operator:test',
  HELM_COLLECTOR_BUCKET: 'fleet',
  HELM_COLLECTOR_ENDPOINT: 'http://rgw.storage:7480',
  HELM_COLLECTOR_CREDENTIALS_SECRET: 'collector-s3',
  HELM_COLLECTOR_KEYS_SECRET: 'collector-keys',
  HELM_COLLECTOR_WRITER_CREDENTIALS_SECRET: 'fleet-writer-s3',
  HELM_COLLECTOR_RESYNC_MS: '100',
};
const settings = (): CollectorSettings => collectorSettingsFromEnv(ENV, OPERATOR_NS, ROOT)!;

let d: ApiServerDouble;
let op: Operator | undefined;

beforeEach(async () => {
  d = await startDouble();
});

afterEach(async () => {
  await op?.stop();
  op = undefined;
  await d.stop();
});

function shipping(name: string): string | undefined {
  const c = (d.get(GROUP, 'guardiansidecars', OPERATOR_NS, name) as GuardianSidecar | undefined)?.status?.conditions?.find((x) => x.type === 'Shipping');
  return c && `${c.status}/${c.reason}`;
}

type Container = { name: string; image: string; env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] };

describe('operator-managed collector', () => {
  it('settings: off unless enabled, and a missing value is named', () => {
    expect(collectorSettingsFromEnv({}, OPERATOR_NS, ROOT)).toBeUndefined();
    expect(() => collectorSettingsFromEnv({ ...ENV, HELM_COLLECTOR_BUCKET: '' }, OPERATOR_NS, ROOT)).toThrow(/HELM_COLLECTOR_BUCKET/);
    expect(() => collectorSettingsFromEnv(ENV, OPERATOR_NS, undefined)).toThrow(/certification root/);
    // The collector's cosignature key is required and must parse: sidecars trust nothing else.
    expect(() => collectorSettingsFromEnv({ ...ENV, HELM_COLLECTOR_VKEY: '' }, OPERATOR_NS, ROOT)).toThrow(/HELM_COLLECTOR_VKEY/);
    expect(() => collectorSettingsFromEnv({ ...ENV, HELM_COLLECTOR_VKEY: 'helm/collector/test+00000000+AA' }, OPERATOR_NS, ROOT)).toThrow(/collector\.verifierKey/);
    expect(settings()).toMatchObject({ name: 'helm-collector', replicas: 2, stagingBucket: 'fleet-staging', port: 8090 });
  });

  it('the leader applies the Deployment and Service; Shipping follows availability and the Lease', async () => {
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    d.seed(GROUP, 'guardiansidecars', guardianSidecar('shipped', 'desk', { shipping: { enabled: true } }));
    d.seed(GROUP, 'guardiansidecars', guardianSidecar('local-only', 'desk'));
    op = operatorFor(d, { collector: settings() });
    await op.start();

    const dep = await waitFor('Deployment applied', () => d.get('apps', 'deployments', OPERATOR_NS, 'helm-collector'));
    expect(dep.spec.replicas).toBe(2);
    const pod = dep.spec.template.spec as { serviceAccountName: string; containers: Container[]; volumes: { secret?: { secretName: string } }[] };
    expect(pod.serviceAccountName).toBe('helm-collector');
    const env = Object.fromEntries(pod.containers[0]!.env.map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({ HELM_FLEET_BUCKET: 'fleet', HELM_FLEET_STAGING_BUCKET: 'fleet-staging', HELM_COLLECTOR_LEASE: 'helm-collector', HELM_TRUST_ROOT: ROOT, HELM_COLLECTOR_VKEY: COLLECTOR_VKEY, AWS_ENDPOINT_URL: 'http://rgw.storage:7480' });
    expect(env.AWS_SECRET_ACCESS_KEY).toEqual({ secretKeyRef: { name: 'collector-s3', key: 'AWS_SECRET_ACCESS_KEY' } });
    expect(pod.volumes.map((v) => v.secret?.secretName)).toEqual(['collector-keys']);
    const svc = await waitFor('Service applied', () => d.get('', 'services', OPERATOR_NS, 'helm-collector'));
    expect(svc.spec.ports[0].port).toBe(8090);

    await waitFor('Shipping unavailable', () => shipping('shipped') === 'False/CollectorUnavailable');
    expect(shipping('local-only')).toBeUndefined();

    const apps = d.kubeConfig().makeApiClient(AppsV1Api);
    await apps.patchNamespacedDeploymentStatus({ namespace: OPERATOR_NS, name: 'helm-collector', body: { status: { replicas: 2, availableReplicas: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await waitFor('no leader yet', () => shipping('shipped') === 'False/CollectorNoLeader');

    const renew = new Date().toISOString().replace('Z', '000Z');
    d.seed('coordination.k8s.io', 'leases', { metadata: { name: 'helm-collector', namespace: OPERATOR_NS }, spec: { holderIdentity: 'helm-collector-abc', leaseDurationSeconds: 15, renewTime: renew, acquireTime: renew } });
    await waitFor('Shipping active', () => shipping('shipped') === 'True/CollectorActive');
    const msg = (d.get(GROUP, 'guardiansidecars', OPERATOR_NS, 'shipped') as GuardianSidecar).status!.conditions!.find((c) => c.type === 'Shipping')!.message;
    expect(msg).toMatch(/2 of 2 replicas available, active instance helm-collector-abc/);
  });

  it('Shipping shows the ship lag of the open writers in the namespace from the collector\'s /writers, and turns False past the limit', async () => {
    // The collector's GET /writers (collector/http.ts: Collector.list(), as the RGW suites serve it).
    let writers: unknown[] = [];
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/writers' ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(writers));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const now = Date.now();
      writers = [
        { origin: `helm/${OPERATOR_NS}/agent-1/boot-1`, namespace: OPERATOR_NS, size: 40, status: 'open', cosignedAt: now - 12_000 },
        { origin: `helm/${OPERATOR_NS}/agent-0/boot-1`, namespace: OPERATOR_NS, size: 90, status: 'closed', cosignedAt: now - 900_000 },
        { origin: 'helm/elsewhere/agent-9/boot-1', namespace: 'elsewhere', size: 5, status: 'open', cosignedAt: now - 900_000 },
      ];
      d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
      d.seed(GROUP, 'guardiansidecars', guardianSidecar('shipped', 'desk', { shipping: { enabled: true } }));
      op = operatorFor(d, { collector: { ...settings(), url } });
      await op.start();
      const apps = d.kubeConfig().makeApiClient(AppsV1Api);
      await waitFor('Deployment applied', () => d.get('apps', 'deployments', OPERATOR_NS, 'helm-collector'));
      await apps.patchNamespacedDeploymentStatus({ namespace: OPERATOR_NS, name: 'helm-collector', body: { status: { replicas: 2, availableReplicas: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      const renew = new Date().toISOString().replace('Z', '000Z');
      d.seed('coordination.k8s.io', 'leases', { metadata: { name: 'helm-collector', namespace: OPERATOR_NS }, spec: { holderIdentity: 'helm-collector-abc', leaseDurationSeconds: 60, renewTime: renew, acquireTime: renew } });
      const message = () => (d.get(GROUP, 'guardiansidecars', OPERATOR_NS, 'shipped') as GuardianSidecar | undefined)?.status?.conditions?.find((c) => c.type === 'Shipping')?.message ?? '';
      await waitFor('lag shown', () => shipping('shipped') === 'True/CollectorActive' && /1 open writer in namespace/.test(message()));
      // Only the open writer of this namespace counts: not the closed one, not another namespace's.
      expect(message()).toMatch(/1 open writer in namespace [^,]+, each cosigned within the 300 s limit$/);
      // Shipping stalls: the lag passes the limit (5 min by default) and the condition turns False.
      writers = [{ origin: `helm/${OPERATOR_NS}/agent-1/boot-1`, namespace: OPERATOR_NS, size: 40, status: 'open', cosignedAt: now - 400_000 }, { origin: `helm/${OPERATOR_NS}/agent-2/boot-1`, namespace: OPERATOR_NS, size: 0, status: 'open', cosignedAt: null }];
      await waitFor('lagging', () => shipping('shipped') === 'False/ShipLagging');
      expect(message()).toMatch(new RegExp(`2 open writers in namespace .*longest since a cosignature 6 min \\(helm/${OPERATOR_NS}/agent-1/boot-1\\), 1 not cosigned yet; over the 300 s limit`));
    } finally {
      server.close();
    }
  });

  it('the Shipping condition changes only on a real change: two rounds 30 s apart with fresh cosignatures give identical conditions', () => {
    const T = Date.parse('2026-12-03T12:00:00Z');
    const spec = { shipping: { enabled: true } };
    const at = (nowMs: number, cosignedAt: number | null) =>
      shippingCondition(spec, { settings: settings(), state: { applied: true, replicas: 2, availableReplicas: 2, activeInstance: 'helm-collector-abc', writers: [{ origin: 'helm/ns-l/a/b', namespace: 'ns-l', status: 'open', cosignedAt }] } }, { namespace: 'ns-l', nowMs });
    expect(at(T + 30_000, T + 25_000)).toEqual(at(T, T - 12_000));
    expect(at(T, T - 12_000)).toMatchObject({ status: 'True', reason: 'CollectorActive' });
    // Real changes still show: a writer lagging past the limit, or one never cosigned.
    expect(at(T + 400_000, T)).toMatchObject({ status: 'False', reason: 'ShipLagging', message: expect.stringMatching(/longest since a cosignature 6 min \(helm\/ns-l\/a\/b\); over the 300 s limit$/) });
    expect(at(T, null)!.message).not.toEqual(at(T, T - 12_000)!.message);
  });

  it('without a collector, shipping.enabled reports CollectorNotConfigured', async () => {
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    d.seed(GROUP, 'guardiansidecars', guardianSidecar('shipped', 'desk', { shipping: { enabled: true } }));
    op = operatorFor(d);
    await op.start();
    await waitFor('not configured', () => shipping('shipped') === 'False/CollectorNotConfigured');
  });

  it('injects the collector URL and HELM_SHIP settings into the sidecar container only', () => {
    const gs = rawGuardian({ spec: { shipping: { enabled: true, highWaterBytes: 1048576, intervalMs: 500, retention: 'free-closed' } } });
    const ctx = { namespace: APP_NS, config: config({ bundleTrustRoots: [ROOT], fleetCollector: settings() }), guardian: guardianView(gs), bundleId: 'support-desk', certify: CERTIFY };
    const pod = applyPatch(agentPod(), injectionPatch(agentPod(), ctx)) as unknown as { spec: { initContainers: Container[]; containers: Container[] } };
    const sidecar = pod.spec.initContainers.find((c) => c.name === 'helm-guardian') ?? pod.spec.initContainers[0]!;
    const env = Object.fromEntries(sidecar.env.map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      HELM_SHIP: 'on',
      HELM_COLLECTOR_URL: 'http://helm-collector.helm-system.svc:8090',
      HELM_COLLECTOR_VKEY: COLLECTOR_VKEY,
      HELM_FLEET_BUCKET: 'fleet',
      HELM_FLEET_STAGING_BUCKET: 'fleet-staging',
      HELM_SHIP_HIGH_WATER_BYTES: '1048576',
      HELM_SHIP_INTERVAL_MS: '500',
      HELM_SHIP_RETENTION: 'free-closed',
      HELM_IDENTITY: 'certified',
      AWS_ACCESS_KEY_ID: { secretKeyRef: { name: 'fleet-writer-s3', key: 'AWS_ACCESS_KEY_ID' } },
    });
    for (const app of pod.spec.containers) expect((app.env ?? []).map((e) => e.name)).not.toEqual(expect.arrayContaining(['AWS_SECRET_ACCESS_KEY', 'HELM_SHIP']));
    // Off: nothing about shipping is injected; on without a collector: the pod is refused.
    const plain = applyPatch(agentPod(), injectionPatch(agentPod(), { ...ctx, guardian: guardianView(rawGuardian()) })) as unknown as { spec: { initContainers: Container[] } };
    expect(plain.spec.initContainers[0]!.env.map((e) => e.name)).not.toContain('HELM_SHIP');
    expect(() => injectionPatch(agentPod(), { ...ctx, config: config({ bundleTrustRoots: [ROOT] }) })).toThrow(/ERR_SHIP_CONFIG/);
    // Retention inside the live log passes through too (the sidecar checks it with the collector key).
    expect(shippingEnv(shippingSpec({ shipping: { enabled: true, retention: 'free-cosigned' } }), settings())).toContainEqual({ name: 'HELM_SHIP_RETENTION', value: 'free-cosigned' });
  });
});
