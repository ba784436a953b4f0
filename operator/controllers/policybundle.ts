// PolicyBundle reconciler. From the spec alone: resolve the bundle text, verify its contentHash and
// signature against the operator's trust roots (and lint it, as the sidecar will), then either
// distribute it to every governed namespace as ConfigMap helm-policy-<bundleId> (bundle.json +
// signature.json; sidecars verify again) or remove this bundle's copies (fail closed). spec.bundleId
// and spec.version must be the signed content's. Among the bundles of one namespace sharing a
// bundleId only the newest verified one is distributed; the others are Superseded. A bundle only
// writes and deletes ConfigMaps it owns (annotations source + source-uid): a ConfigMap of another
// live bundle, or one the operator did not make, is left alone and reported (DistributionConflict).
// A finalizer removes the copies before the PolicyBundle goes away.
import { isDeepStrictEqual } from 'node:util';
import type { CryptoSuite } from '../../kernel/crypto/suite.js';
import type { BundleTrust } from '../../kernel/guardian/index.js';
import {
  ANNOTATION_BUNDLE_SOURCE,
  ANNOTATION_BUNDLE_UID,
  ANNOTATION_BUNDLE_VERSION,
  ANNOTATION_CONTENT_HASH,
  API_VERSION,
  BUNDLE_FILE,
  BUNDLE_FINALIZER,
  FIELD_MANAGER,
  LABEL_BUNDLE_ID,
  LABEL_MANAGED_BY,
  MANAGED_BY,
  POLICY_BUNDLES,
  SIGNATURE_FILE,
  bundleIdLabel,
  distributedConfigMapName,
  type BundlePhase,
  type Condition,
  type PolicyBundle,
  type PolicyBundleStatus,
} from '../api/v1alpha1.js';
import type { OperatorMetrics } from '../metrics.js';
import { metaTime, setCondition } from '../runtime/conditions.js';
import type { ReconcileOutcome, Reconciler } from '../runtime/controller.js';
import { OperatorError, apiStatus, isNotFound } from '../runtime/errors.js';
import type { EventRecorder } from '../runtime/events.js';
import type { Informer } from '../runtime/informer.js';
import { CONFIGMAPS, type KObject, type Kube } from '../runtime/kube.js';
import { parseDuration } from '../runtime/duration.js';
import { resolveSource, type SourceOptions } from './bundle-source.js';
import { precheckSignature, verifyContent, type Rejected, type Verified } from './bundle-verify.js';
import { governedNamespaces } from './governed.js';

export interface PolicyBundleDeps {
  kube: Kube;
  bundles: Informer;
  sidecars: Informer;
  clusterSidecars?: Informer;
  namespaces: Informer;
  /** ConfigMaps labelled app.kubernetes.io/managed-by=helm-operator, in every namespace. */
  copies: Informer;
  trust: BundleTrust;
  suite: CryptoSuite;
  recorder: EventRecorder;
  source: Omit<SourceOptions, 'getConfigMap'>;
  /** Re-read period for sourceUrl / configMapRef bundles without refreshInterval. */
  defaultRefreshMs: number;
  enqueueBundle(key: string): void;
  now(): number;
  metrics?: OperatorMetrics;
  log?: (msg: string, ctx?: Record<string, unknown>) => void;
}

type Outcome = Verified | (Rejected & { transient?: boolean });

const splitKey = (key: string): [string, string] => {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
};

const keyOf = (o: { metadata: { namespace?: string; name: string } }): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** A sibling counts as verified when its status vouches for its current spec. */
function vouched(pb: PolicyBundle): boolean {
  const s = pb.status;
  return !pb.metadata.deletionTimestamp && s?.verifiedHash === pb.spec.contentHash && s.observedGeneration === pb.metadata.generation && (s.phase === 'Active' || s.phase === 'Superseded');
}

/** Newer version wins; then the older object; then the smaller namespace/name. */
function outranks(a: PolicyBundle, b: PolicyBundle): boolean {
  if (a.spec.version !== b.spec.version) return a.spec.version > b.spec.version;
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb;
  return keyOf(a) < keyOf(b);
}

export class PolicyBundleReconciler implements Reconciler {
  readonly kind = 'PolicyBundle';

  constructor(private readonly d: PolicyBundleDeps) {}

  private log(msg: string, ctx: Record<string, unknown> = {}): void {
    this.d.log?.(msg, { kind: this.kind, ...ctx });
  }

