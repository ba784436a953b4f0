// GuardianSidecar controller: bundle reference validation, readiness and injected pod counting.
import { ANNOTATION_GUARDIAN, LABEL_INJECTED, type GuardianSidecar } from '../../operator/api/v1alpha1.js';
import type { Operator } from '../../operator/operator.js';
import type { ApiServerDouble, Obj } from '../k8s/api-server-double.js';
import { GROUP, OPERATOR_NS, bundleStatus, bundleText, clusterGuardianSidecar, governedNamespace, guardianSidecar, operatorFor, otherSigner, policyBundle, signedSpec, startDouble, waitFor } from './support.js';

let d: ApiServerDouble;
let op: Operator;

beforeEach(async () => {
  d = await startDouble();
  governedNamespace(d, 'agents-a');
  governedNamespace(d, 'ungoverned', { team: 'x' });
  op = operatorFor(d);
  await op.start();
});

afterEach(async () => {
  await op.stop();
  await d.stop();
});

function sidecar(name: string): GuardianSidecar['status'] | undefined {
  return (d.get(GROUP, 'guardiansidecars', OPERATOR_NS, name) as GuardianSidecar | undefined)?.status;
}

function cond(name: string, type: string): string | undefined {
  const c = sidecar(name)?.conditions?.find((x) => x.type === type);
  return c && `${c.status}/${c.reason}`;
}

