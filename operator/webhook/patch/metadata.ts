// Marks an injected pod: label helm.mindburn.org/injected=true (the GuardianSidecar controller
// lists pods by it), annotation helm.mindburn.org/guardian-sidecar=<namespace>/<name> or
// ClusterGuardianSidecar/<name> (which one was applied; a short "name" the author wrote is
// rewritten in full) and helm.mindburn.org/sidecar-digest binding the injected container.
import { GUARDIAN_ANNOTATION, INJECTED_LABEL, SIDECAR_DIGEST_ANNOTATION } from '../constants.js';
import { sidecarDigest } from '../sidecar-digest.js';
import { sidecarContainer } from './sidecar-container.js';
import { objectAt, pointer, type PatchOp } from '../json.js';
import type { InjectionContext } from './context.js';

function setEntry(pod: unknown, map: 'labels' | 'annotations', key: string, value: string): PatchOp[] {
  const current = objectAt(pod, 'metadata', map);
  if (!current) return [{ op: 'add', path: pointer('metadata', map), value: { [key]: value } }];
  if (current[key] === value) return [];
  return [{ op: key in current ? 'replace' : 'add', path: pointer('metadata', map, key), value }];
}

export function metadataPatch(pod: unknown, ctx: InjectionContext): PatchOp[] {
  return [
    ...setEntry(pod, 'labels', INJECTED_LABEL, 'true'),
    ...setEntry(pod, 'annotations', GUARDIAN_ANNOTATION, ctx.guardian.ref),
  ];
}

/** After metadataPatch (which creates the annotations map when the pod has none). */
export function digestPatch(ctx: InjectionContext, pod: unknown): PatchOp[] {
  return [{ op: 'add', path: pointer('metadata', 'annotations', SIDECAR_DIGEST_ANNOTATION), value: sidecarDigest(sidecarContainer(ctx, pod)) }];
}
