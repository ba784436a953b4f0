// The validating webhook's decisions. Workloads may not ask for a conformance level above what
// their GuardianSidecar provides; GuardianSidecars may not point at a PolicyBundle that is not
// Active; app containers may not mount the sidecar's secret volumes.
import { CONFORMANCE_ANNOTATION, GUARDIAN_ANNOTATION, SECRET_VOLUMES, SIDECAR_CONTAINER, levelRank } from './constants.js';
import type { InjectorConfig } from './config.js';
import { chooseGuardian, guardianView, GuardianSpecError } from './guardian.js';
import { arrayAt, isObject, jsonEqual, objectAt, stringAt, stringMap } from './json.js';
import type { AdmissionRequestView, AdmissionResult } from './admission.js';
import { deny } from './admission.js';
import type { ClusterLookup } from './lookup.js';
import { needsInjection } from './needs-injection.js';
import { podTemplateOf } from './workload.js';

const FORBIDDEN = 403;

export interface ValidateDeps {
  config: InjectorConfig;
  lookup: ClusterLookup;
}

export async function validateRequest(req: AdmissionRequestView, deps: ValidateDeps): Promise<AdmissionResult> {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return { allowed: true };
  if (req.subResource) return { allowed: true };
  // Objects being deleted only lose finalizers and metadata; refusing that would strand them.
  if (stringAt(req.object, 'metadata', 'deletionTimestamp')) return { allowed: true };
  if (req.kind.group === 'helm.mindburn.org' && req.kind.kind === 'GuardianSidecar') return validateGuardianSidecar(req, deps);
  const template = podTemplateOf(req.kind.kind, req.object);
  if (!template) return { allowed: true };
  const namespace = req.namespace ?? stringAt(req.object, 'metadata', 'namespace') ?? '';
  if (req.kind.kind === 'Pod') {
    const leak = secretMountLeak(template);
    if (leak) return leak;
  }
  return validateConformance(req.kind.kind, req.object, template, namespace, deps);
}

/** The highest level asked for on the workload or on its pod template. */
export function requiredLevel(obj: unknown, template: unknown): { level?: string; invalid?: string } {
  const asked = [stringAt(obj, 'metadata', 'annotations', CONFORMANCE_ANNOTATION), stringAt(template, 'metadata', 'annotations', CONFORMANCE_ANNOTATION)]
    .filter((v): v is string => v !== undefined)
    .map((v) => v.trim());
  const invalid = asked.find((v) => levelRank(v) === 0);
  if (invalid !== undefined) return { invalid };
  const level = asked.sort((a, b) => levelRank(b) - levelRank(a))[0];
  return level ? { level } : {};
}

async function validateConformance(kind: string, obj: unknown, template: unknown, namespace: string, deps: ValidateDeps): Promise<AdmissionResult> {
  const { level, invalid } = requiredLevel(obj, template);
  if (invalid !== undefined) {
    return deny(FORBIDDEN, 'Forbidden', `${CONFORMANCE_ANNOTATION}: ${JSON.stringify(invalid)} is not one of L1, L2, L3 [CONFORMANCE_LEVEL_INVALID]`);
  }
  if (!level) return { allowed: true };
  const decision = needsInjection(template, namespace, deps.config);
  if (!decision.inject && decision.reason !== 'already-injected') {
    return deny(FORBIDDEN, 'Forbidden', `${kind} asks for conformance ${level} but its pods are not injected with the Guardian sidecar (${decision.reason}) [CONFORMANCE_UNMET]`);
  }
  const labels = stringMap(objectAt(template, 'metadata', 'labels'));
  const explicit = stringAt(template, 'metadata', 'annotations', GUARDIAN_ANNOTATION);
  const choice = chooseGuardian(await deps.lookup.guardianSidecars(), { namespace, labels, ...(explicit ? { explicit } : {}) }, (await deps.lookup.namespaceLabels(namespace)) ?? {});
  if (!choice.ok) return deny(FORBIDDEN, 'Forbidden', `${kind} asks for conformance ${level}: ${choice.message} [CONFORMANCE_UNMET]`);
  const provided = choice.guardian.conformanceLevel;
  if (levelRank(provided) < levelRank(level)) {
    return deny(
      FORBIDDEN,
      'Forbidden',
      `${kind} asks for conformance ${level} but GuardianSidecar ${choice.guardian.namespace}/${choice.guardian.name} provides ${provided} [CONFORMANCE_UNMET]`,
    );
  }
  return { allowed: true };
}

async function validateGuardianSidecar(req: AdmissionRequestView, deps: ValidateDeps): Promise<AdmissionResult> {
  // Metadata-only updates (finalizers, labels) pass whatever the bundle's state is now.
  if (req.operation === 'UPDATE' && jsonEqual(objectAt(req.oldObject, 'spec'), objectAt(req.object, 'spec'))) return { allowed: true };
  let view;
  try {
    view = guardianView(req.object);
  } catch (e) {
    if (e instanceof GuardianSpecError) return deny(FORBIDDEN, 'Forbidden', `${e.message} [${e.code}]`);
    throw e;
  }
  const bundle = await deps.lookup.policyBundle(view.namespace, view.policyBundleRef);
  const ref = `PolicyBundle ${view.namespace}/${view.policyBundleRef}`;
  if (bundle === undefined) return deny(FORBIDDEN, 'Forbidden', `${ref} does not exist [POLICY_BUNDLE_NOT_ACTIVE]`);
  const phase = stringAt(bundle, 'status', 'phase') ?? 'Pending';
  if (phase !== 'Active') {
    const conditions = arrayAt(bundle, 'status', 'conditions') ?? [];
    const ready = conditions.find((c) => isObject(c) && c.type === 'Ready');
    const why = isObject(ready) && typeof ready.reason === 'string' ? ` (${ready.reason})` : '';
    return deny(FORBIDDEN, 'Forbidden', `${ref} is ${phase}${why}, not Active [POLICY_BUNDLE_NOT_ACTIVE]`);
  }
  const needed = stringAt(bundle, 'spec', 'conformanceLevel');
  if (needed && levelRank(view.conformanceLevel) < levelRank(needed)) {
    return deny(FORBIDDEN, 'Forbidden', `${ref} requires conformance ${needed}; the GuardianSidecar provides ${view.conformanceLevel} [CONFORMANCE_UNMET]`);
  }
  return { allowed: true };
}

/** Credential isolation: only the sidecar mounts the signing keys and upstream credentials. */
function secretMountLeak(pod: unknown): AdmissionResult | undefined {
  const secret = new Set(SECRET_VOLUMES);
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const c of (arrayAt(pod, 'spec', field) ?? []).filter(isObject)) {
      if (c.name === SIDECAR_CONTAINER) continue;
      for (const m of (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).filter(isObject)) {
        if (typeof m.name === 'string' && secret.has(m.name)) {
          return deny(FORBIDDEN, 'Forbidden', `container ${String(c.name)} mounts ${m.name}, which only the Guardian sidecar may mount [CREDENTIAL_ISOLATION]`);
        }
      }
    }
  }
  return undefined;
}