function pod(ns: string, name: string, o: { guardian?: string; ready?: boolean; labels?: Record<string, string>; phase?: string } = {}): Obj {
  return {
    metadata: {
      name,
      namespace: ns,
      labels: { [LABEL_INJECTED]: 'true', app: 'agent', ...o.labels },
      annotations: o.guardian === undefined ? {} : { [ANNOTATION_GUARDIAN]: o.guardian },
    },
    spec: { containers: [{ name: 'agent', image: 'agent:1' }] },
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

describe('GuardianSidecar controller', () => {
  it('a missing PolicyBundle makes it not ready (phase Error, BundleNotFound)', async () => {
    d.seed(GROUP, 'guardiansidecars', guardianSidecar('guardian', 'nope'));
    await waitFor('Error', () => sidecar('guardian')?.phase === 'Error');
    expect(cond('guardian', 'BundleReady')).toBe('False/BundleNotFound');
    expect(cond('guardian', 'Ready')).toBe('False/BundleNotFound');
    expect(sidecar('guardian')?.observedGeneration).toBe(1);
    const gs = d.get(GROUP, 'guardiansidecars', OPERATOR_NS, 'guardian')!;
    expect(gs.spec.failClosed).toBe(true);
  });

  it('an inactive PolicyBundle makes it not ready; once the bundle is Active it becomes Ready', async () => {
    const good = signedSpec(bundleText());
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText(), {}, otherSigner)));
    d.seed(GROUP, 'guardiansidecars', guardianSidecar('guardian', 'desk'));
    await waitFor('BundleNotActive because the bundle Failed', () => /Failed \(SignerUntrusted/.test(sidecar('guardian')?.conditions?.find((c) => c.type === 'BundleReady')?.message ?? ''));
    expect(cond('guardian', 'BundleReady')).toBe('False/BundleNotActive');
    expect(sidecar('guardian')?.phase).toBe('Error');
    await op.kube.mergePatch({ group: GROUP, version: 'v1alpha1', plural: 'policybundles', kind: 'PolicyBundle', namespaced: true }, OPERATOR_NS, 'desk', { spec: good });
    await waitFor('bundle Active', () => bundleStatus(d, 'desk')?.phase === 'Active');
    await waitFor('Ready', () => sidecar('guardian')?.phase === 'Ready');
    expect(cond('guardian', 'BundleReady')).toBe('True/BundleActive');
  });

  it('counts the running injected pods that belong to it, and reports Injecting until they are Ready', async () => {
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    d.seed(GROUP, 'guardiansidecars', guardianSidecar('guardian', 'desk', { podSelector: { matchLabels: { app: 'agent' } } }));
    await waitFor('Ready with 0 pods', () => sidecar('guardian')?.phase === 'Ready' && sidecar('guardian')?.injectedPodCount === 0);
    const ref = `${OPERATOR_NS}/guardian`;
    d.seed('', 'pods', pod(OPERATOR_NS, 'p1', { guardian: ref }));
    d.seed('', 'pods', pod(OPERATOR_NS, 'p2', { guardian: ref, ready: false }));
    d.seed('', 'pods', pod(OPERATOR_NS, 'other-guardian', { guardian: `${OPERATOR_NS}/someone-else` }));
    d.seed('', 'pods', pod(OPERATOR_NS, 'not-selected', { guardian: ref, labels: { app: 'batch' } }));
    d.seed('', 'pods', pod(OPERATOR_NS, 'finished', { guardian: ref, phase: 'Succeeded' }));
    // A GuardianSidecar governs its own namespace only: a pod elsewhere claiming it is not counted.
    d.seed('', 'pods', pod('agents-a', 'p3', { guardian: ref }));
    await waitFor('2 pods, Injecting', () => sidecar('guardian')?.injectedPodCount === 2 && sidecar('guardian')?.phase === 'Injecting');
    expect(cond('guardian', 'Ready')).toBe('False/PodsStarting');
    const p2 = d.get('', 'pods', OPERATOR_NS, 'p2')!;
    await op.kube.core.patchNamespacedPodStatus(
      { namespace: OPERATOR_NS, name: 'p2', body: { status: { conditions: [{ type: 'Ready', status: 'True' }] }, metadata: { resourceVersion: p2.metadata.resourceVersion } } },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await waitFor('Ready with 2 pods', () => sidecar('guardian')?.phase === 'Ready' && sidecar('guardian')?.injectedPodCount === 2);
    await op.kube.core.deleteNamespacedPod({ namespace: OPERATOR_NS, name: 'p1' });
    await waitFor('1 pod', () => sidecar('guardian')?.injectedPodCount === 1);
  });

  it('reports unusable selectors', async () => {
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    d.seed(GROUP, 'guardiansidecars', guardianSidecar('guardian', 'desk', { podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }));
    await waitFor('InvalidSelector', () => cond('guardian', 'Ready') === 'False/InvalidSelector');
    expect(sidecar('guardian')?.phase).toBe('Error');
  });

  it('storageClass: creates one RWX PVC in its namespace, reports the choice, and keeps the PVC when deleted', async () => {
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    d.seed(GROUP, 'guardiansidecars', guardianSidecar('guardian', 'desk', { proofGraph: { storageClass: { name: 'nfs-rwx', size: '5Gi' } } }));
    const claim = await waitFor('PVC', () => d.get('', 'persistentvolumeclaims', OPERATOR_NS, 'helm-proofgraph-guardian'));
    expect(claim.spec).toMatchObject({ accessModes: ['ReadWriteMany'], storageClassName: 'nfs-rwx', resources: { requests: { storage: '5Gi' } } });
    expect(claim.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'helm-operator' });
    await waitFor('ProofGraphVolume', () => cond('guardian', 'ProofGraphVolume') === 'True/StorageClass');
    await op.kube.custom.deleteNamespacedCustomObject({ group: GROUP, version: 'v1alpha1', plural: 'guardiansidecars', namespace: OPERATOR_NS, name: 'guardian' });
    await waitFor('GuardianSidecar gone', () => !d.get(GROUP, 'guardiansidecars', OPERATOR_NS, 'guardian'));
    expect(d.get('', 'persistentvolumeclaims', OPERATOR_NS, 'helm-proofgraph-guardian')).toBeDefined();
  });

  it('no volume choice is an Error naming the field; emptyDir without the acknowledgement is refused by the CRD rule', async () => {
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    const noChoice = guardianSidecar('guardian', 'desk');
    delete (noChoice.spec as Record<string, unknown>).proofGraph;
    d.seed(GROUP, 'guardiansidecars', noChoice);
    // The API server evaluates the CRD's x-kubernetes-validations: 422 naming the field.
    expect(() => d.seed(GROUP, 'guardiansidecars', guardianSidecar('unacked', 'desk', { proofGraph: { emptyDir: {} } }))).toThrow(/spec\.proofGraph\.emptyDir\.acknowledgeEvidenceLoss must be true/);
    await waitFor('VolumeNotChosen', () => cond('guardian', 'ProofGraphVolume') === 'False/VolumeNotChosen');
    expect(sidecar('guardian')?.phase).toBe('Error');
  });

  it('a ClusterGuardianSidecar: bundle from policyBundleNamespace, PVCs in every selected namespace, its pods counted', async () => {
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('fleet', 'desk', { proofGraph: { storageClass: { name: 'nfs-rwx' } } }));
    const cstatus = () => (d.get(GROUP, 'clusterguardiansidecars', '', 'fleet') as GuardianSidecar | undefined)?.status;
    await waitFor('Ready', () => cstatus()?.phase === 'Ready');
    expect(d.get('', 'persistentvolumeclaims', 'agents-a', 'helm-proofgraph-cluster-fleet')).toBeDefined();
    expect(d.get('', 'persistentvolumeclaims', 'ungoverned', 'helm-proofgraph-cluster-fleet')).toBeUndefined();
    d.seed('', 'pods', pod('agents-a', 'p1', { guardian: 'ClusterGuardianSidecar/fleet' }));
    d.seed('', 'pods', pod('ungoverned', 'p2', { guardian: 'ClusterGuardianSidecar/fleet' }));
    await waitFor('1 pod', () => cstatus()?.injectedPodCount === 1);
  });

  it('a namespaceSelector stored on a GuardianSidecar is reported as ignored', async () => {
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    d.seed(GROUP, 'guardiansidecars', guardianSidecar('guardian', 'desk', { namespaceSelector: {} }));
    await waitFor('NamespaceSelectorIgnored', () => cond('guardian', 'NamespaceSelectorIgnored') === 'True/OwnNamespaceOnly');
    expect(sidecar('guardian')?.conditions?.find((c) => c.type === 'NamespaceSelectorIgnored')?.message).toMatch(/governs pods of namespace helm-system only/);
  });
});
