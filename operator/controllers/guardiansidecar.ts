// GuardianSidecar (and ClusterGuardianSidecar) reconciler: checks that the referenced PolicyBundle
// exists and is Active for its current generation, that the selectors are usable, makes the
// ProofGraph volume it chose (ProofGraphVolume condition), and counts the running pods the webhook
// injected for it (label helm.mindburn.org/injected=true and annotation
// helm.mindburn.org/guardian-sidecar=<namespace>/<name> or ClusterGuardianSidecar/<name>, in a
// namespace it governs, still matching the pod selector).
// Phase: Error (cannot govern), Injecting (injected pods not all Ready yet), Ready.
import { isDeepStrictEqual } from 'node:util';
import {
  ANNOTATION_GUARDIAN,
  API_VERSION,
  CLUSTER_GUARDIAN_SIDECARS,
  FIELD_MANAGER,
  GUARDIAN_SIDECARS,
  guardianRef,
  type Condition,
  type GuardianSidecar,
  type GuardianSidecarStatus,
  type PolicyBundle,
  type SidecarPhase,
} from '../api/v1alpha1.js';
import type { OperatorMetrics } from '../metrics.js';
import { findCondition, metaTime, setCondition } from '../runtime/conditions.js';
import type { ReconcileOutcome, Reconciler } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import type { Informer } from '../runtime/informer.js';
import type { KObject, Kube } from '../runtime/kube.js';
import { matchesSelector, selectorProblems } from '../runtime/selectors.js';
import { guardianRefOf, guardianView } from '../webhook/guardian.js';
import { bundleNamespaceOf, sidecarNamespaces } from './governed.js';
import { ensureProofGraphVolume, type VolumeCondition } from './proofgraph-volume.js';
import type { CollectorManager } from '../fleet/collector-manager.js';
import { shippingCondition } from '../fleet/shipping.js';

export interface GuardianSidecarDeps {
  kube: Kube;
  /** GuardianSidecars, or ClusterGuardianSidecars when cluster is true. */
  sidecars: Informer;
  cluster?: boolean;
  /** PVCs labelled app.kubernetes.io/managed-by=helm-operator (proofGraph.storageClass). */
  claims?: Informer;
  bundles: Informer;
  /** Pods labelled helm.mindburn.org/injected=true, in every namespace. */
  pods: Informer;
  namespaces: Informer;
  recorder: EventRecorder;
  now(): number;
  metrics?: OperatorMetrics;
  /** The operator-managed fleet collector (spec.shipping's Shipping condition). */
  collector?: CollectorManager;
}

export const GUARDIAN_SIDECARS_RT = { ...GUARDIAN_SIDECARS, namespaced: true };
export const CLUSTER_GUARDIAN_SIDECARS_RT = { ...CLUSTER_GUARDIAN_SIDECARS, namespaced: false };

