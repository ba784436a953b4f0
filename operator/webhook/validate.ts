// The validating webhook's decisions. Workloads may not ask for a conformance level above what
// their GuardianSidecar provides; GuardianSidecars may not point at a PolicyBundle that is not
// Active; in governed pods no app container may reach credentials or signing material, and a
// container named helm-guardian must be the one the injector made.
import { CONFORMANCE_ANNOTATION, GUARDIAN_ANNOTATION, SIDECAR_CONTAINER, SIDECAR_DIGEST_ANNOTATION, levelRank } from './constants.js';
import type { InjectorConfig } from './config.js';
import { credentialLeak, protectedSecrets } from './credentials.js';
import { chooseGuardian, guardianView, GuardianSpecError, type GuardianView } from './guardian.js';
import { proofGraphProblem } from './guardian-config.js';
import { arrayAt, isObject, jsonEqual, objectAt, stringAt, stringMap, type JsonObject } from './json.js';
import type { AdmissionRequestView, AdmissionResult } from './admission.js';
import { deny } from './admission.js';
import type { ClusterLookup } from './lookup.js';
import { needsInjection, optIn } from './needs-injection.js';
import { sidecarContainer } from './patch/sidecar-container.js';
import { resolveInjection, type CertifySource } from './resolve.js';
import { sidecarDigest, sidecarsOf, sidecarState } from './sidecar-digest.js';
import { podTemplateOf } from './workload.js';

const FORBIDDEN = 403;

export interface ValidateDeps {
  config: InjectorConfig;
  lookup: ClusterLookup;
  certify?: CertifySource;
}

export async function validateRequest(req: AdmissionRequestView, deps: ValidateDeps): Promise<AdmissionResult> {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return { allowed: true };
  // kubectl debug adds ephemeral containers through this subresource: they are app containers too.
  const ephemeral = req.kind.kind === 'Pod' && req.subResource === 'ephemeralcontainers';
  if (req.subResource && !ephemeral) return { allowed: true };
  // Objects being deleted only lose finalizers and metadata; refusing that would strand them.
  if (stringAt(req.object, 'metadata', 'deletionTimestamp')) return { allowed: true };
  if (req.kind.group === 'helm.mindburn.org' && (req.kind.kind === 'GuardianSidecar' || req.kind.kind === 'ClusterGuardianSidecar')) return validateGuardianSidecar(req, deps);
  const template = podTemplateOf(req.kind.kind, req.object);
  if (!template) return { allowed: true };
  const namespace = req.namespace ?? stringAt(req.object, 'metadata', 'namespace') ?? '';
  const boundary = await trustBoundary(req, template, namespace, deps);
  if (boundary) return deny(FORBIDDEN, 'Forbidden', boundary);
  if (ephemeral) return { allowed: true };
  return validateConformance(req.kind.kind, req.object, template, namespace, deps);
}

/** Governed: opted in, or carrying a container named like the sidecar. */
function governed(template: unknown, namespace: string, config: InjectorConfig): boolean {
  if (namespace === config.operatorNamespace) return false;
  return optIn(template) === 'in' || sidecarsOf(template).length > 0;
}

async function guardiansFor(namespace: string, deps: ValidateDeps): Promise<GuardianView[]> {
  const out: GuardianView[] = [];
  for (const g of [...(await deps.lookup.guardianSidecars()), ...(await deps.lookup.clusterGuardianSidecars())]) {
    try {
      const v = guardianView(g);
      if (v.kind === 'ClusterGuardianSidecar' || v.namespace === namespace) out.push(v);
    } catch {
      // An invalid GuardianSidecar injects nothing; the secrets of the valid ones are still protected.
    }
  }
  return out;
}

/** The pod-level trust boundary; a message naming the field and the fix, or undefined. */
async function trustBoundary(req: AdmissionRequestView, template: JsonObject, namespace: string, deps: ValidateDeps): Promise<string | undefined> {
  if (!governed(template, namespace, deps.config)) return undefined;
  const tag = '[CREDENTIAL_ISOLATION]';
  const spec = objectAt(template, 'spec');
  for (const field of ['shareProcessNamespace', 'hostPID'] as const) {
    if (spec?.[field] === true) return `spec.${field} is true: app containers could read the Guardian sidecar's memory (its signing keys); remove it ${tag}`;
  }
  const sidecar = await sidecarBinding(req, template, namespace, deps);
  if (sidecar) return `${sidecar} [SIDECAR_NOT_INJECTED]`;
  const leak = credentialLeak(template, protectedSecrets(await guardiansFor(namespace, deps), deps.config));
  return leak ? `${leak} ${tag}` : undefined;
}

