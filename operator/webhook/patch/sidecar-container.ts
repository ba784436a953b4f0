// The Guardian sidecar container. Native mode makes it an init container with restartPolicy
// Always: it starts before the app, its startupProbe holds the app back until the policy bundle is
// loaded, and it does not keep Jobs from completing. Container mode is the fallback for kubelets
// older than 1.29 (resolve.ts picks the mode from the nodes).
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { BUNDLE_FILE, SIDECAR_CONTAINER, SIGNATURE_FILE, VOLUMES } from '../constants.js';
import { arrayAt, pointer, type JsonObject, type PatchOp } from '../json.js';
import { SIDECAR_ENV as E, SIDECAR_HTTP, SIDECAR_IDENTITY, SIDECAR_MCP_UPSTREAMS_ENV, SIDECAR_PATHS as P } from '../sidecar-contract.js';
import type { PodField } from '../guardian-config.js';
import { modeOf, type InjectionContext } from './context.js';
import { sidecarVolumeMounts, sidecarVolumes } from './sidecar-volumes.js';
import { shippingEnv } from '../../fleet/shipping.js';

const field = (fieldPath: string) => ({ valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });

const fromPod = (f: PodField) => field('label' in f ? `metadata.labels['${f.label}']` : `metadata.annotations['${f.annotation}']`);

/**
 * HELM_PRINCIPAL_ID / HELM_PRINCIPAL_ROLES from the spec, or read by the kubelet from a pod label
 * or annotation (downward API), so the container, and its digest, do not depend on the pod.
 * Roles are comma-separated (a label holds one role; an annotation may hold several).
 */
function principalEnv(g: InjectionContext['guardian']): IEnvVar[] {
  const p = g.principal;
  if (!p) return [];
  const env: IEnvVar[] = [];
  if (p.id !== undefined) env.push({ name: E.principalId, value: p.id });
  else if (p.idFrom) env.push({ name: E.principalId, ...fromPod(p.idFrom) });
  if (p.roles.length > 0) env.push({ name: E.principalRoles, value: p.roles.join(',') });
  else if (p.rolesFrom) env.push({ name: E.principalRoles, ...fromPod(p.rolesFrom) });
  return env;
}

export function sidecarEnv(ctx: InjectionContext, _pod?: unknown): IEnvVar[] {
  const g = ctx.guardian;
  const mounted = new Set(sidecarVolumes(ctx).map((v) => v.name));
  const env: IEnvVar[] = [
    { name: E.podNamespace, ...field('metadata.namespace') },
    { name: E.podServiceAccount, ...field('spec.serviceAccountName') },
    { name: E.podName, ...field('metadata.name') },
    { name: E.podUid, ...field('metadata.uid') },
    // Governed traffic stays on loopback: only this pod's containers can reach it.
    { name: E.listen, value: `127.0.0.1:${ctx.config.governedPort}` },
    // The kubelet probes and Prometheus reach the admin port on the pod IP.
    { name: E.adminListen, value: `0.0.0.0:${ctx.config.adminPort}` },
    // Each sidecar writes <dir>/<pod name>, so a claim shared by the namespace holds one log per pod.
    { name: E.proofgraphDir, value: P.proofgraphDir },
    { name: E.bundle, value: `${P.policyDir}/${BUNDLE_FILE}` },
    { name: E.bundleSignature, value: `${P.policyDir}/${SIGNATURE_FILE}` },
    { name: E.bundleTrustRoots, value: ctx.config.bundleTrustRoots.join(',') },
    // Certified identity: fresh keys in memory at every start, certified by the operator.
    { name: E.identity, value: SIDECAR_IDENTITY },
    { name: E.clusterOrigin, value: ctx.certify.clusterOrigin },
    { name: E.certifyUrl, value: ctx.certify.url },
    { name: E.certifyCa, value: ctx.certify.caBundle },
    { name: E.certifyRoot, value: ctx.certify.rootVkey },
    { name: E.certifyTokenFile, value: P.tokenFile },
  ];
  env.push(...principalEnv(g));
  if (g.toolRoutes && Object.keys(g.toolRoutes).length > 0) env.push({ name: E.toolRoutes, value: JSON.stringify(g.toolRoutes) });
  if (g.llmUpstream) env.push({ name: E.upstreamUrl, value: g.llmUpstream.url });
  if (mounted.has(VOLUMES.upstreamCredentials)) env.push({ name: E.upstreamApiKeyFile, value: P.upstreamApiKeyFile });
  if (g.mcpUpstreams.length > 0) {
    const upstreams = g.mcpUpstreams.map((u) => ({ name: u.name, transport: 'http', url: u.url, ...(u.authSecretRef ? { authFile: `${P.mcpCredentialsDir}/${u.name}` } : {}) }));
    env.push({ name: SIDECAR_MCP_UPSTREAMS_ENV, value: JSON.stringify(upstreams) });
  }
  env.push(...shippingEnv(g.shipping, ctx.config.fleetCollector)); // fleet shipping (operator/fleet/shipping.ts)
  return env;
}

export function sidecarContainer(ctx: InjectionContext, pod?: unknown): IContainer {
  const { config, guardian } = ctx;
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'helm-admin', scheme: 'HTTP' as const },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 1,
  });
  const container: IContainer = {
    name: SIDECAR_CONTAINER,
    image: guardian.image,
    imagePullPolicy: config.imagePullPolicy,
    ports: [
      { name: 'helm-governed', containerPort: config.governedPort, protocol: 'TCP' },
      { name: 'helm-admin', containerPort: config.adminPort, protocol: 'TCP' },
    ],
    env: sidecarEnv(ctx, pod),
    resources: (guardian.resources ?? config.defaultResources) as IContainer['resources'],
    volumeMounts: sidecarVolumeMounts(ctx),
    // Up to 2 minutes for the bundle to verify before the pod is failed, polled every second.
    startupProbe: probe(SIDECAR_HTTP.ready, 1, 120),
    readinessProbe: probe(SIDECAR_HTTP.ready, 5, 3),
    livenessProbe: probe(SIDECAR_HTTP.health, 10, 3),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: config.runAsUser,
      runAsGroup: config.runAsUser,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  if (modeOf(ctx) === 'native') container.restartPolicy = 'Always';
  return container;
}

/**
 * Native: first init container, so init containers after it can already reach the sidecar.
 * Container mode: appended, leaving the indices of the app containers (and the env ops that
 * address them) unchanged.
 */
export function sidecarPatch(pod: unknown, ctx: InjectionContext): PatchOp[] {
  const value = sidecarContainer(ctx, pod) as unknown as JsonObject;
  if (modeOf(ctx) === 'native') {
    return arrayAt(pod, 'spec', 'initContainers')
      ? [{ op: 'add', path: pointer('spec', 'initContainers', 0), value }]
      : [{ op: 'add', path: pointer('spec', 'initContainers'), value: [value] }];
  }
  return arrayAt(pod, 'spec', 'containers')
    ? [{ op: 'add', path: pointer('spec', 'containers', '-'), value }]
    : [{ op: 'add', path: pointer('spec', 'containers'), value: [value] }];
}