interface PodLike extends KObject {
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

function podReady(p: PodLike): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export class GuardianSidecarReconciler implements Reconciler {
  readonly kind: 'GuardianSidecar' | 'ClusterGuardianSidecar';

  constructor(private readonly d: GuardianSidecarDeps) {
    this.kind = d.cluster ? 'ClusterGuardianSidecar' : 'GuardianSidecar';
  }

  /** The injected, live pods that belong to this GuardianSidecar. */
  injectedPods(gs: GuardianSidecar): PodLike[] {
    const ref = this.d.cluster ? guardianRefOf('ClusterGuardianSidecar', '', gs.metadata.name) : guardianRef(gs.metadata.namespace ?? '', gs.metadata.name);
    const governed = new Set(sidecarNamespaces(gs, this.d.namespaces.list()));
    return (this.d.pods.list() as PodLike[]).filter(
      (p) =>
        p.metadata.annotations?.[ANNOTATION_GUARDIAN] === ref &&
        !p.metadata.deletionTimestamp &&
        p.status?.phase !== 'Succeeded' &&
        p.status?.phase !== 'Failed' &&
        governed.has(p.metadata.namespace ?? '') &&
        (gs.spec.podSelector === undefined || matchesSelector(gs.spec.podSelector, p.metadata.labels)),
    );
  }

  private async volume(gs: GuardianSidecar, ref: string): Promise<VolumeCondition> {
    let view;
    try {
      view = guardianView({ ...gs, kind: this.kind });
    } catch (e) {
      return { type: 'ProofGraphVolume', status: 'False', reason: 'SpecInvalid', message: (e as Error).message };
    }
    if (view.proofGraph.kind === 'storageClass' && !this.d.claims) return { type: 'ProofGraphVolume', status: 'False', reason: 'ClaimFailed', message: 'the operator does not manage PersistentVolumeClaims' };
    return ensureProofGraphVolume(view.proofGraph, ref, sidecarNamespaces(gs, this.d.namespaces.list()), this.d.claims!, this.d.kube);
  }

  async reconcile(key: string): Promise<ReconcileOutcome | void> {
    const i = key.indexOf('/');
    const ns = i < 0 ? '' : key.slice(0, i);
    const name = key.slice(i + 1);
    const gs = this.d.sidecars.get(ns || undefined, name) as unknown as GuardianSidecar | undefined;
    if (!gs) {
      this.d.metrics?.injectedPods(ns, name, -1);
      return;
    }
    if (gs.metadata.deletionTimestamp) return;
    const now = metaTime(this.d.now());
    const gen = gs.metadata.generation;
    const problems = [...selectorProblems(gs.spec.namespaceSelector, 'spec.namespaceSelector'), ...selectorProblems(gs.spec.podSelector, 'spec.podSelector')];
    const bundleNs = bundleNamespaceOf({ ...gs, kind: this.kind }) ?? '';
    const bundle = this.d.bundles.get(bundleNs, gs.spec.policyBundleRef) as unknown as PolicyBundle | undefined;
    const volumeCond = await this.volume(gs, this.d.cluster ? guardianRefOf('ClusterGuardianSidecar', '', name) : guardianRef(ns, name));
    let bundleCond: Omit<Condition, 'lastTransitionTime'>;
    if (!bundle) {
      bundleCond = { type: 'BundleReady', status: 'False', observedGeneration: gen, reason: 'BundleNotFound', message: `PolicyBundle ${bundleNs}/${gs.spec.policyBundleRef} not found` };
    } else if (bundle.status?.phase !== 'Active' || bundle.status.observedGeneration !== bundle.metadata.generation || bundle.metadata.deletionTimestamp) {
      const why = findCondition(bundle.status?.conditions, 'Ready');
      bundleCond = {
        type: 'BundleReady',
        status: 'False',
        observedGeneration: gen,
        reason: 'BundleNotActive',
        message: `PolicyBundle ${bundleNs}/${gs.spec.policyBundleRef} is ${bundle.status?.phase ?? 'Pending'}${why ? ` (${why.reason}: ${why.message})` : ''}`,
      };
    } else {
      bundleCond = { type: 'BundleReady', status: 'True', observedGeneration: gen, reason: 'BundleActive', message: `PolicyBundle ${bundleNs}/${gs.spec.policyBundleRef} is Active (${bundle.status.verifiedHash ?? ''})` };
    }
    const pods = this.injectedPods(gs);
    const notReady = pods.filter((p) => !podReady(p)).length;
    let phase: SidecarPhase;
    let reason: string;
    let message: string;
    if (problems.length > 0) {
      phase = 'Error';
      reason = 'InvalidSelector';
      message = problems.join('; ');
    } else if (bundleCond.status !== 'True') {
      phase = 'Error';
      reason = bundleCond.reason;
      message = bundleCond.message;
    } else if (volumeCond.status !== 'True') {
      phase = 'Error';
      reason = volumeCond.reason;
      message = volumeCond.message;
    } else if (notReady > 0) {
      phase = 'Injecting';
      reason = 'PodsStarting';
      message = `${notReady} of ${pods.length} injected pods are not Ready`;
    } else {
      phase = 'Ready';
      reason = 'Ready';
      message = `${pods.length} injected pod${pods.length === 1 ? '' : 's'}`;
    }
    let conditions = setCondition(gs.status?.conditions, bundleCond, now);
    conditions = setCondition(conditions, { ...volumeCond, observedGeneration: gen }, now);
    const shipCond = shippingCondition(gs.spec, this.d.collector && { settings: this.d.collector.settings, state: this.d.collector.current }, { ...(this.d.cluster ? {} : { namespace: ns }), nowMs: this.d.now() });
    if (shipCond) conditions = setCondition(conditions, { ...shipCond, observedGeneration: gen }, now);
    if (!this.d.cluster && gs.spec.namespaceSelector !== undefined) {
      // Stored before the webhook refused it: say that it has no effect.
      conditions = setCondition(
        conditions,
        {
          type: 'NamespaceSelectorIgnored',
          status: 'True',
          observedGeneration: gen,
          reason: 'OwnNamespaceOnly',
          message: `spec.namespaceSelector is ignored: a GuardianSidecar governs pods of namespace ${ns} only; remove it, or use a ClusterGuardianSidecar`,
        },
        now,
      );
    }
    conditions = setCondition(conditions, { type: 'Ready', status: phase === 'Ready' ? 'True' : 'False', observedGeneration: gen, reason, message }, now);
    const status: GuardianSidecarStatus = { phase, injectedPodCount: pods.length, conditions };
    if (gen !== undefined) status.observedGeneration = gen;
    this.d.metrics?.injectedPods(ns, name, pods.length);
    const prev = gs.status ?? {};
    if (isDeepStrictEqual(prev, status)) return;
    if (phase === 'Error' && prev.phase !== 'Error') await this.d.recorder.record(gs as unknown as KObject, 'Warning', reason, 'Validate', message);
    await this.d.kube.apply(
      this.d.cluster ? CLUSTER_GUARDIAN_SIDECARS_RT : GUARDIAN_SIDECARS_RT,
      {
        apiVersion: API_VERSION,
        kind: this.kind,
        metadata: { name, ...(this.d.cluster ? {} : { namespace: ns }), resourceVersion: gs.metadata.resourceVersion ?? '' },
        status,
      },
      { fieldManager: FIELD_MANAGER, force: true, status: true },
    );
  }
}
