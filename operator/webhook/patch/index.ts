// GetPatch as a recipe: guard, then one small step per concern, each returning the JSON patch
// operations for what the pod lacks. Steps address the pod as it arrived, so their order only
// matters where it is stated (env before the sidecar in container mode).
import type { PatchOp } from '../json.js';
import type { InjectionDecision } from '../needs-injection.js';
import { appEnvPatch } from './app-env.js';
import { digestPatch, metadataPatch } from './metadata.js';
import type { InjectionContext } from './context.js';
import { sidecarPatch } from './sidecar-container.js';
import { volumePatch } from './sidecar-volumes.js';

export type { InjectionContext } from './context.js';

/** The full injection for a pod that needsInjection() accepted. */
export function injectionPatch(pod: unknown, ctx: InjectionContext): PatchOp[] {
  return [...appEnvPatch(pod, ctx.config, ctx.guardian), ...volumePatch(pod, ctx), ...sidecarPatch(pod, ctx), ...metadataPatch(pod, ctx), ...digestPatch(ctx, pod)];
}

/**
 * An injected pod seen again (reinvocationPolicy IfNeeded: a later webhook changed it) only gets
 * the app env for containers added since; normally that is nothing, so the answer has no patch.
 */
export function reinvocationPatch(pod: unknown, ctx: Pick<InjectionContext, 'config'>): PatchOp[] {
  return appEnvPatch(pod, ctx.config);
}

export function patchFor(pod: unknown, decision: InjectionDecision, ctx: InjectionContext | Pick<InjectionContext, 'config'>): PatchOp[] {
  if (decision.reason === 'already-injected') return reinvocationPatch(pod, ctx);
  if (!decision.inject || !('guardian' in ctx)) return [];
  return injectionPatch(pod, ctx);
}
