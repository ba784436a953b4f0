// Names shared by the webhook, the chart and the docs. Annotation and label keys are API: renaming
// one strands every workload that uses it.
export const GROUP = 'helm.mindburn.org';

/** Pod-template annotation that opts a pod in ("true") or out ("false"). */
export const INJECT_ANNOTATION = `${GROUP}/inject`;
/** The same key as a label, also accepted (the webhook's matchConditions test both). */
export const INJECT_LABEL = `${GROUP}/inject`;
/**
 * Names the GuardianSidecar ("name" or "namespace/name") when more than one would match; the
 * webhook (re)writes it as "<namespace>/<name>" of the one it applied, which the GuardianSidecar
 * controller counts.
 */
export const GUARDIAN_ANNOTATION = `${GROUP}/guardian-sidecar`;
/** Label set to "true" on every injected pod (the GuardianSidecar controller lists pods by it). */
export const INJECTED_LABEL = `${GROUP}/injected`;
/** The conformance level (L1 < L2 < L3) a workload requires of its sidecar. */
export const CONFORMANCE_ANNOTATION = `${GROUP}/conformance-level`;
/** Label on the operator's own pods; they are never injected. */
export const OPERATOR_COMPONENT_LABEL = 'app.kubernetes.io/name';
export const OPERATOR_COMPONENT_VALUE = 'helm-operator';
/** Default label selecting governed namespaces when a GuardianSidecar has no namespaceSelector. */
export const GOVERNED_NAMESPACE_LABEL = `${GROUP}/governed`;

export const SIDECAR_CONTAINER = 'helm-guardian';

/** Pod volumes the injector owns; app containers never mount the secret ones. */
export const VOLUMES = {
  proofGraph: 'helm-guardian-proofgraph',
  policy: 'helm-guardian-policy',
  signingKeys: 'helm-guardian-signing-keys',
  upstreamCredentials: 'helm-guardian-upstream-credentials',
  mcpCredentials: 'helm-guardian-mcp-credentials',
  tmp: 'helm-guardian-tmp',
  /** Projected ServiceAccount token (audience CERTIFY_AUDIENCE) the sidecar presents to /v1/certify. */
  token: 'helm-guardian-token',
} as const;
export const SECRET_VOLUMES: readonly string[] = [VOLUMES.signingKeys, VOLUMES.upstreamCredentials, VOLUMES.mcpCredentials, VOLUMES.token];
/** Every pod volume name the injector owns: app containers mount none of them. */
export const RESERVED_VOLUMES: readonly string[] = Object.values(VOLUMES);

/** Audience of the token that authenticates a sidecar to the operator's certify endpoint. */
export const CERTIFY_AUDIENCE = `${GROUP}/certify`;

/**
 * SHA-256 (hex) of the JCS of the injected sidecar container's bound fields (sidecar-digest.ts).
 * A container named like the sidecar without it, or with a digest the validator cannot reproduce
 * from the pod's GuardianSidecar, is a look-alike and refused.
 */
export const SIDECAR_DIGEST_ANNOTATION = `${GROUP}/sidecar-digest`;
/** Per-pod choice of sidecar mode ("native" or "container"), overriding the node-based default. */
export const SIDECAR_MODE_ANNOTATION = `${GROUP}/sidecar-mode`;
/** GUARDIAN_ANNOTATION prefix naming a ClusterGuardianSidecar (no namespace is spelled with capitals). */
export const CLUSTER_GUARDIAN_PREFIX = 'ClusterGuardianSidecar/';

/** The PolicyBundle controller's ConfigMap (helm-policy-<bundleId>) and its two keys. */
export { distributedConfigMapName as policyConfigMapName, BUNDLE_FILE, SIGNATURE_FILE } from '../api/v1alpha1.js';

export const CONFORMANCE_LEVELS = ['L1', 'L2', 'L3'] as const;
export type ConformanceLevel = (typeof CONFORMANCE_LEVELS)[number];

export function levelRank(level: string): number {
  return (CONFORMANCE_LEVELS as readonly string[]).indexOf(level) + 1;
}
