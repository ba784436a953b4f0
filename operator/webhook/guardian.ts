// The part of a GuardianSidecar or ClusterGuardianSidecar (crds/) the webhook uses, read
// defensively from the raw object, and the rule that picks the one governing a pod.
import { CLUSTER_GUARDIAN_PREFIX, GOVERNED_NAMESPACE_LABEL, levelRank, type ConformanceLevel } from './constants.js';
import { principalConfig, proofGraphChoice, toolRoutes, type PrincipalConfig, type ProofGraphChoice, type ToolRoutes } from './guardian-config.js';
import { isObject, objectAt, stringAt, type Json, type JsonObject } from './json.js';
import { selectorMatches } from './selector.js';
import { shippingSpec, type ShippingSpec } from '../fleet/shipping.js';

export interface SecretKeyRef {
  name: string;
  key: string;
}

export type GuardianKind = 'GuardianSidecar' | 'ClusterGuardianSidecar';

export interface GuardianView {
  kind: GuardianKind;
  /** The GuardianSidecar's namespace; "" for a ClusterGuardianSidecar. */
  namespace: string;
  name: string;
  /** How the pod annotation names it: "<namespace>/<name>" or "ClusterGuardianSidecar/<name>". */
  ref: string;
  /** Namespace of the PolicyBundle named by policyBundleRef. */
  bundleNamespace: string;
  image: string;
  conformanceLevel: ConformanceLevel;
  policyBundleRef: string;
  failClosed: boolean;
  resources?: JsonObject;
  llmUpstream?: { url: string; apiKeySecretRef?: SecretKeyRef };
  mcpUpstreams: { name: string; url: string; authSecretRef?: SecretKeyRef }[];
  proofGraph: ProofGraphChoice;
  principal?: PrincipalConfig;
  toolRoutes?: ToolRoutes;
  /** spec.shipping (docs/fleet.md): injects the fleet shipping environment. */
  shipping?: ShippingSpec;
  /** ClusterGuardianSidecar only: a namespaced GuardianSidecar governs its own namespace. */
  namespaceSelector: Json | undefined;
  podSelector: Json | undefined;
  deleting: boolean;
}

export class GuardianSpecError extends Error {
  constructor(readonly code: 'GUARDIAN_SPEC_INVALID', message: string) {
    super(message);
  }
}

function secretRef(v: unknown): SecretKeyRef | undefined {
  if (!isObject(v) || typeof v.name !== 'string' || typeof v.key !== 'string' || !v.name || !v.key) return undefined;
  return { name: v.name, key: v.key };
}

export function guardianKindOf(obj: unknown): GuardianKind {
  return stringAt(obj, 'kind') === 'ClusterGuardianSidecar' ? 'ClusterGuardianSidecar' : 'GuardianSidecar';
}

export function guardianRefOf(kind: GuardianKind, namespace: string, name: string): string {
  return kind === 'ClusterGuardianSidecar' ? `${CLUSTER_GUARDIAN_PREFIX}${name}` : `${namespace}/${name}`;
}

