// Which namespaces a PolicyBundle governs: those selected by the GuardianSidecars (in the
// bundle's namespace) that reference it. A GuardianSidecar without namespaceSelector governs the
// namespaces labelled helm.mindburn.org/governed=true. Terminating namespaces are skipped.
import { LABEL_GOVERNED, type GuardianSidecar, type LabelSelector, type PolicyBundle } from '../api/v1alpha1.js';
import type { KObject } from '../runtime/kube.js';
import { matchesSelector } from '../runtime/selectors.js';

export const DEFAULT_NAMESPACE_SELECTOR: LabelSelector = { matchLabels: { [LABEL_GOVERNED]: 'true' } };

export function sidecarNamespaces(gs: GuardianSidecar, namespaces: readonly KObject[]): string[] {
  const selector = gs.spec.namespaceSelector ?? DEFAULT_NAMESPACE_SELECTOR;
  return namespaces.filter((n) => !n.metadata.deletionTimestamp && matchesSelector(selector, n.metadata.labels)).map((n) => n.metadata.name);
}

export function sidecarsFor(pb: PolicyBundle, sidecars: readonly KObject[]): GuardianSidecar[] {
  return (sidecars as unknown as GuardianSidecar[]).filter((gs) => gs.metadata.namespace === pb.metadata.namespace && gs.spec?.policyBundleRef === pb.metadata.name && !gs.metadata.deletionTimestamp);
}

export function governedNamespaces(pb: PolicyBundle, sidecars: readonly KObject[], namespaces: readonly KObject[]): string[] {
  const out = new Set<string>();
  for (const gs of sidecarsFor(pb, sidecars)) for (const n of sidecarNamespaces(gs, namespaces)) out.add(n);
  return [...out].sort();
}
