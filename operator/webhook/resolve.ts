// Everything the injection of one pod depends on besides the pod: its GuardianSidecar, the
// PolicyBundle's bundleId and the sidecar mode. Shared by the mutating webhook (to inject) and
// the validating webhook (to recompute the sidecar a pod claims and compare digests).
import type { CertifyContext } from './certify-context.js';
import { sidecarModeForNodes, type InjectorConfig, type SidecarMode } from './config.js';
import { GUARDIAN_ANNOTATION, SIDECAR_MODE_ANNOTATION } from './constants.js';
import { chooseGuardian } from './guardian.js';
import { proofGraphProblem } from './guardian-config.js';
import { stringAt } from './json.js';
import type { ClusterLookup } from './lookup.js';
import { podAnnotations, podLabels } from './needs-injection.js';
import type { InjectionContext } from './patch/context.js';

export type Resolved = { ok: true; ctx: InjectionContext } | { ok: false; reason: string; message: string; failClosed: boolean };

/**
 * Per pod: annotation helm.mindburn.org/sidecar-mode (native | container) wins; else the
 * operator's setting, where auto means native only if every node's kubelet is >= 1.29.
 */
export async function resolveMode(pod: unknown, config: InjectorConfig, lookup: ClusterLookup): Promise<{ mode: SidecarMode } | { error: string }> {
  const asked = podAnnotations(pod)[SIDECAR_MODE_ANNOTATION]?.trim();
  if (asked !== undefined) {
    if (asked === 'native' || asked === 'container') return { mode: asked };
    return { error: `annotation ${SIDECAR_MODE_ANNOTATION} is ${JSON.stringify(asked)}; set it to native or container, or remove it` };
  }
  if (config.sidecarMode !== 'auto') return { mode: config.sidecarMode };
  return { mode: sidecarModeForNodes(await lookup.kubeletVersions()) };
}

/** The certified-identity values of this moment; undefined when the operator has no certification root. */
export type CertifySource = () => CertifyContext | undefined;

export async function resolveInjection(
  pod: unknown,
  namespace: string,
  config: InjectorConfig,
  lookup: ClusterLookup,
  certifySource: CertifySource | undefined,
  mode?: SidecarMode,
): Promise<Resolved> {
  const certify = certifySource?.();
  if (!certify) {
    return {
      ok: false,
      reason: 'certify-unconfigured',
      message: 'the operator has no certification root (HELM_CERTIFY_ROOT_KEY_FILE, chart value certify.rootKeySecret) or no CA bundle yet, so no sidecar could certify its keys; configure it',
      failClosed: true,
    };
  }
  const explicit = podAnnotations(pod)[GUARDIAN_ANNOTATION];
  const choice = chooseGuardian(
    await lookup.guardianSidecars(),
    { namespace, labels: podLabels(pod), ...(explicit ? { explicit } : {}) },
    (await lookup.namespaceLabels(namespace)) ?? {},
    await lookup.clusterGuardianSidecars(),
  );
  if (!choice.ok) return { ok: false, reason: choice.reason, message: choice.message, failClosed: config.failClosed };
  const guardian = choice.guardian;
  const volume = proofGraphProblem(guardian.proofGraph);
  if (volume) return { ok: false, reason: 'proofgraph-volume', message: `${guardian.ref}: ${volume}`, failClosed: true };
  const bundle = await lookup.policyBundle(guardian.bundleNamespace, guardian.policyBundleRef);
  const bundleId = stringAt(bundle, 'spec', 'bundleId');
  if (!bundleId) {
    return { ok: false, reason: 'policy-bundle-missing', message: `PolicyBundle ${guardian.bundleNamespace}/${guardian.policyBundleRef} of ${guardian.ref} does not exist`, failClosed: guardian.failClosed };
  }
  let resolvedMode = mode;
  if (!resolvedMode) {
    const m = await resolveMode(pod, config, lookup);
    if ('error' in m) return { ok: false, reason: 'sidecar-mode-invalid', message: m.error, failClosed: true };
    resolvedMode = m.mode;
  }
  return { ok: true, ctx: { namespace, config, guardian, bundleId, certify, mode: resolvedMode } };
}