/** Throws GuardianSpecError when a field the injection depends on is missing or malformed. */
export function guardianView(obj: unknown): GuardianView {
  const kind = guardianKindOf(obj);
  const cluster = kind === 'ClusterGuardianSidecar';
  const namespace = cluster ? '' : (stringAt(obj, 'metadata', 'namespace') ?? '');
  const name = stringAt(obj, 'metadata', 'name') ?? '';
  const spec = objectAt(obj, 'spec');
  const ref = guardianRefOf(kind, namespace, name);
  const bad = (why: string) => new GuardianSpecError('GUARDIAN_SPEC_INVALID', `${cluster ? ref : `GuardianSidecar ${ref}`}: ${why}`);
  if (!spec || (!cluster && !namespace) || !name) throw bad('missing metadata or spec');
  const image = spec.image;
  if (typeof image !== 'string' || !image) throw bad('spec.image is required');
  const level = spec.conformanceLevel;
  if (typeof level !== 'string' || levelRank(level) === 0) throw bad(`spec.conformanceLevel ${JSON.stringify(level)} is not L1, L2 or L3`);
  const bundle = spec.policyBundleRef;
  if (typeof bundle !== 'string' || !bundle) throw bad('spec.policyBundleRef is required');
  const bundleNamespace = cluster ? stringAt(spec, 'policyBundleNamespace') : namespace;
  if (!bundleNamespace) throw bad('spec.policyBundleNamespace is required: the namespace of the PolicyBundle named by spec.policyBundleRef');

  let llmUpstream: GuardianView['llmUpstream'];
  if (spec.llmUpstream !== undefined) {
    const url = stringAt(spec.llmUpstream, 'url');
    if (!url) throw bad('spec.llmUpstream.url is required');
    const ref = isObject(spec.llmUpstream) ? spec.llmUpstream.apiKeySecretRef : undefined;
    const apiKeySecretRef = secretRef(ref);
    if (ref !== undefined && !apiKeySecretRef) throw bad('spec.llmUpstream.apiKeySecretRef needs name and key');
    llmUpstream = apiKeySecretRef ? { url, apiKeySecretRef } : { url };
  }

  const mcpUpstreams: GuardianView['mcpUpstreams'] = [];
  if (spec.mcpUpstreams !== undefined) {
    if (!Array.isArray(spec.mcpUpstreams)) throw bad('spec.mcpUpstreams must be a list');
    for (const u of spec.mcpUpstreams) {
      const n = stringAt(u, 'name');
      const url = stringAt(u, 'url');
      if (!n || !url) throw bad('every spec.mcpUpstreams entry needs name and url');
      const ref = isObject(u) ? u.authSecretRef : undefined;
      const authSecretRef = secretRef(ref);
      if (ref !== undefined && !authSecretRef) throw bad(`spec.mcpUpstreams[${n}].authSecretRef needs name and key`);
      mcpUpstreams.push(authSecretRef ? { name: n, url, authSecretRef } : { name: n, url });
    }
  }

  const proofGraph = proofGraphChoice(spec, kind, name, bad);
  const principal = principalConfig(spec, bad);
  const routes = toolRoutes(spec, bad);

  const view: GuardianView = {
    kind,
    namespace,
    name,
    ref,
    bundleNamespace,
    image,
    conformanceLevel: level as ConformanceLevel,
    policyBundleRef: bundle,
    failClosed: spec.failClosed !== false,
    mcpUpstreams,
    proofGraph,
    // Ignored on a namespaced GuardianSidecar (the validating webhook refuses writing one).
    namespaceSelector: cluster ? spec.namespaceSelector : undefined,
    podSelector: spec.podSelector,
    deleting: stringAt(obj, 'metadata', 'deletionTimestamp') !== undefined,
  };
  const resources = objectAt(spec, 'resources');
  if (resources) view.resources = resources;
  if (llmUpstream) view.llmUpstream = llmUpstream;
  if (principal) view.principal = principal;
  if (routes) view.toolRoutes = routes;
  const shipping = shippingSpec(spec);
  if (shipping) view.shipping = shipping;
  return view;
}

export type GuardianChoice =
  | { ok: true; guardian: GuardianView }
  | { ok: false; reason: 'no-guardian-sidecar' | 'ambiguous-guardian-sidecar' | 'guardian-sidecar-invalid'; message: string };

const DEFAULT_NAMESPACE_SELECTOR = { matchLabels: { [GOVERNED_NAMESPACE_LABEL]: 'true' } };

function views(objects: readonly unknown[], broken: Map<string, string>): GuardianView[] {
  const out: GuardianView[] = [];
  for (const g of objects) {
    try {
      const v = guardianView(g);
      if (!v.deleting) out.push(v);
    } catch (e) {
      const kind = guardianKindOf(g);
      broken.set(guardianRefOf(kind, stringAt(g, 'metadata', 'namespace') ?? '', stringAt(g, 'metadata', 'name') ?? ''), (e as Error).message);
    }
  }
  return out;
}

const names = (vs: GuardianView[]) => vs.map((v) => v.ref).sort().join(', ');