  /** Bundles of the same namespace and bundleId: supersession never crosses namespaces. */
  private siblings(pb: PolicyBundle): PolicyBundle[] {
    return (this.d.bundles.list() as unknown as PolicyBundle[]).filter(
      (o) => o.metadata.namespace === pb.metadata.namespace && o.spec?.bundleId === pb.spec.bundleId && keyOf(o) !== keyOf(pb),
    );
  }

  /**
   * Who else holds the ConfigMap this bundle would write in namespace: a live PolicyBundle (by uid),
   * or something the operator did not make. undefined when it is free or ours.
   */
  private async holder(pb: PolicyBundle, namespace: string): Promise<string | undefined> {
    const name = distributedConfigMapName(pb.spec.bundleId);
    const cached = this.d.copies.get(namespace, name);
    if (cached) {
      const uid = cached.metadata.annotations?.[ANNOTATION_BUNDLE_UID];
      if (!uid || uid === pb.metadata.uid) return undefined;
      const owner = (this.d.bundles.list() as unknown as PolicyBundle[]).find((b) => b.metadata.uid === uid && !b.metadata.deletionTimestamp);
      // A sibling (same namespace and bundleId) is settled by supersession: the winner takes over.
      if (!owner || (owner.metadata.namespace === pb.metadata.namespace && owner.spec?.bundleId === pb.spec.bundleId)) return undefined;
      return `PolicyBundle ${keyOf(owner)}`;
    }
    try {
      const found = await this.d.kube.get(CONFIGMAPS, namespace, name);
      return found.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY ? undefined : 'a ConfigMap the operator did not create';
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private enqueueSiblings(pb: PolicyBundle): void {
    for (const s of this.siblings(pb)) this.d.enqueueBundle(keyOf(s));
  }

  /** Copies this bundle object distributed (by uid, so a re-created namesake does not inherit them). */
  private ownCopies(key: string, uid: string | undefined): KObject[] {
    return this.d.copies.list().filter((cm) => cm.metadata.annotations?.[ANNOTATION_BUNDLE_SOURCE] === key && (uid === undefined || cm.metadata.annotations?.[ANNOTATION_BUNDLE_UID] === uid));
  }

  private async deleteCopies(copies: KObject[], keep: ReadonlySet<string> = new Set()): Promise<number> {
    let n = 0;
    for (const cm of copies) {
      if (keep.has(cm.metadata.namespace ?? '')) continue;
      try {
        // Preconditioned: if another bundle took the ConfigMap over meanwhile, 409 and re-read.
        await this.d.kube.delete(CONFIGMAPS, cm.metadata.namespace ?? '', cm.metadata.name, { uid: cm.metadata.uid, resourceVersion: cm.metadata.resourceVersion });
        n++;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    return n;
  }

  async reconcile(key: string): Promise<ReconcileOutcome | void> {
    const [ns, name] = splitKey(key);
    const cached = this.d.bundles.get(ns, name) as unknown as PolicyBundle | undefined;
    if (!cached) {
      // Gone without our finalizer (or it was removed by hand): sweep what it left behind.
      const orphans = this.ownCopies(key, undefined);
      const ids = new Set(orphans.map((cm) => cm.metadata.labels?.[LABEL_BUNDLE_ID]));
      await this.deleteCopies(orphans);
      for (const b of this.d.bundles.list() as unknown as PolicyBundle[]) if (ids.has(bundleIdLabel(b.spec.bundleId))) this.d.enqueueBundle(keyOf(b));
      this.d.metrics?.bundlePhase(ns, name, null);
      return;
    }
    let pb = cached;
    if (pb.metadata.deletionTimestamp) return this.finalize(key, pb);
    if (!(pb.metadata.finalizers ?? []).includes(BUNDLE_FINALIZER)) {
      pb = (await this.d.kube.mergePatch(POLICY_BUNDLES_RT, ns, name, {
        metadata: { finalizers: [...(pb.metadata.finalizers ?? []), BUNDLE_FINALIZER], resourceVersion: pb.metadata.resourceVersion },
      })) as unknown as PolicyBundle;
    }
    const outcome = await this.verify(pb);
    const refreshMs = this.refreshMs(pb);
    if (!outcome.ok) {
      const removed = await this.deleteCopies(this.ownCopies(key, pb.metadata.uid));
      await this.writeStatus(pb, 'Failed', outcome);
      if (removed > 0 || pb.status?.phase !== 'Failed' || pb.status?.conditions?.find((c) => c.type === 'Ready')?.reason !== outcome.reason) {
        await this.d.recorder.record(pb as unknown as KObject, 'Warning', outcome.reason, 'Verify', outcome.message);
      }
      this.enqueueSiblings(pb);
      if (outcome.transient) throw new OperatorError('ERR_BUNDLE_SOURCE', outcome.message, { bundle: key, reason: outcome.reason });
      return refreshMs === null ? undefined : { requeueAfterMs: refreshMs };
    }
    const rivals = this.siblings(pb).filter(vouched);
    const winner = rivals.find((r) => outranks(r, pb));
    if (winner) {
      await this.deleteCopies(this.ownCopies(key, pb.metadata.uid));
      await this.writeStatus(pb, 'Superseded', outcome, `superseded by ${keyOf(winner)} (version ${winner.spec.version})`);
      return refreshMs === null ? undefined : { requeueAfterMs: refreshMs };
    }
    const governed = governedNamespaces(pb, [...this.d.sidecars.list(), ...(this.d.clusterSidecars?.list() ?? [])], this.d.namespaces.list());
    const targets: string[] = [];
    const conflicts: string[] = [];
    for (const ns of governed) {
      const holder = await this.holder(pb, ns);
      if (holder) conflicts.push(`${ns}/${distributedConfigMapName(pb.spec.bundleId)} belongs to ${holder}`);
      else targets.push(ns);
    }
    let changed = 0;
    try {
      for (const target of targets) if (await this.distribute(pb, outcome, target)) changed++;
    } catch (e) {
      const s = apiStatus(e);
      if (s?.code === 422 || s?.code === 413) {
        await this.writeStatus(pb, 'Failed', { ok: false, reason: 'DistributionFailed', message: `the API server refused the bundle ConfigMap: ${s.message}`, signature: 'verified' });
        await this.d.recorder.record(pb as unknown as KObject, 'Warning', 'DistributionFailed', 'Distribute', s.message);
        return;
      }
      throw e;
    }
    const removed = await this.deleteCopies(this.ownCopies(key, pb.metadata.uid), new Set(targets));
    const conflict = conflicts.length > 0 ? `; not distributed where the ConfigMap is not ours: ${conflicts.join('; ')}` : '';
    await this.writeStatus(pb, 'Active', outcome, `distributed to ${targets.length} namespace${targets.length === 1 ? '' : 's'}${conflict}`, conflicts);
    if (conflicts.length > 0) await this.d.recorder.record(pb as unknown as KObject, 'Warning', 'DistributionConflict', 'Distribute', conflicts.join('; '));
    if (changed > 0 || removed > 0) {
      await this.d.recorder.record(pb as unknown as KObject, 'Normal', 'Distributed', 'Distribute', `bundle ${pb.spec.bundleId} v${pb.spec.version} (${pb.spec.contentHash}) in ${targets.length} namespace(s): ${changed} written, ${removed} removed`);
    }
    for (const r of this.siblings(pb)) if (r.status?.phase === 'Active') this.d.enqueueBundle(keyOf(r));
    return refreshMs === null ? undefined : { requeueAfterMs: refreshMs };
  }

  private refreshMs(pb: PolicyBundle): number | null {
    if (pb.spec.inline !== undefined) return null;
    if (!pb.spec.refreshInterval) return this.d.defaultRefreshMs;
    try {
      return parseDuration(pb.spec.refreshInterval);
    } catch {
      return this.d.defaultRefreshMs;
    }
  }

  private async verify(pb: PolicyBundle): Promise<Outcome> {
    const pre = precheckSignature(pb.spec);
    if (pre) return pre;
    const src = await resolveSource(pb, { ...this.d.source, getConfigMap: (ns, n) => this.d.kube.get(CONFIGMAPS, ns, n) });
    if (!src.ok) return { ok: false, reason: src.reason, message: src.message, signature: 'unchecked', transient: src.transient };
    return verifyContent(src.text, pb.spec, this.d.trust, this.d.suite);
  }

  /** Applies the ConfigMap in one namespace unless the cached copy already says the same. */
  private async distribute(pb: PolicyBundle, v: Verified, namespace: string): Promise<boolean> {
    const name = distributedConfigMapName(pb.spec.bundleId);
    const annotations = {
      [ANNOTATION_BUNDLE_SOURCE]: keyOf(pb),
      [ANNOTATION_BUNDLE_UID]: pb.metadata.uid ?? '',
      [ANNOTATION_CONTENT_HASH]: v.contentHash,
      [ANNOTATION_BUNDLE_VERSION]: String(pb.spec.version),
    };
    const labels = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_BUNDLE_ID]: bundleIdLabel(pb.spec.bundleId) };
    const data = { [BUNDLE_FILE]: v.canonicalText, [SIGNATURE_FILE]: `${JSON.stringify(v.signature, null, 2)}\n` };
    const existing = this.d.copies.get(namespace, name);
    if (existing && isDeepStrictEqual(existing.data, data) && Object.entries(annotations).every(([k, val]) => existing.metadata.annotations?.[k] === val) && Object.entries(labels).every(([k, val]) => existing.metadata.labels?.[k] === val)) {
      return false;
    }
    await this.d.kube.apply(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels, annotations }, data }, { fieldManager: FIELD_MANAGER, force: true });
    return true;
  }

