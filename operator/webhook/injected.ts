// For the certify endpoint (operator/certify, identity branch): was this pod, as read from the API
// server, injected by this webhook? Label helm.mindburn.org/injected=true, a single helm-guardian
// container whose bound fields hash to the pod's helm.mindburn.org/sidecar-digest annotation (the
// validating webhook admitted it only if that equals what the injector makes for its
// GuardianSidecar), and the projected certify token volume mounted by that container only.
import { INJECTED_LABEL, VOLUMES } from './constants.js';
import { arrayAt, isObject, stringAt } from './json.js';
import { sidecarState } from './sidecar-digest.js';

export function injectedByWebhook(pod: unknown): boolean {
  if (stringAt(pod, 'metadata', 'labels', INJECTED_LABEL) !== 'true') return false;
  const state = sidecarState(pod);
  if (state.state !== 'injected') return false;
  const mounts = (c: unknown) => (arrayAt(c, 'volumeMounts') ?? []).filter(isObject).some((m) => m.name === VOLUMES.token);
  if (!mounts(state.found.container)) return false;
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const c of arrayAt(pod, 'spec', field) ?? []) if (c !== state.found.container && mounts(c)) return false;
  }
  return true;
}