/**
 * Which GuardianSidecar governs a pod:
 * 1. The pod annotation helm.mindburn.org/guardian-sidecar, if set: "<name>" or "<namespace>/<name>"
 *    (a GuardianSidecar of the pod's own namespace only), or "ClusterGuardianSidecar/<name>" (one
 *    whose namespaceSelector selects the pod's namespace).
 * 2. Else the GuardianSidecars of the pod's namespace whose podSelector matches: one wins; several
 *    are ambiguous and the pod is refused.
 * 3. Only when no GuardianSidecar of the namespace matches: the ClusterGuardianSidecars whose
 *    namespaceSelector (default: label helm.mindburn.org/governed=true) and podSelector match; one
 *    wins, several are ambiguous. A namespace owner's GuardianSidecar always wins over a
 *    cluster-wide one; a GuardianSidecar never governs another namespace.
 */
export function chooseGuardian(
  guardians: readonly unknown[],
  pod: { namespace: string; labels: Record<string, string>; explicit?: string },
  namespaceLabels: Record<string, string>,
  clusterGuardians: readonly unknown[] = [],
): GuardianChoice {
  const broken = new Map<string, string>();
  const local = views(guardians, broken).filter((v) => v.kind === 'GuardianSidecar' && v.namespace === pod.namespace);
  const cluster = views(clusterGuardians, broken).filter((v) => v.kind === 'ClusterGuardianSidecar');
  const selectsNamespace = (v: GuardianView) => selectorMatches(v.namespaceSelector ?? DEFAULT_NAMESPACE_SELECTOR, namespaceLabels);
  if (pod.explicit) {
    let ref = pod.explicit.trim();
    if (!ref.includes('/')) ref = `${pod.namespace}/${ref}`;
    const missing = (why: string): GuardianChoice => {
      const invalid = broken.get(ref);
      return invalid ? { ok: false, reason: 'guardian-sidecar-invalid', message: invalid } : { ok: false, reason: 'no-guardian-sidecar', message: why };
    };
    if (ref.startsWith(CLUSTER_GUARDIAN_PREFIX)) {
      const hit = cluster.find((v) => v.ref === ref);
      if (!hit) return missing(`${ref} named by the pod does not exist`);
      if (!selectsNamespace(hit)) return { ok: false, reason: 'no-guardian-sidecar', message: `${ref} named by the pod does not select namespace ${pod.namespace} (spec.namespaceSelector)` };
      return { ok: true, guardian: hit };
    }
    const [ns] = ref.split('/', 1);
    if (ns !== pod.namespace) {
      return { ok: false, reason: 'no-guardian-sidecar', message: `GuardianSidecar ${ref} named by the pod is in another namespace; a GuardianSidecar governs pods of its own namespace only (use a ClusterGuardianSidecar)` };
    }
    const hit = local.find((v) => v.ref === ref);
    return hit ? { ok: true, guardian: hit } : missing(`GuardianSidecar ${ref} named by the pod does not exist`);
  }
  const mine = local.filter((v) => selectorMatches(v.podSelector, pod.labels));
  if (mine.length === 1) return { ok: true, guardian: mine[0]! };
  if (mine.length > 1) {
    return { ok: false, reason: 'ambiguous-guardian-sidecar', message: `several GuardianSidecars of namespace ${pod.namespace} select this pod (${names(mine)}); name one with the annotation helm.mindburn.org/guardian-sidecar` };
  }
  const wide = cluster.filter((v) => selectsNamespace(v) && selectorMatches(v.podSelector, pod.labels));
  if (wide.length === 1) return { ok: true, guardian: wide[0]! };
  if (wide.length > 1) {
    return { ok: false, reason: 'ambiguous-guardian-sidecar', message: `several ClusterGuardianSidecars select this pod (${names(wide)}); name one with the annotation helm.mindburn.org/guardian-sidecar, or create a GuardianSidecar in namespace ${pod.namespace}` };
  }
  // Say why when the one meant for this pod is unusable, rather than "none".
  const invalid = [...broken.entries()].filter(([ref]) => ref.startsWith(`${pod.namespace}/`) || ref.startsWith(CLUSTER_GUARDIAN_PREFIX));
  if (invalid.length > 0) return { ok: false, reason: 'guardian-sidecar-invalid', message: invalid.map(([, why]) => why).join('; ') };
  return { ok: false, reason: 'no-guardian-sidecar', message: `no GuardianSidecar of namespace ${pod.namespace} and no ClusterGuardianSidecar selects this pod's labels` };
}
