// Renders the chart with helm and checks each manifest against its Kubernetes schema
// (kubernetes-models; prometheus-operator and cert-manager models for their resources).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../support/shared.js';
import { helmBin } from './tools.js';

export const chartDir = join(repoRoot, 'charts', 'helm-operator');
export const RELEASE = 'helm';
export const NAMESPACE = 'helm-system';

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> }; [k: string]: unknown };

export function helm(args: string[]): { status: number; out: string } {
  try {
    return { status: 0, out: execFileSync(helmBin!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HELM_CACHE_HOME: '/tmp/helm-cache', HELM_CONFIG_HOME: '/tmp/helm-config', HELM_DATA_HOME: '/tmp/helm-data' } }) };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { status: err.status ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** A bundle-signer verifier key: the chart refuses to render without one (values.schema.json). */
export const TRUST_ROOT = 'example-bundle-signer+7383a887+AYFGZA8CSTr0+8VP4zOI513CyTeuC3cnzCsq+xt1GZo+';
export const WITH_ROOT = ['--set-json', `trustRoots=["${TRUST_ROOT}"]`];

/** helm template with a trust root set first (later values override it). */
export function render(values: string[] = []): Manifest[] {
  const r = helm(['template', RELEASE, chartDir, '--namespace', NAMESPACE, '--include-crds', ...WITH_ROOT, ...values]);
  if (r.status !== 0) throw new Error(`helm template failed:\n${r.out}`);
  return parseAllDocuments(r.out)
    .map((d) => {
      if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`);
      return d.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

type Validator = { new (data: never): { validate(): void } };

const MODELS: Record<string, () => Promise<Validator>> = {
  'v1/ServiceAccount': async () => (await import('kubernetes-models/v1/ServiceAccount')).ServiceAccount as unknown as Validator,
  'v1/Service': async () => (await import('kubernetes-models/v1/Service')).Service as unknown as Validator,
  'v1/Secret': async () => (await import('kubernetes-models/v1/Secret')).Secret as unknown as Validator,
  'v1/ConfigMap': async () => (await import('kubernetes-models/v1/ConfigMap')).ConfigMap as unknown as Validator,
  'networking.k8s.io/v1/NetworkPolicy': async () => (await import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy')).NetworkPolicy as unknown as Validator,
  'apps/v1/Deployment': async () => (await import('kubernetes-models/apps/v1/Deployment')).Deployment as unknown as Validator,
  'policy/v1/PodDisruptionBudget': async () => (await import('kubernetes-models/policy/v1/PodDisruptionBudget')).PodDisruptionBudget as unknown as Validator,
  'rbac.authorization.k8s.io/v1/ClusterRole': async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole')).ClusterRole as unknown as Validator,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding')).ClusterRoleBinding as unknown as Validator,
  'rbac.authorization.k8s.io/v1/Role': async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/Role')).Role as unknown as Validator,
  'rbac.authorization.k8s.io/v1/RoleBinding': async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding')).RoleBinding as unknown as Validator,
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': async () =>
    (await import('kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration')).MutatingWebhookConfiguration as unknown as Validator,
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': async () =>
    (await import('kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration')).ValidatingWebhookConfiguration as unknown as Validator,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': async () =>
    (await import('kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition')).CustomResourceDefinition as unknown as Validator,
  'monitoring.coreos.com/v1/ServiceMonitor': async () => (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor')).ServiceMonitor as unknown as Validator,
  'monitoring.coreos.com/v1/PodMonitor': async () => (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor')).PodMonitor as unknown as Validator,
  'monitoring.coreos.com/v1/PrometheusRule': async () => (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule')).PrometheusRule as unknown as Validator,
  'cert-manager.io/v1/Issuer': async () => (await import('@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer')).Issuer as unknown as Validator,
  'cert-manager.io/v1/Certificate': async () => (await import('@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate')).Certificate as unknown as Validator,
};

/** Throws for a manifest that fails its schema or whose kind has no schema here. */
export async function validateManifest(m: Manifest): Promise<void> {
  const key = `${m.apiVersion}/${m.kind}`;
  const model = MODELS[key];
  if (!model) throw new Error(`no schema for ${key} (${m.metadata?.name}): add its model to test/chart/render.ts`);
  const Model = await model();
  new Model(m as never).validate();
}

export const byKind = (ms: Manifest[], kind: string): Manifest[] => ms.filter((m) => m.kind === kind);
export const one = (ms: Manifest[], kind: string): Manifest => {
  const found = byKind(ms, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!;
};
