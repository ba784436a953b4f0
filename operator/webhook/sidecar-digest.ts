// Binds the injected sidecar to the injector. The pod carries SHA-256(JCS(bound fields of the
// container)); the validator recomputes the container the injector would make for the pod's
// GuardianSidecar and compares. Only fields the API server never defaults are bound (what runs,
// with which environment, mounts and privileges), so API-server defaulting after the mutating
// webhook does not break the digest, and a look-alike must equal the real sidecar to pass.
import { createHash } from 'node:crypto';
import { jcsString } from '../../kernel/crypto/jcs.js';
import { SIDECAR_CONTAINER, SIDECAR_DIGEST_ANNOTATION } from './constants.js';
import { arrayAt, isObject, stringAt, type JsonObject } from './json.js';

const BOUND_FIELDS = ['name', 'image', 'command', 'args', 'workingDir', 'env', 'envFrom', 'volumeMounts', 'volumeDevices', 'securityContext', 'restartPolicy', 'lifecycle'] as const;

export function sidecarDigest(container: unknown): string {
  const bound: JsonObject = {};
  if (isObject(container)) for (const f of BOUND_FIELDS) if (container[f] !== undefined) bound[f] = container[f]!;
  return createHash('sha256').update(jcsString(bound)).digest('hex');
}

export interface SidecarFound {
  field: 'containers' | 'initContainers' | 'ephemeralContainers';
  index: number;
  container: JsonObject;
}

/** Every container of the pod named like the sidecar. */
export function sidecarsOf(pod: unknown): SidecarFound[] {
  const out: SidecarFound[] = [];
  for (const field of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    (arrayAt(pod, 'spec', field) ?? []).forEach((c, index) => {
      if (isObject(c) && c.name === SIDECAR_CONTAINER) out.push({ field, index, container: c });
    });
  }
  return out;
}

export type SidecarState = { state: 'none' } | { state: 'injected'; found: SidecarFound; digest: string } | { state: 'look-alike'; message: string };

/**
 * Self-consistency only (no lookup): one container named helm-guardian whose bound fields hash to
 * the pod's annotation. The validator additionally checks that digest against the container the
 * injector makes for the pod's GuardianSidecar, since anyone can compute a SHA-256.
 */
export function sidecarState(pod: unknown): SidecarState {
  const found = sidecarsOf(pod);
  if (found.length === 0) return { state: 'none' };
  const fix = `rename the container (the name ${SIDECAR_CONTAINER} is reserved for the sidecar the webhook injects)`;
  if (found.length > 1) return { state: 'look-alike', message: `several containers are named ${SIDECAR_CONTAINER}; ${fix}` };
  const f = found[0]!;
  const claimed = stringAt(pod, 'metadata', 'annotations', SIDECAR_DIGEST_ANNOTATION);
  const digest = sidecarDigest(f.container);
  if (f.field === 'ephemeralContainers' || claimed !== digest) {
    return { state: 'look-alike', message: `spec.${f.field}[${f.index}] is named ${SIDECAR_CONTAINER} but was not produced by the injector (annotation ${SIDECAR_DIGEST_ANNOTATION} ${claimed ? 'does not match it' : 'is missing'}); ${fix}` };
  }
  return { state: 'injected', found: f, digest };
}
