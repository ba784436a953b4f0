// The part of a GuardianSidecar (crds/guardiansidecars.helm.mindburn.org.yaml) the webhook uses,
// read defensively from the raw object, and the rule that picks the one governing a pod.
import { GOVERNED_NAMESPACE_LABEL, levelRank, type ConformanceLevel } from './constants.js';
import { isObject, objectAt, stringAt, type Json, type JsonObject } from './json.js';
import { selectorMatches } from './selector.js';

export interface SecretKeyRef {
  name: string;
  key: string;
}

export interface GuardianView {
  namespace: string;
  name: string;
  image: string;
  conformanceLevel: ConformanceLevel;
  policyBundleRef: string;
  failClosed: boolean;
  resources?: JsonObject;
  llmUpstream?: { url: string; apiKeySecretRef?: SecretKeyRef };
  mcpUpstreams: { name: string; url: string; authSecretRef?: SecretKeyRef }[];
  proofGraph: { kind: 'emptyDir'; sizeLimit?: string } | { kind: 'persistentVolumeClaim'; claimName: string };
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

/** Throws GuardianSpecError when a field the injection depends on is missing or malformed. */
export function guardianView(obj: unknown): GuardianView {
  const namespace = stringAt(obj, 'metadata', 'namespace') ?? '';
  const name = stringAt(obj, 'metadata', 'name') ?? '';
  const spec = objectAt(obj, 'spec');
  const bad = (why: string) => new GuardianSpecError('GUARDIAN_SPEC_INVALID', `GuardianSidecar ${namespace}/${name}: ${why}`);
  if (!spec || !namespace || !name) throw bad('missing metadata or spec');
  const image = spec.image;
  if (typeof image !== 'string' || !image) throw bad('spec.image is required');
  const level = spec.conformanceLevel;
  if (typeof level !== 'string' || levelRank(level) === 0) throw bad(`spec.conformanceLevel ${JSON.stringify(level)} is not L1, L2 or L3`);
  const bundle = spec.policyBundleRef;
  if (typeof bundle !== 'string' || !bundle) throw bad('spec.policyBundleRef is required');

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

  let proofGraph: GuardianView['proofGraph'] = { kind: 'emptyDir' };
  const pg = objectAt(spec, 'proofGraph');
  if (pg?.persistentVolumeClaim !== undefined) {
    const claimName = stringAt(pg, 'persistentVolumeClaim', 'claimName');
    if (!claimName) throw bad('spec.proofGraph.persistentVolumeClaim.claimName is required');
    proofGraph = { kind: 'persistentVolumeClaim', claimName };
  } else if (pg?.emptyDir !== undefined) {
    const sizeLimit = stringAt(pg, 'emptyDir', 'sizeLimit');
    proofGraph = sizeLimit ? { kind: 'emptyDir', sizeLimit } : { kind: 'emptyDir' };
  }

  const view: GuardianView = {
    namespace,
    name,
    image,
    conformanceLevel: level as ConformanceLevel,
    policyBundleRef: bundle,
    failClosed: spec.failClosed !== false,
    mcpUpstreams,
    proofGraph,
    namespaceSelector: spec.namespaceSelector,
    podSelector: spec.podSelector,
    deleting: stringAt(obj, 'metadata', 'deletionTimestamp') !== undefined,
  };
  const resources = objectAt(spec, 'resources');
  if (resources) view.resources = resources;
  if (llmUpstream) view.llmUpstream = llmUpstream;
  return view;
}

export type GuardianChoice =
  | { ok: true; guardian: GuardianView }
  | { ok: false; reason: 'no-guardian-sidecar' | 'ambiguous-guardian-sidecar' | 'guardian-sidecar-invalid'; message: string };

const DEFAULT_NAMESPACE_SELECTOR = { matchLabels: { [GOVERNED_NAMESPACE_LABEL]: 'true' } };

/**
 * Which GuardianSidecar governs a pod. An explicit annotation wins; otherwise the ones whose
 * namespaceSelector and podSelector both match. Several matches are resolved in favour of those in
 * the pod's own namespace; if that still leaves more than one, the pod is refused rather than
 * governed by an arbitrary (possibly weaker) one.
 */
export function chooseGuardian(
  guardians: readonly unknown[],
  pod: { namespace: string; labels: Record<string, string>; explicit?: string },
  namespaceLabels: Record<string, string>,
): GuardianChoice {
  const views: GuardianView[] = [];
  const broken: string[] = [];
  for (const g of guardians) {
    try {
      const v = guardianView(g);
      if (!v.deleting) views.push(v);
    } catch (e) {
      broken.push(`${stringAt(g, 'metadata', 'namespace')}/${stringAt(g, 'metadata', 'name')}: ${(e as Error).message}`);
    }
  }
  if (pod.explicit) {
    const [ns, name] = pod.explicit.includes('/') ? pod.explicit.split('/', 2) : [pod.namespace, pod.explicit];
    const hit = views.find((v) => v.namespace === ns && v.name === name);
    if (hit) return { ok: true, guardian: hit };
    const why = broken.find((b) => b.startsWith(`${ns}/${name}:`));
    return why
      ? { ok: false, reason: 'guardian-sidecar-invalid', message: why }
      : { ok: false, reason: 'no-guardian-sidecar', message: `GuardianSidecar ${ns}/${name} named by the pod does not exist` };
  }
  const matching = views.filter(
    (v) => selectorMatches(v.namespaceSelector ?? DEFAULT_NAMESPACE_SELECTOR, namespaceLabels) && selectorMatches(v.podSelector, pod.labels),
  );
  if (matching.length === 1) return { ok: true, guardian: matching[0]! };
  if (matching.length === 0) {
    return { ok: false, reason: 'no-guardian-sidecar', message: `no GuardianSidecar selects namespace ${pod.namespace} and this pod's labels` };
  }
  const local = matching.filter((v) => v.namespace === pod.namespace);
  if (local.length === 1) return { ok: true, guardian: local[0]! };
  const names = matching.map((v) => `${v.namespace}/${v.name}`).sort().join(', ');
  return { ok: false, reason: 'ambiguous-guardian-sidecar', message: `several GuardianSidecars select this pod (${names}); name one with the annotation` };
}