/**
 * A container named helm-guardian must be the injector's: on a workload template it never is (the
 * injector only injects pods); on a pod its digest annotation must match its bound fields and, at
 * creation, the sidecar the injector makes for the pod's GuardianSidecar; on update it must not
 * change.
 */
async function sidecarBinding(req: AdmissionRequestView, pod: JsonObject, namespace: string, deps: ValidateDeps): Promise<string | undefined> {
  const found = sidecarsOf(pod);
  if (found.length === 0) return undefined;
  if (req.kind.kind !== 'Pod') {
    return `${req.kind.kind} pod template has a container named ${SIDECAR_CONTAINER}, a name reserved for the sidecar the webhook injects into pods; rename it`;
  }
  const state = sidecarState(pod);
  if (state.state === 'look-alike') return state.message;
  if (state.state !== 'injected') return undefined;
  if (req.operation === 'UPDATE' || req.subResource) {
    const before = stringAt(req.oldObject, 'metadata', 'annotations', SIDECAR_DIGEST_ANNOTATION);
    return before === state.digest ? undefined : `the ${SIDECAR_CONTAINER} container of an injected pod cannot change (annotation ${SIDECAR_DIGEST_ANNOTATION}); recreate the pod instead`;
  }
  const mode = state.found.field === 'initContainers' ? 'native' : 'container';
  const resolved = await resolveInjection(pod, namespace, deps.config, deps.lookup, deps.certify, mode);
  if (!resolved.ok) return `cannot verify the ${SIDECAR_CONTAINER} container against its GuardianSidecar: ${resolved.message}`;
  if (sidecarDigest(sidecarContainer(resolved.ctx, pod)) !== state.digest) {
    return `the ${SIDECAR_CONTAINER} container (spec.${state.found.field}[${state.found.index}]) is not the one the injector makes for ${resolved.ctx.guardian.ref}; remove it and let the webhook inject the sidecar (or recreate the pod if its GuardianSidecar changed)`;
  }
  return undefined;
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
  const choice = chooseGuardian(
    await deps.lookup.guardianSidecars(),
    { namespace, labels, ...(explicit ? { explicit } : {}) },
    (await deps.lookup.namespaceLabels(namespace)) ?? {},
    await deps.lookup.clusterGuardianSidecars(),
  );
  if (!choice.ok) return deny(FORBIDDEN, 'Forbidden', `${kind} asks for conformance ${level}: ${choice.message} [CONFORMANCE_UNMET]`);
  const provided = choice.guardian.conformanceLevel;
  if (levelRank(provided) < levelRank(level)) {
    return deny(
      FORBIDDEN,
      'Forbidden',
      `${kind} asks for conformance ${level} but ${choice.guardian.kind === 'GuardianSidecar' ? 'GuardianSidecar ' : ''}${choice.guardian.ref} provides ${provided} [CONFORMANCE_UNMET]`,
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
  if (view.kind === 'GuardianSidecar' && objectAt(req.object, 'spec', 'namespaceSelector') !== undefined) {
    return deny(
      FORBIDDEN,
      'Forbidden',
      `GuardianSidecar ${view.ref}: spec.namespaceSelector is not allowed; a GuardianSidecar governs pods of its own namespace only. Remove it, or ask a cluster admin for a ClusterGuardianSidecar [GUARDIAN_SPEC_INVALID]`,
    );
  }
  const volume = proofGraphProblem(view.proofGraph);
  if (volume) return deny(FORBIDDEN, 'Forbidden', `${view.kind} ${view.ref}: ${volume} [GUARDIAN_SPEC_INVALID]`);
  const bundle = await deps.lookup.policyBundle(view.bundleNamespace, view.policyBundleRef);
  const ref = `PolicyBundle ${view.bundleNamespace}/${view.policyBundleRef}`;
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
