// From a parsed AdmissionRequest to an answer. Lookups are the only I/O; everything else is the
// pure guard, recipe and validation functions.
import { deny, type AdmissionRequestView, type AdmissionResult } from './admission.js';
import type { InjectorConfig } from './config.js';
import { stringAt, type JsonObject } from './json.js';
import type { ClusterLookup } from './lookup.js';
import { needsInjection } from './needs-injection.js';
import { injectionPatch, reinvocationPatch } from './patch/index.js';
import { resolveInjection, type CertifySource } from './resolve.js';
import { validateRequest } from './validate.js';

export interface WebhookMetricsSink {
  injection(result: string, reason: string): void;
  latency(seconds: number, kind: 'mutate' | 'validate'): void;
}

export interface WebhookDeps {
  config: InjectorConfig;
  lookup: ClusterLookup;
  /** Certified-identity values injected into sidecars (certify-context.ts); none: injection refused. */
  certify?: CertifySource;
  metrics?: WebhookMetricsSink;
  log?: (event: Record<string, unknown>) => void;
}

export type InjectionOutcome = 'injected' | 'skipped' | 'denied' | 'error';

/** Injection refused for a reason the pod's author must fix. */
function refuse(message: string): AdmissionResult {
  return deny(403, 'Forbidden', `helm.mindburn.org injection: ${message}`);
}

export async function mutate(req: AdmissionRequestView, deps: WebhookDeps): Promise<{ result: AdmissionResult; outcome: InjectionOutcome; reason: string }> {
  if (req.kind.kind !== 'Pod' || req.resource.resource !== 'pods' || req.subResource || req.operation !== 'CREATE') {
    return { result: { allowed: true }, outcome: 'skipped', reason: 'not-a-pod-create' };
  }
  const pod = req.object as JsonObject;
  const namespace = req.namespace ?? stringAt(pod, 'metadata', 'namespace') ?? '';
  const { config, lookup } = deps;
  const decision = needsInjection(pod, namespace, config);
  if (decision.reason === 'already-injected') {
    const patch = reinvocationPatch(pod, { config });
    return { result: { allowed: true, patch }, outcome: 'skipped', reason: decision.reason };
  }
  if (decision.reason === 'port-conflict' || decision.reason === 'reserved-name' || decision.reason === 'sidecar-look-alike') {
    return { result: refuse(decision.message ?? decision.reason), outcome: 'denied', reason: decision.reason };
  }
  if (!decision.inject) return { result: { allowed: true }, outcome: 'skipped', reason: decision.reason };

  // Opted in: from here on, a pod that cannot be governed is refused unless failClosed is off.
  const unable = (reason: string, message: string, failClosed: boolean) =>
    failClosed
      ? { result: refuse(message), outcome: 'denied' as const, reason }
      : { result: { allowed: true as const, warnings: [`helm.mindburn.org: pod not injected: ${message}`] }, outcome: 'skipped' as const, reason };

  const resolved = await resolveInjection(pod, namespace, config, lookup, deps.certify);
  if (!resolved.ok) return unable(resolved.reason, resolved.message, resolved.failClosed);
  const patch = injectionPatch(pod, resolved.ctx);
  return { result: { allowed: true, patch }, outcome: 'injected', reason: decision.reason };
}

export async function validate(req: AdmissionRequestView, deps: WebhookDeps): Promise<AdmissionResult> {
  return validateRequest(req, deps);
}
