// The operator: informers (supervised list+watch caches) for PolicyBundles, GuardianSidecars,
// Namespaces, our distributed ConfigMaps and injected Pods; the two controllers; event handlers
// that map every change to the keys whose desired state it affects; and Lease leader election so
// that only one replica reconciles while every replica keeps warm caches.
import type { KubeConfig } from '@kubernetes/client-node';
import { nodeSuite } from '../kernel/crypto/node.js';
import type { CryptoSuite } from '../kernel/crypto/suite.js';
import type { BundleTrust } from '../kernel/guardian/index.js';
import { ANNOTATION_BUNDLE_SOURCE, ANNOTATION_GUARDIAN, LABEL_INJECTED, LABEL_MANAGED_BY, MANAGED_BY, type GuardianSidecar, type PolicyBundle } from './api/v1alpha1.js';
import { CLUSTER_GUARDIAN_SIDECARS_RT, GuardianSidecarReconciler, GUARDIAN_SIDECARS_RT } from './controllers/guardiansidecar.js';
import { PolicyBundleReconciler, POLICY_BUNDLES_RT } from './controllers/policybundle.js';
import { operatorMetrics, type OperatorMetrics } from './metrics.js';
import { Controller } from './runtime/controller.js';
import { EventRecorder } from './runtime/events.js';
import { Informer, objectKeyOf, type EventHandler, type InformerOptions } from './runtime/informer.js';
import { CONFIGMAPS, Kube, NAMESPACES, PERSISTENT_VOLUME_CLAIMS, PODS, type KObject } from './runtime/kube.js';
import { CLUSTER_GUARDIAN_PREFIX } from './webhook/constants.js';
import { LeaderElector } from './runtime/leader.js';
import { CollectorManager } from './fleet/collector-manager.js';
import type { CollectorSettings } from './fleet/collector-settings.js';

export type Logger = (msg: string, ctx?: Record<string, unknown>) => void;

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  /** The operator's own namespace: where its Lease lives. */
  namespace: string;
  /** This replica's identity in the Lease (the pod name in a cluster). */
  identity: string;
  trust: BundleTrust;
  suite?: CryptoSuite;
  /** Watch PolicyBundles and GuardianSidecars in one namespace only (default: all). */
  watchNamespace?: string;
  leaderElection?: false | { leaseName: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  source?: { allowHttp?: boolean; timeoutMs?: number; maxBytes?: number; fetch?: typeof globalThis.fetch };
  /** Re-read period for sourceUrl / configMapRef bundles without refreshInterval (default 5 min). */
  defaultRefreshMs?: number;
  informer?: Pick<InformerOptions, 'silenceMs' | 'watchTimeoutSeconds' | 'backoffBaseMs' | 'backoffMaxMs'>;
  queue?: { baseDelayMs?: number; maxDelayMs?: number; maxConcurrency?: number };
  metrics?: OperatorMetrics;
  log?: Logger;
  now?: () => number;
  /** Deploy and watch the fleet collector (operator/fleet/, docs/fleet.md). */
  collector?: CollectorSettings;
}

export const CONTROLLER_NAME = 'helm.mindburn.org/operator';
export const DEFAULT_MAX_SOURCE_BYTES = 4 * 1024 * 1024;

export class Operator {
  readonly kube: Kube;
  readonly bundles: Informer;
  readonly sidecars: Informer;
  /** ClusterGuardianSidecars (cluster-scoped, so never limited by watchNamespace). */
  readonly clusterSidecars: Informer;
  readonly namespaces: Informer;
  readonly copies: Informer;
  readonly pods: Informer;
  /** ProofGraph PVCs the operator made (proofGraph.storageClass). */
  readonly claims: Informer;
  readonly bundleController: Controller;
  readonly sidecarController: Controller;
  readonly clusterSidecarController: Controller;
  readonly collector: CollectorManager | undefined;
  private readonly elector: LeaderElector | undefined;
  private readonly log: Logger;
  private started = false;

