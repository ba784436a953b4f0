// Two operators against one API server: exactly one reconciles; the other takes over when it stops.
import type { Operator } from '../../operator/operator.js';
import type { ApiServerDouble } from '../k8s/api-server-double.js';
import { GROUP, OPERATOR_NS, bundleStatus, bundleText, governedNamespace, clusterGuardianSidecar, operatorFor, policyBundle, signedSpec, startDouble, waitFor } from './support.js';

let d: ApiServerDouble;
const running: Operator[] = [];

beforeEach(async () => {
  d = await startDouble();
  governedNamespace(d, 'agents-a');
  d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian', 'desk'));
});

afterEach(async () => {
  for (const op of running.splice(0)) await op.stop();
  await d.stop();
});

const election = { leaseName: 'helm-operator-leader', leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 100 };

async function candidate(identity: string): Promise<Operator> {
  const op = operatorFor(d, { identity, leaderElection: election });
  running.push(op);
  await op.start();
  return op;
}

function reporters(): Set<string> {
  return new Set(d.list('events.k8s.io', 'events', OPERATOR_NS).map((e) => e.reportingInstance as string));
}

describe('leader election', () => {
  it('exactly one of two operators leads and reconciles; the other takes over when it stops', async () => {
    const a = await candidate('replica-a');
    const b = await candidate('replica-b');
    const leader = await waitFor('a leader', () => (a.isLeader ? a : b.isLeader ? b : undefined));
    const follower = leader === a ? b : a;
    // Several renew periods: the follower never leads meanwhile.
    for (let i = 0; i < 10; i++) {
      expect(a.isLeader && b.isLeader).toBe(false);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(follower.isLeader).toBe(false);
    expect(follower.bundleController.running).toBe(false);
    const lease = d.get('coordination.k8s.io', 'leases', OPERATOR_NS, 'helm-operator-leader')!;
    expect(lease.spec.holderIdentity).toBe(leader === a ? 'replica-a' : 'replica-b');
    expect(lease.spec.renewTime).toMatch(/\.\d{6}Z$/);

    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    await waitFor('Active', () => bundleStatus(d, 'desk')?.phase === 'Active');
    await waitFor('event', () => reporters().size > 0);
    expect([...reporters()]).toEqual([leader === a ? 'replica-a' : 'replica-b']);
    // The follower's caches are warm: it has seen the bundle without reconciling it.
    expect(follower.bundles.get(OPERATOR_NS, 'desk')).toBeDefined();

    await leader.stop();
    running.splice(running.indexOf(leader), 1);
    await waitFor('takeover', () => follower.isLeader, 5_000);
    const after = d.get('coordination.k8s.io', 'leases', OPERATOR_NS, 'helm-operator-leader')!;
    expect(after.spec.holderIdentity).toBe(leader === a ? 'replica-b' : 'replica-a');
    expect(after.spec.leaseTransitions).toBeGreaterThanOrEqual(1);
    d.seed(GROUP, 'policybundles', policyBundle('desk-2', signedSpec(bundleText('two'), { bundleId: 'desk-two' })));
    await waitFor('new leader reconciles', () => bundleStatus(d, 'desk-2')?.phase === 'Active');
  });

  it('a leader that dies without releasing is replaced once its lease expires', async () => {
    const a = await candidate('replica-a');
    await waitFor('a leads', () => a.isLeader);
    const b = await candidate('replica-b');
    // Simulate a crash: the lease is no longer renewed (all of a's lease writes now fail).
    d.injectFault({ verb: 'update', plural: 'leases', code: 503, times: 1_000_000 });
    d.injectFault({ verb: 'get', plural: 'leases', code: 503, times: 30 });
    await waitFor('a steps down after its renew deadline', () => !a.isLeader, 5_000);
    d.clearFaults();
    await waitFor('b leads after expiry', () => b.isLeader && !a.isLeader || a.isLeader && !b.isLeader, 8_000);
    expect(a.isLeader && b.isLeader).toBe(false);
  });
});
