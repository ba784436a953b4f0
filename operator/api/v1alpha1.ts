// The helm.mindburn.org/v1alpha1 API as the operator and webhook see it: resource coordinates,
// the typed shape of the CRDs in crds/, and the labels, annotations and names that tie the
// operator, the webhook and the sidecar together. Names here are a contract: change them together.
import { createHash } from 'node:crypto';

export const GROUP = 'helm.mindburn.org';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const POLICY_BUNDLES = { group: GROUP, version: VERSION, plural: 'policybundles', kind: 'PolicyBundle' } as const;
export const GUARDIAN_SIDECARS = { group: GROUP, version: VERSION, plural: 'guardiansidecars', kind: 'GuardianSidecar' } as const;
/** Cluster-scoped: selects pods across namespaces; only cluster admins can create one (crds/). */
export const CLUSTER_GUARDIAN_SIDECARS = { group: GROUP, version: VERSION, plural: 'clusterguardiansidecars', kind: 'ClusterGuardianSidecar' } as const;

/** Server-side apply field manager for everything the operator writes. */
export const FIELD_MANAGER = 'helm-operator';
/** Finalizer that keeps a PolicyBundle until its distributed copies are removed. */
export const BUNDLE_FINALIZER = `${GROUP}/distribution`;

/** Pod annotation that opts a pod into injection (the design card: annotate the pod template). */
export const ANNOTATION_INJECT = `${GROUP}/inject`;
/** The same key as a label, usable by the webhook's objectSelector. */
export const LABEL_INJECT = `${GROUP}/inject`;
/** Label the webhook sets on every pod it injected: "true". */
export const LABEL_INJECTED = `${GROUP}/injected`;
/** Annotation the webhook sets on injected pods: "<namespace>/<name>" of the GuardianSidecar used. */
export const ANNOTATION_GUARDIAN = `${GROUP}/guardian-sidecar`;
/** Workload annotation naming the conformance level it requires. */
export const ANNOTATION_CONFORMANCE = `${GROUP}/conformance-level`;
/** Default namespace label a GuardianSidecar without namespaceSelector governs. */
export const LABEL_GOVERNED = `${GROUP}/governed`;

/** Labels and annotations on the ConfigMaps the operator distributes. */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'helm-operator';
export const LABEL_BUNDLE_ID = `${GROUP}/bundle-id`;
export const ANNOTATION_BUNDLE_SOURCE = `${GROUP}/source`;
export const ANNOTATION_BUNDLE_UID = `${GROUP}/source-uid`;
export const ANNOTATION_CONTENT_HASH = `${GROUP}/content-hash`;
export const ANNOTATION_BUNDLE_VERSION = `${GROUP}/bundle-version`;

/** Keys of the distributed ConfigMap, mounted by the sidecar, which verifies them again. */
export const BUNDLE_FILE = 'bundle.json';
export const SIGNATURE_FILE = 'signature.json';

export type ConformanceLevel = 'L1' | 'L2' | 'L3';
export const CONFORMANCE_LEVELS: readonly ConformanceLevel[] = ['L1', 'L2', 'L3'];

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface SecretKeyRef {
  name: string;
  key: string;
}

export type BundlePhase = 'Pending' | 'Active' | 'Failed' | 'Superseded';

export interface PolicyBundleSpec {
  bundleId: string;
  version: number;
  contentHash: string;
  signature: string;
  signerKeyId: string;
  conformanceLevel: ConformanceLevel;
  sourceUrl?: string;
  refreshInterval?: string;
  inline?: string;
  configMapRef?: { name: string; key?: string };
}

export interface PolicyBundleStatus {
  phase?: BundlePhase;
  conditions?: Condition[];
  observedGeneration?: number;
  verifiedHash?: string;
  loadedAt?: string;
  message?: string;
  errorMessage?: string;
}

export interface PolicyBundle {
  apiVersion: typeof API_VERSION;
  kind: 'PolicyBundle';
  metadata: ObjectMeta;
  spec: PolicyBundleSpec;
  status?: PolicyBundleStatus;
}

export type SidecarPhase = 'Ready' | 'Injecting' | 'Error';

export interface GuardianSidecarSpec {
  image: string;
  conformanceLevel: ConformanceLevel;
  policyBundleRef: string;
  /** ClusterGuardianSidecar only (required there): the namespace of the PolicyBundle. */
  policyBundleNamespace?: string;
  /**
   * ClusterGuardianSidecar only. On a namespaced GuardianSidecar it is refused by the validating
   * webhook and ignored if present (a GuardianSidecar governs its own namespace).
   */
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  /** Defaulted to true by the CRD schema. */
  failClosed?: boolean;
  llmUpstream?: { url: string; apiKeySecretRef?: SecretKeyRef };
  mcpUpstreams?: { name: string; url: string; authSecretRef?: SecretKeyRef }[];
  proofGraph?: { emptyDir?: { sizeLimit?: string }; persistentVolumeClaim?: { claimName: string } };
}

export interface GuardianSidecarStatus {
  phase?: SidecarPhase;
  injectedPodCount?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface GuardianSidecar {
  apiVersion: typeof API_VERSION;
  kind: 'GuardianSidecar' | 'ClusterGuardianSidecar';
  metadata: ObjectMeta;
  spec: GuardianSidecarSpec;
  status?: GuardianSidecarStatus;
}

const DNS_LABEL_MAX = 63;

/**
 * Name of the ConfigMap holding the distributed bundle in each governed namespace:
 * `helm-policy-<bundleId>` when that is a valid DNS-1123 name, else a sanitized form with a hash
 * suffix so that two bundleIds never share a ConfigMap.
 */
export function distributedConfigMapName(bundleId: string): string {
  const plain = `helm-policy-${bundleId}`;
  if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(plain) && plain.length <= DNS_LABEL_MAX) return plain;
  const digest = createHash('sha256').update(bundleId).digest('hex').slice(0, 10);
  const slug = bundleId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, DNS_LABEL_MAX - 'helm-policy-'.length - 11);
  return slug ? `helm-policy-${slug}-${digest}` : `helm-policy-${digest}`;
}

/** Label value form of a bundleId (label values are at most 63 characters of [A-Za-z0-9_.-]). */
export function bundleIdLabel(bundleId: string): string {
  return distributedConfigMapName(bundleId).slice('helm-policy-'.length);
}

export function guardianRef(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
