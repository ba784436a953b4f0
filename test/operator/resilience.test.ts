// The runtime under the failures real clusters produce: 410 Gone, silent watches, 409 conflicts,
// a crash in the middle of a reconcile.
import { distributedConfigMapName } from '../../operator/api/v1alpha1.js';
import { metricsRegistry } from '../../operator/metrics.js';
import type { Operator } from '../../operator/operator.js';
import type { ApiServerDouble } from '../k8s/api-server-double.js';
import { GROUP, OPERATOR_NS, bundleStatus, bundleText, governedNamespace, clusterGuardianSidecar, operatorFor, policyBundle, signedSpec, startDouble, waitFor } from './support.js';

let d: ApiServerDouble;
const ops: Operator[] = [];
const CM = distributedConfigMapName('support-desk');

beforeEach(async () => {
  d = await startDouble();
  governedNamespace(d, 'agents-a');
  governedNamespace(d, 'agents-b');
  d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian', 'desk'));
});

afterEach(async () => {
  for (const op of ops.splice(0)) await op.stop();
  await d.stop();
});

async function start(o: Parameters<typeof operatorFor>[1] = {}): Promise<Operator> {
  const op = operatorFor(d, o);
  ops.push(op);
  await op.start();
  // start() returns once the caches have listed; wait for all five watches to be open too.
  await waitFor('watches open', () => d.openWatchCount() >= 5 * ops.length);
  return op;
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await metricsRegistry().getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return Number(v?.value ?? 0);
}

describe('operator resilience', () => {
  it('a watch ended with 410 Gone relists and keeps going, catching changes made meanwhile', async () => {
    const op = await start();
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    await waitFor('Active', () => bundleStatus(d, 'desk')?.phase === 'Active');
    const relists = op.namespaces.restarts.relist;
    // Changes land while the watches are being torn down; the history they would resume from is compacted.
    expect(d.expireWatches()).toBeGreaterThanOrEqual(5);
    governedNamespace(d, 'agents-c');
    await waitFor('relisted', () => op.namespaces.restarts.gone >= 1 && op.namespaces.restarts.relist > relists);
    await waitFor('copy in the namespace created during the outage', () => d.get('', 'configmaps', 'agents-c', CM));
    expect(op.bundles.restarts.gone).toBeGreaterThanOrEqual(1);
    expect(await metricValue('helm_operator_watch_restarts_total', { resource: 'namespaces', reason: 'gone' })).toBeGreaterThanOrEqual(1);
  });

  it('a watch resumed from a compacted resourceVersion gets 410 and relists', async () => {
    const op = await start();
    d.closeWatches();
    d.compact();
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    await waitFor('Active after relist', () => bundleStatus(d, 'desk')?.phase === 'Active');
    expect(op.bundles.restarts.closed + op.bundles.restarts.gone).toBeGreaterThanOrEqual(1);
  });

  it('a silent watch (connection alive, nothing delivered) is detected and restarted', async () => {
    const op = await start({ informer: { silenceMs: 600, backoffBaseMs: 20, backoffMaxMs: 200 } });
    expect(d.silenceWatches()).toBeGreaterThanOrEqual(5);
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    await waitFor('Active despite the dead watch', () => bundleStatus(d, 'desk')?.phase === 'Active', 10_000);
    expect(op.bundles.restarts.silent).toBeGreaterThanOrEqual(1);
    expect(d.openWatchCount('policybundles')).toBeGreaterThanOrEqual(1);
  });

  it('a 409 Conflict on the status write is retried until the status lands', async () => {
    d.injectFault({ verb: 'patch', plural: 'policybundles', subresource: 'status', code: 409, times: 3 });
    const before = await metricValue('helm_operator_reconcile_total', { kind: 'PolicyBundle', result: 'error' });
    await start();
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    await waitFor('Active', () => bundleStatus(d, 'desk')?.phase === 'Active');
    const statusWrites = d.requests.filter((r) => r.verb === 'PATCH' && r.subresource === 'status' && r.path.endsWith('/policybundles/desk/status'));
    expect(statusWrites.filter((r) => r.code === 409).length).toBe(3);
    expect(statusWrites.some((r) => r.code === 200 && r.contentType === 'application/apply-patch+yaml' && r.query.includes('fieldManager=helm-operator'))).toBe(true);
    expect(await metricValue('helm_operator_reconcile_total', { kind: 'PolicyBundle', result: 'error' })).toBeGreaterThanOrEqual(before + 3);
  });

  it('a status computed from a stale read is refused (409) by resourceVersion and recomputed', async () => {
    const op = await start();
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    await waitFor('Active', () => bundleStatus(d, 'desk')?.phase === 'Active');
    // Apply the status with an outdated resourceVersion directly: the server must refuse it.
    await expect(
      op.kube.apply(
        { group: GROUP, version: 'v1alpha1', plural: 'policybundles', kind: 'PolicyBundle', namespaced: true },
        { apiVersion: `${GROUP}/v1alpha1`, kind: 'PolicyBundle', metadata: { name: 'desk', namespace: OPERATOR_NS, resourceVersion: '1' }, status: { phase: 'Failed' } },
        { fieldManager: 'helm-operator', force: true, status: true },
      ),
    ).rejects.toMatchObject({ code: 409 });
    expect(bundleStatus(d, 'desk')?.phase).toBe('Active');
  });

  it('an operator restarted in the middle of a reconcile converges', async () => {
    // The first operator writes the copy in agents-a, then every write to agents-b fails: it is
    // stopped with the reconcile half done (finalizer set, one copy, no status).
    d.injectFault({ verb: 'patch', plural: 'configmaps', namespace: 'agents-b', code: 503, times: 1_000_000 });
    const first = await start({ identity: 'first' });
    const spec = signedSpec(bundleText());
    d.seed(GROUP, 'policybundles', policyBundle('desk', spec));
    await waitFor('half done', () => d.get('', 'configmaps', 'agents-a', CM) && d.requests.some((r) => r.path.includes('/namespaces/agents-b/configmaps') && r.code === 503));
    await first.stop();
    ops.splice(ops.indexOf(first), 1);
    expect(bundleStatus(d, 'desk')?.phase).toBeUndefined();
    expect(d.get(GROUP, 'policybundles', OPERATOR_NS, 'desk')!.metadata.finalizers).toEqual(['helm.mindburn.org/distribution']);
    expect(d.get('', 'configmaps', 'agents-b', CM)).toBeUndefined();
    d.clearFaults();
    const second = await start({ identity: 'second' });
    await waitFor('converged', () => bundleStatus(d, 'desk')?.phase === 'Active' && d.get('', 'configmaps', 'agents-b', CM));
    expect(d.get('', 'configmaps', 'agents-a', CM)!.metadata.annotations['helm.mindburn.org/content-hash']).toBe(spec.contentHash);
    await second.stop();
    ops.splice(ops.indexOf(second), 1);
    // While no operator runs, the bundle is deleted: the finalizer holds it.
    await second.kube.delete({ group: GROUP, version: 'v1alpha1', plural: 'policybundles', kind: 'PolicyBundle', namespaced: true }, OPERATOR_NS, 'desk');
    expect(d.get(GROUP, 'policybundles', OPERATOR_NS, 'desk')!.metadata.deletionTimestamp).toBeDefined();
    await start({ identity: 'third' });
    await waitFor('finalized by the restarted operator', () => d.get(GROUP, 'policybundles', OPERATOR_NS, 'desk') === undefined);
    expect(d.get('', 'configmaps', 'agents-a', CM)).toBeUndefined();
    expect(d.get('', 'configmaps', 'agents-b', CM)).toBeUndefined();
  });
});
