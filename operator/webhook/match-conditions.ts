// The matchConditions (admissionregistration.k8s.io/v1, GA in Kubernetes 1.30) of the chart's
// webhook configurations: CEL expressions the API server evaluates before calling us. They only
// narrow what reaches the webhook; the handlers re-check everything (needsInjection, governed()).
// The chart template must carry exactly these (test/chart compares them); the operator itself only
// ever writes caBundle into those configurations.
import { CERTIFY_AUDIENCE, INJECT_ANNOTATION, SIDECAR_CONTAINER } from './constants.js';

export interface MatchCondition {
  name: string;
  expression: string;
}

const opted = (map: 'annotations' | 'labels') =>
  `(has(object.metadata.${map}) && '${INJECT_ANNOTATION}' in object.metadata.${map} && object.metadata.${map}['${INJECT_ANNOTATION}'].trim().lowerAscii() == 'true')`;
const optedOut = (map: 'annotations' | 'labels') =>
  `(has(object.metadata.${map}) && '${INJECT_ANNOTATION}' in object.metadata.${map} && object.metadata.${map}['${INJECT_ANNOTATION}'].trim().lowerAscii() == 'false')`;

/** Mutating webhook (pods, CREATE): opted in by annotation or label, and not opted out by either. */
export const MUTATING_MATCH_CONDITIONS: readonly MatchCondition[] = [
  { name: 'helm-opted-in', expression: `(${opted('annotations')} || ${opted('labels')}) && !${optedOut('annotations')} && !${optedOut('labels')}` },
];

const sidecarNamed = (list: string) => `(has(object.spec.${list}) && object.spec.${list}.exists(c, c.name == '${SIDECAR_CONTAINER}'))`;
const certifyToken =
  `(has(object.spec.volumes) && object.spec.volumes.exists(v, has(v.projected) && has(v.projected.sources) && ` +
  `v.projected.sources.exists(s, has(s.serviceAccountToken) && has(s.serviceAccountToken.audience) && s.serviceAccountToken.audience == '${CERTIFY_AUDIENCE}')))`;

/**
 * Validating webhook: everything that is not a Pod passes through (workloads, GuardianSidecars);
 * a Pod (also pods/ephemeralcontainers) only when it opts in (annotation or label, any value), has
 * a container named like the sidecar, or projects a certify-audience token.
 */
export const VALIDATING_MATCH_CONDITIONS: readonly MatchCondition[] = [
  {
    name: 'helm-governed-pod',
    expression:
      `request.kind.kind != 'Pod' || ` +
      `(has(object.metadata.annotations) && '${INJECT_ANNOTATION}' in object.metadata.annotations) || ` +
      `(has(object.metadata.labels) && '${INJECT_ANNOTATION}' in object.metadata.labels) || ` +
      `${sidecarNamed('containers')} || ${sidecarNamed('initContainers')} || ${sidecarNamed('ephemeralContainers')} || ${certifyToken}`,
  },
];
