// Only one collector instance is active: two instances campaign for one Lease on the API-server
// double (resourceVersion conflicts, renewTime, leaseDurationSeconds as a real API server keeps
// them); the standby answers 503 and is not ready; on a release or a lease that stops being
// renewed the standby takes over and rebuilds from the bucket what the first one wrote.
import type { Server } from 'node:http';
import { ActiveCollector } from '../../collector/active.js';
import { Collector } from '../../collector/collector.js';
import { collectorServer } from '../../collector/http.js';
import { FleetBucket, type BucketConfig } from '../../sidecar/ship/object-store.js';
import type { ApiServerDouble } from '../k8s/api-server-double.js';
import { OPERATOR_NS, startDouble, waitFor } from '../operator/support.js';
import { buckets, certify, fleetKey, key, mirrorKey, root } from './fleet-support.js';
import { describeWithRgw, startRgw, type Rgw } from './rgw-support.js';

interface Instance {
  id: string;
  active: ActiveCollector;
  server: Server;
  url: string;
  bucket: FleetBucket;
  stopped: boolean;
}

describeWithRgw('collector Lease', () => {
  let rgw: Rgw;
  let d: ApiServerDouble;
  let config: BucketConfig;
  const instances: Instance[] = [];

  beforeAll(async () => {
    rgw = await startRgw();
    config = await buckets(rgw, 'lease');
  }, 180_000);

  afterAll(async () => {
    await rgw?.stop();
  }, 60_000);

  beforeEach(async () => {
    d = await startDouble();
  });

  afterEach(async () => {
    for (const i of instances.splice(0)) await stop(i);
    await d.stop();
  });

  async function instance(id: string): Promise<Instance> {
    const bucket = new FleetBucket(config);
    const active = new ActiveCollector({
      kubeConfig: d.kubeConfig(),
      namespace: OPERATOR_NS,
      lease: 'helm-collector',
      identity: id,
      open: () => Collector.open({ bucket, rootKey: root.verifier, fleetKey, mirrorKey }),
      timing: { leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 100 },
    });
    const server = collectorServer(() => active.current);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const i: Instance = { id, active, server, bucket, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, stopped: false };
    instances.push(i);
    active.start();
    return i;
  }

  async function stop(i: Instance): Promise<void> {
    if (i.stopped) return;
    i.stopped = true;
    await i.active.stop();
    i.server.closeAllConnections();
    await new Promise((r) => i.server.close(r));
    i.bucket.destroy();
  }

  const ready = async (i: Instance): Promise<boolean> => !i.stopped && (await fetch(`${i.url}/readyz`)).status === 200;
  const readyOnes = async (): Promise<Instance[]> => (await Promise.all(instances.map(async (i) => ((await ready(i)) ? i : undefined)))).filter((i): i is Instance => i !== undefined);
  const lease = () => d.get('coordination.k8s.io', 'leases', OPERATOR_NS, 'helm-collector')!;

  async function neverTwo(ms: number): Promise<void> {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      expect((await readyOnes()).length).toBeLessThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('exactly one instance is active; a release hands over to the standby, which rebuilds from the bucket', async () => {
    const a = await instance('collector-a');
    const b = await instance('collector-b');
    const [first] = await waitFor('one active', async () => ((await readyOnes()).length === 1 ? readyOnes() : undefined));
    await neverTwo(800);
    const standby = first === a ? b : a;
    expect(lease().spec.holderIdentity).toBe(first!.id);
    expect(lease().spec.renewTime).toMatch(/\.\d{6}Z$/);

    const origin = 'helm/test/team-a/pod-1/boot-1';
    const open = JSON.stringify({ origin, namespace: 'team-a', certification: certify(origin, key(origin)) });
    const post = (i: Instance) => fetch(`${i.url}/writer/open`, { method: 'POST', body: open, headers: { 'content-type': 'application/json' } });
    expect((await post(standby)).status).toBe(503);
    expect((await post(first!)).status).toBe(200);

    await stop(first!);
    await waitFor('standby active', () => ready(standby), 10_000);
    expect(lease().spec.holderIdentity).toBe(standby.id);
    expect(lease().spec.leaseTransitions).toBeGreaterThanOrEqual(1);
    const writers = (await (await fetch(`${standby.url}/writers`)).json()) as { origin: string }[];
    expect(writers.map((w) => w.origin)).toContain(origin);
  }, 60_000);

  it('a holder that cannot renew steps down before its lease expires; the other takes over, never both', async () => {
    await instance('collector-a');
    await waitFor('a active', async () => (await readyOnes()).length === 1);
    await instance('collector-b');
    await neverTwo(500);
    // The API server stops accepting Lease writes (and some reads): the holder cannot renew.
    d.injectFault({ verb: 'update', plural: 'leases', code: 503, times: 1_000_000 });
    d.injectFault({ verb: 'get', plural: 'leases', code: 503, times: 30 });
    const sampling = neverTwo(3_000);
    await waitFor('holder steps down', async () => (await readyOnes()).length === 0, 5_000);
    await sampling;
    d.clearFaults();
    await waitFor('one active again', async () => (await readyOnes()).length === 1, 10_000);
    await neverTwo(500);
  }, 60_000);
});