  constructor(o: OperatorOptions) {
    this.kube = new Kube(o.kubeConfig);
    const metrics = o.metrics ?? operatorMetrics();
    this.log = o.log ?? (() => undefined);
    const inf: InformerOptions = { ...o.informer, metrics, log: this.log };
    const scoped = o.watchNamespace ? { namespace: o.watchNamespace } : {};
    this.bundles = new Informer(this.kube, POLICY_BUNDLES_RT, { ...inf, ...scoped });
    this.sidecars = new Informer(this.kube, GUARDIAN_SIDECARS_RT, { ...inf, ...scoped });
    this.clusterSidecars = new Informer(this.kube, CLUSTER_GUARDIAN_SIDECARS_RT, inf);
    this.namespaces = new Informer(this.kube, NAMESPACES, inf);
    this.copies = new Informer(this.kube, CONFIGMAPS, { ...inf, labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` });
    this.pods = new Informer(this.kube, PODS, { ...inf, labelSelector: `${LABEL_INJECTED}=true` });
    this.claims = new Informer(this.kube, PERSISTENT_VOLUME_CLAIMS, { ...inf, labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` });
    const recorder = new EventRecorder(this.kube, { controller: CONTROLLER_NAME, instance: o.identity, log: this.log });
    const now = o.now ?? Date.now;
    const ctl = { ...o.queue, metrics, log: this.log };
    this.bundleController = new Controller(
      new PolicyBundleReconciler({
        kube: this.kube,
        bundles: this.bundles,
        sidecars: this.sidecars,
        clusterSidecars: this.clusterSidecars,
        namespaces: this.namespaces,
        copies: this.copies,
        trust: o.trust,
        suite: o.suite ?? nodeSuite,
        recorder,
        source: { allowHttp: o.source?.allowHttp ?? false, timeoutMs: o.source?.timeoutMs ?? 10_000, maxBytes: o.source?.maxBytes ?? DEFAULT_MAX_SOURCE_BYTES, fetch: o.source?.fetch ?? globalThis.fetch },
        defaultRefreshMs: o.defaultRefreshMs ?? 5 * 60_000,
        enqueueBundle: (k) => this.bundleController.enqueue(k),
        now,
        metrics,
        log: this.log,
      }),
      ctl,
    );
    this.collector = o.collector && new CollectorManager(this.kube, o.collector, { onChange: () => this.enqueueAllSidecars(), now, log: this.log });
    const sidecarDeps = { kube: this.kube, bundles: this.bundles, pods: this.pods, namespaces: this.namespaces, claims: this.claims, recorder, now, metrics, ...(this.collector ? { collector: this.collector } : {}) };
    this.sidecarController = new Controller(new GuardianSidecarReconciler({ ...sidecarDeps, sidecars: this.sidecars }), ctl);
    this.clusterSidecarController = new Controller(new GuardianSidecarReconciler({ ...sidecarDeps, sidecars: this.clusterSidecars, cluster: true }), ctl);
    this.wire();
    const le = o.leaderElection;
    this.elector = le
      ? new LeaderElector(this.kube, {
          namespace: o.namespace,
          name: le.leaseName,
          identity: o.identity,
          ...(le.leaseDurationMs !== undefined ? { leaseDurationMs: le.leaseDurationMs } : {}),
          ...(le.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
          ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
          onStartedLeading: () => this.startControllers(),
          onStoppedLeading: () => this.stopControllers(),
          metrics,
          log: this.log,
        })
      : undefined;
  }

  /** Every change is mapped to the keys whose desired state depends on it. */
  private wire(): void {
    const on = (inf: Informer, fn: (o: KObject) => void): void => {
      const h: EventHandler = { add: fn, update: (old, o) => (fn(old), fn(o)), delete: fn };
      inf.addHandler(h);
    };
    const bundle = (k: string): void => this.bundleController.enqueue(k);
    const sidecar = (k: string): void => this.sidecarController.enqueue(k);
    const clusterSidecar = (k: string): void => this.clusterSidecarController.enqueue(k);
    /** A pod or claim annotation: "<ns>/<name>" or "ClusterGuardianSidecar/<name>". */
    const owner = (ref: string): void => (ref.startsWith(CLUSTER_GUARDIAN_PREFIX) ? clusterSidecar(ref.slice(CLUSTER_GUARDIAN_PREFIX.length)) : sidecar(ref));
    const sidecarsOfBundle = (pb: KObject): void => {
      for (const gs of this.sidecars.list() as unknown as GuardianSidecar[]) {
        if (gs.metadata.namespace === pb.metadata.namespace && gs.spec?.policyBundleRef === pb.metadata.name) sidecar(objectKeyOf(gs));
      }
      for (const cgs of this.clusterSidecars.list() as unknown as GuardianSidecar[]) {
        if (cgs.spec?.policyBundleNamespace === pb.metadata.namespace && cgs.spec?.policyBundleRef === pb.metadata.name) clusterSidecar(cgs.metadata.name);
      }
    };
    on(this.bundles, (pb) => {
      bundle(objectKeyOf(pb));
      const id = (pb as unknown as PolicyBundle).spec?.bundleId;
      for (const s of this.bundles.list() as unknown as PolicyBundle[]) if (s.spec?.bundleId === id) bundle(objectKeyOf(s));
      sidecarsOfBundle(pb);
    });
    on(this.sidecars, (gs) => {
      sidecar(objectKeyOf(gs));
      const ref = (gs as unknown as GuardianSidecar).spec?.policyBundleRef;
      if (ref && gs.metadata.namespace) bundle(`${gs.metadata.namespace}/${ref}`);
    });
    on(this.clusterSidecars, (cgs) => {
      clusterSidecar(cgs.metadata.name);
      const spec = (cgs as unknown as GuardianSidecar).spec;
      if (spec?.policyBundleRef && spec.policyBundleNamespace) bundle(`${spec.policyBundleNamespace}/${spec.policyBundleRef}`);
    });
    on(this.namespaces, () => {
      for (const pb of this.bundles.list()) bundle(objectKeyOf(pb));
      for (const gs of this.sidecars.list()) sidecar(objectKeyOf(gs));
      for (const cgs of this.clusterSidecars.list()) clusterSidecar(cgs.metadata.name);
    });
    on(this.copies, (cm) => {
      const src = cm.metadata.annotations?.[ANNOTATION_BUNDLE_SOURCE];
      if (src) bundle(src);
    });
    on(this.pods, (pod) => {
      const ref = pod.metadata.annotations?.[ANNOTATION_GUARDIAN];
      if (ref) owner(ref);
    });
    on(this.claims, (claim) => {
      const ref = claim.metadata.annotations?.[ANNOTATION_GUARDIAN];
      if (ref) owner(ref);
    });
  }

  private enqueueAllSidecars(): void {
    for (const gs of this.sidecars.list()) this.sidecarController.enqueue(objectKeyOf(gs));
    for (const cgs of this.clusterSidecars.list()) this.clusterSidecarController.enqueue(cgs.metadata.name);
  }

  private informers(): Informer[] {
    return [this.bundles, this.sidecars, this.clusterSidecars, this.namespaces, this.copies, this.pods, this.claims];
  }

  private startControllers(): void {
    this.bundleController.start(this.bundles.list().map(objectKeyOf));
    this.sidecarController.start(this.sidecars.list().map(objectKeyOf));
    this.clusterSidecarController.start(this.clusterSidecars.list().map(objectKeyOf));
    this.collector?.start();
  }

  private async stopControllers(): Promise<void> {
    await Promise.all([this.bundleController.stop(), this.sidecarController.stop(), this.clusterSidecarController.stop(), this.collector?.stop()]);
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : this.started;
  }

  /** Starts the caches, waits until they have listed once, then campaigns (or starts at once). */
  async start(): Promise<void> {
    for (const i of this.informers()) i.start();
    await Promise.all(this.informers().map((i) => i.synced));
    this.started = true;
    if (this.elector) this.elector.start();
    else this.startControllers();
  }

  /** Finishes in-flight reconciles, releases the Lease, stops the caches. */
  async stop(): Promise<void> {
    if (this.elector) await this.elector.stop();
    else await this.stopControllers();
    await Promise.all(this.informers().map((i) => i.stop()));
    this.started = false;
  }
}
