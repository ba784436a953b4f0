// Which namespaces a PolicyBundle governs: the namespace of each GuardianSidecar (in the bundle's
// namespace) that references it, and the namespaces selected by each ClusterGuardianSidecar that
// references it (spec.policyBundleNamespace). A ClusterGuardianSidecar without namespaceSelector
// selects the namespaces labelled helm.mindburn.org/governed=true. A namespaced GuardianSidecar's
// namespaceSelector is ignored. Terminating namespaces are skipped.
import { LABEL_GOVERNED, type GuardianSidecar, type LabelSelector, type PolicyBundle } from '../api/v1alpha1.js';
import type { KObject } from '../runtime/kube.js';
import { matchesSelector } from '../runtime/selectors.js';

export const DEFAULT_NAMESPACE_SELECTOR: LabelSelector = { matchLabels: { [LABEL_GOVERNED]: 'true' } };

export const isCluster = (gs: GuardianSidecar): boolean => gs.kind === 'ClusterGuardianSidecar' || !gs.metadata.namespace;

export function sidecarNamespaces(gs: GuardianSidecar, namespaces: readonly KObject[]): string[] {
  const live = namespaces.filter((n) => !n.metadata.deletionTimestamp);
  if (!isCluster(gs)) return live.filter((n) => n.metadata.name === gs.metadata.namespace).map((n) => n.metadata.name);
  const selector = gs.spec.namespaceSelector ?? DEFAULT_NAMESPACE_SELECTOR;
  return live.filter((n) => matchesSelector(selector, n.metadata.labels)).map((n) => n.metadata.name);
}

/** Namespace of the PolicyBundle a (Cluster)GuardianSidecar enforces. */
export const bundleNamespaceOf = (gs: GuardianSidecar): string | undefined => (isCluster(gs) ? gs.spec?.policyBundleNamespace : gs.metadata.namespace);

export function sidecarsFor(pb: PolicyBundle, sidecars: readonly KObject[]): GuardianSidecar[] {
  return (sidecars as unknown as GuardianSidecar[]).filter((gs) => bundleNamespaceOf(gs) === pb.metadata.namespace && gs.spec?.policyBundleRef === pb.metadata.name && !gs.metadata.deletionTimestamp);
}

export function governedNamespaces(pb: PolicyBundle, sidecars: readonly KObject[], namespaces: readonly KObject[]): string[] {
  const out = new Set<string>();
  for (const gs of sidecarsFor(pb, sidecars)) for (const n of sidecarNamespaces(gs, namespaces)) out.add(n);
  return [...out].sort();
}
