// The guard before any patch (Dapr's NeedsPatching): is this pod ours to inject, and is it
// already injected? A pod that is already injected yields no sidecar, no volumes, no annotation.
import {
  INJECT_ANNOTATION,
  INJECT_LABEL,
  OPERATOR_COMPONENT_LABEL,
  OPERATOR_COMPONENT_VALUE,
  SIDECAR_CONTAINER,
  VOLUMES,
} from './constants.js';
import type { InjectorConfig } from './config.js';
import { arrayAt, isObject, objectAt, stringMap, type JsonObject } from './json.js';
import { sidecarState } from './sidecar-digest.js';

export type InjectionReason =
  | 'opted-in'
  | 'not-opted-in'
  | 'opted-out'
  | 'operator-namespace'
  | 'operator-pod'
  | 'already-injected'
  | 'sidecar-look-alike'
  | 'port-conflict'
  | 'reserved-name';

export interface InjectionDecision {
  inject: boolean;
  reason: InjectionReason;
  message?: string;
}

export function podLabels(pod: unknown): Record<string, string> {
  return stringMap(objectAt(pod, 'metadata', 'labels'));
}

export function podAnnotations(pod: unknown): Record<string, string> {
  return stringMap(objectAt(pod, 'metadata', 'annotations'));
}

export function containersOf(pod: unknown, field: 'containers' | 'initContainers'): JsonObject[] {
  return (arrayAt(pod, 'spec', field) ?? []).filter(isObject);
}

export function hasSidecar(pod: unknown): boolean {
  return [...containersOf(pod, 'containers'), ...containersOf(pod, 'initContainers')].some((c) => c.name === SIDECAR_CONTAINER);
}

/** Opt-in is the annotation or the label set to "true"; "false" on either is an explicit opt-out and wins. */
export function optIn(pod: unknown): 'in' | 'out' | 'none' {
  const votes = [podAnnotations(pod)[INJECT_ANNOTATION], podLabels(pod)[INJECT_LABEL]].map((v) => v?.trim().toLowerCase());
  if (votes.includes('false')) return 'out';
  return votes.includes('true') ? 'in' : 'none';
}

/**
 * needsInjection(pod, namespace, config). A pod counts as already injected only when its
 * helm-guardian container carries the injector's digest (sidecar-digest.ts); any other container
 * of that name is a look-alike and refused.
 */
export function needsInjection(pod: unknown, namespace: string, config: InjectorConfig): InjectionDecision {
  if (namespace === config.operatorNamespace) return { inject: false, reason: 'operator-namespace' };
  const labels = podLabels(pod);
  if (labels[OPERATOR_COMPONENT_LABEL] === OPERATOR_COMPONENT_VALUE) return { inject: false, reason: 'operator-pod' };
  const vote = optIn(pod);
  if (vote === 'out') return { inject: false, reason: 'opted-out' };
  if (vote === 'none') return { inject: false, reason: 'not-opted-in' };
  const sidecar = sidecarState(pod);
  if (sidecar.state === 'injected') return { inject: false, reason: 'already-injected' };
  if (sidecar.state === 'look-alike') return { inject: false, reason: 'sidecar-look-alike', message: sidecar.message };
  return conflicts(pod, config) ?? { inject: true, reason: 'opted-in' };
}

/**
 * Containers share the pod's network namespace: an app listening on the sidecar's ports would make
 * one of them fail to bind. Only declared ports can be checked; the sidecar fails its startup
 * probe on an undeclared clash.
 */
function conflicts(pod: unknown, config: InjectorConfig): InjectionDecision | undefined {
  const reserved = new Set([config.governedPort, config.adminPort]);
  for (const c of [...containersOf(pod, 'containers'), ...containersOf(pod, 'initContainers')]) {
    for (const p of (Array.isArray(c.ports) ? c.ports : []).filter(isObject)) {
      if (typeof p.containerPort === 'number' && reserved.has(p.containerPort)) {
        return {
          inject: false,
          reason: 'port-conflict',
          message: `container ${String(c.name)} declares port ${p.containerPort}, which the Guardian sidecar uses`,
        };
      }
    }
  }
  const ours = new Set<string>(Object.values(VOLUMES));
  for (const v of (arrayAt(pod, 'spec', 'volumes') ?? []).filter(isObject)) {
    if (typeof v.name === 'string' && ours.has(v.name)) {
      return { inject: false, reason: 'reserved-name', message: `volume name ${v.name} is reserved for the Guardian sidecar` };
    }
  }
  return undefined;
}