  private async writeStatus(pb: PolicyBundle, phase: BundlePhase, outcome: Outcome, detail?: string, conflicts: string[] = []): Promise<void> {
    const now = metaTime(this.d.now());
    const gen = pb.metadata.generation;
    const prev = pb.status ?? {};
    let conditions: Condition[] = prev.conditions ?? [];
    const sig = outcome.ok ? 'verified' : outcome.signature;
    conditions = setCondition(
      conditions,
      {
        type: 'SignatureVerified',
        status: sig === 'verified' ? 'True' : sig === 'failed' ? 'False' : 'Unknown',
        observedGeneration: gen,
        reason: sig === 'verified' ? 'Verified' : outcome.ok ? 'Verified' : outcome.reason,
        message: sig === 'verified' ? `signed by ${pb.spec.signerKeyId} over ${pb.spec.contentHash}` : outcome.ok ? '' : outcome.message,
      },
      now,
    );
    const ready = phase === 'Active';
    const readyReason = phase === 'Active' ? 'Distributed' : phase === 'Superseded' ? 'Superseded' : outcome.ok ? 'Failed' : outcome.reason;
    const message = outcome.ok ? (detail ?? '') : outcome.message;
    conditions = setCondition(conditions, { type: 'Ready', status: ready ? 'True' : 'False', observedGeneration: gen, reason: readyReason, message }, now);
    // Shown once there was a conflict; cleared (False) when it is gone.
    if (conflicts.length > 0 || conditions.some((c) => c.type === 'DistributionConflict')) {
      conditions = setCondition(
        conditions,
        conflicts.length > 0
          ? { type: 'DistributionConflict', status: 'True', observedGeneration: gen, reason: 'ConfigMapNotOwned', message: `${conflicts.join('; ')}: rename one bundleId, or delete the other ConfigMap` }
          : { type: 'DistributionConflict', status: 'False', observedGeneration: gen, reason: 'NoConflict', message: '' },
        now,
      );
    }
    const status: PolicyBundleStatus = { phase, conditions, message };
    if (gen !== undefined) status.observedGeneration = gen;
    if (outcome.ok) {
      status.verifiedHash = outcome.contentHash;
      status.loadedAt = prev.verifiedHash === outcome.contentHash && prev.loadedAt ? prev.loadedAt : now;
    }
    if (phase === 'Failed') status.errorMessage = message;
    this.d.metrics?.bundlePhase(pb.metadata.namespace ?? '', pb.metadata.name, phase);
    if (isDeepStrictEqual(prev, status)) return;
    await this.d.kube.apply(
      POLICY_BUNDLES_RT,
      { apiVersion: API_VERSION, kind: 'PolicyBundle', metadata: { name: pb.metadata.name, namespace: pb.metadata.namespace ?? '', resourceVersion: pb.metadata.resourceVersion ?? '' }, status },
      { fieldManager: FIELD_MANAGER, force: true, status: true },
    );
  }

  private async finalize(key: string, pb: PolicyBundle): Promise<void> {
    const removed = await this.deleteCopies(this.ownCopies(key, pb.metadata.uid));
    this.log('bundle deleted; copies removed', { bundle: key, removed });
    const finalizers = pb.metadata.finalizers ?? [];
    if (finalizers.includes(BUNDLE_FINALIZER)) {
      try {
        await this.d.kube.mergePatch(POLICY_BUNDLES_RT, pb.metadata.namespace ?? '', pb.metadata.name, {
          metadata: { finalizers: finalizers.filter((f) => f !== BUNDLE_FINALIZER), resourceVersion: pb.metadata.resourceVersion },
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    this.d.metrics?.bundlePhase(pb.metadata.namespace ?? '', pb.metadata.name, null);
    this.enqueueSiblings(pb);
  }
}

export const POLICY_BUNDLES_RT = { ...POLICY_BUNDLES, namespaced: true };
