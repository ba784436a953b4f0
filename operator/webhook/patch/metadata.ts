// Marks an injected pod: label helm.mindburn.org/injected=true (the GuardianSidecar controller
// lists pods by it) and annotation helm.mindburn.org/guardian-sidecar=<namespace>/<name> (which
// one was applied; a short "name" the author wrote is rewritten in full).
import { GUARDIAN_ANNOTATION, INJECTED_LABEL } from '../constants.js';
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
    ...setEntry(pod, 'annotations', GUARDIAN_ANNOTATION, `${ctx.guardian.namespace}/${ctx.guardian.name}`),
  ];
}
