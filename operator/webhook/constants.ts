// Names shared by the webhook, the chart and the docs. Annotation and label keys are API: renaming
// one strands every workload that uses it.
export const GROUP = 'helm.mindburn.org';

/** Pod-template annotation that opts a pod in ("true") or out ("false"). */
export const INJECT_ANNOTATION = `${GROUP}/inject`;
/** The same key as a label, so the webhook configuration's objectSelector only sends opted-in pods. */
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
} as const;
export const SECRET_VOLUMES: readonly string[] = [VOLUMES.signingKeys, VOLUMES.upstreamCredentials, VOLUMES.mcpCredentials];

/** The PolicyBundle controller's ConfigMap (helm-policy-<bundleId>) and its two keys. */
export { distributedConfigMapName as policyConfigMapName, BUNDLE_FILE, SIGNATURE_FILE } from '../api/v1alpha1.js';

export const CONFORMANCE_LEVELS = ['L1', 'L2', 'L3'] as const;
export type ConformanceLevel = (typeof CONFORMANCE_LEVELS)[number];

export function levelRank(level: string): number {
  return (CONFORMANCE_LEVELS as readonly string[]).indexOf(level) + 1;
}
