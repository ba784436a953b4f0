// Shared setup for operator tests: the API-server double, signed bundles from the example bundle
// (keys from fixed test seeds), an operator wired with fast timings, and polling helpers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { parseBundleText, signBundle } from '../../kernel/guardian/index.js';
import { API_VERSION, LABEL_GOVERNED, type PolicyBundle, type PolicyBundleSpec } from '../../operator/api/v1alpha1.js';
import { Operator, type OperatorOptions } from '../../operator/operator.js';
import { ApiServerDouble, type DoubleOptions, type Obj } from '../k8s/api-server-double.js';
import { bundleSigner, otherSigner } from '../guardian/helpers.js';
import { repoRoot } from '../support/shared.js';

export { bundleSigner, otherSigner };
export const EXAMPLE_TEXT = readFileSync(join(repoRoot, 'examples', 'bundles', 'support-desk.yaml'), 'utf8');
export const trust = { roots: [bundleSigner.verifier], revoked: [] as string[] };
export const OPERATOR_NS = 'helm-system';
export const GROUP = 'helm.mindburn.org';

/** The example bundle with its description changed, so each test can have distinct content. */
export function bundleText(variant = ''): string {
  return variant ? EXAMPLE_TEXT.replace(/^  description: (.*)$/m, `  description: $1 (${variant})`) : EXAMPLE_TEXT;
}

/** The content's metadata.name and metadata.version set, as the operator requires them to match the spec. */
export function withIdentity(text: string, bundleId: string, version: number | string): string {
  return text.replace(/^  name: .*$/m, `  name: ${bundleId}`).replace(/^  version: .*$/m, `  version: "${version}"`);
}

/**
 * A signed spec for text. By default the content is first given the spec's bundleId and version
 * (metadata.name, metadata.version); bind: false signs the text as it is.
 */
export function signedSpec(text: string, o: Partial<PolicyBundleSpec> = {}, signer = bundleSigner, bind = true): PolicyBundleSpec {
  const base = { bundleId: 'support-desk', version: 1, conformanceLevel: 'L2' as const, ...o };
  const content = bind ? withIdentity(text, base.bundleId, base.version) : text;
  const sig = signBundle(parseBundleText(content), signer, nodeSuite);
  return { ...base, ...sig, inline: content, ...o };
}

export function policyBundle(name: string, spec: PolicyBundleSpec, namespace = OPERATOR_NS): Obj {
  return { apiVersion: API_VERSION, kind: 'PolicyBundle', metadata: { name, namespace }, spec };
}

export const ACKNOWLEDGED_EMPTY_DIR = { emptyDir: { acknowledgeEvidenceLoss: true } };

export function guardianSidecar(name: string, bundleRef: string, extra: Obj = {}, namespace = OPERATOR_NS): Obj {
  return {
    apiVersion: API_VERSION,
    kind: 'GuardianSidecar',
    metadata: { name, namespace },
    spec: { image: 'ghcr.io/mindburn-labs/helm-guardian:test', conformanceLevel: 'L2', policyBundleRef: bundleRef, proofGraph: ACKNOWLEDGED_EMPTY_DIR, ...extra },
  };
}

/** Cluster-scoped: governs the selected namespaces (default: label helm.mindburn.org/governed=true). */
export function clusterGuardianSidecar(name: string, bundleRef: string, extra: Obj = {}, bundleNamespace = OPERATOR_NS): Obj {
  return {
    apiVersion: API_VERSION,
    kind: 'ClusterGuardianSidecar',
    metadata: { name },
    spec: { image: 'ghcr.io/mindburn-labs/helm-guardian:test', conformanceLevel: 'L2', policyBundleRef: bundleRef, policyBundleNamespace: bundleNamespace, proofGraph: ACKNOWLEDGED_EMPTY_DIR, ...extra },
  };
}

export async function startDouble(o: DoubleOptions = {}): Promise<ApiServerDouble> {
  const d = await ApiServerDouble.start({ bookmarkIntervalMs: 200, ...o });
  d.seed('', 'namespaces', { metadata: { name: OPERATOR_NS } });
  return d;
}

export function governedNamespace(d: ApiServerDouble, name: string, labels: Record<string, string> = { [LABEL_GOVERNED]: 'true' }): Obj {
  return d.seed('', 'namespaces', { metadata: { name, labels } });
}

export const logs: string[] = [];

export function operatorFor(d: ApiServerDouble, o: Partial<OperatorOptions> = {}): Operator {
  return new Operator({
    kubeConfig: d.kubeConfig(),
    namespace: OPERATOR_NS,
    identity: o.identity ?? 'operator-0',
    trust,
    leaderElection: false,
    informer: { silenceMs: 3_000, backoffBaseMs: 20, backoffMaxMs: 500 },
    queue: { baseDelayMs: 10, maxDelayMs: 500, maxConcurrency: 2 },
    log: (msg, ctx) => logs.push(`${o.identity ?? 'operator-0'}: ${msg} ${JSON.stringify(ctx ?? {})}`),
    ...o,
  });
}

export async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})\n${logs.slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function bundleStatus(d: ApiServerDouble, name: string, ns = OPERATOR_NS): PolicyBundle['status'] | undefined {
  return (d.get(GROUP, 'policybundles', ns, name) as PolicyBundle | undefined)?.status;
}

export function readyReason(status: PolicyBundle['status'] | undefined): string | undefined {
  return status?.conditions?.find((c) => c.type === 'Ready')?.reason;
}
