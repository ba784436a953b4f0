// The pod volumes the sidecar needs. Credential volumes are mounted into the sidecar only: the
// app containers never see the upstream API key, MCP credentials or the certify token
// (credential isolation). There is no signing-key volume: a certified sidecar makes its keys in
// memory at every start and has them certified by the operator.
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { CERTIFY_AUDIENCE, VOLUMES, policyConfigMapName } from '../constants.js';
import { arrayAt, isObject, pointer, type JsonObject, type PatchOp } from '../json.js';
import { SIDECAR_PATHS } from '../sidecar-contract.js';
import type { InjectionContext } from './context.js';

/**
 * Secret files are readable by everyone inside the one container that mounts them: the sidecar
 * runs as a non-root UID and the kubelet makes the files root-owned unless the pod sets fsGroup,
 * which the injector will not impose on the app. Isolation comes from the mount, not the mode.
 */
const SECRET_MODE = 0o444;

/** The certify token is short-lived; the kubelet refreshes it at 80% of its life. */
export const CERTIFY_TOKEN_SECONDS = 600;

export function sidecarVolumes(ctx: InjectionContext): IVolume[] {
  const g = ctx.guardian;
  const volumes: IVolume[] = [];
  const pg = g.proofGraph;
  // unchosen never gets here (resolve.ts refuses it); an acknowledged emptyDir is the only emptyDir.
  volumes.push(
    pg.kind === 'existingClaim' || pg.kind === 'storageClass'
      ? { name: VOLUMES.proofGraph, persistentVolumeClaim: { claimName: pg.claimName } }
      : { name: VOLUMES.proofGraph, emptyDir: pg.kind === 'emptyDir' && pg.sizeLimit ? { sizeLimit: pg.sizeLimit } : {} },
  );
  volumes.push({ name: VOLUMES.policy, configMap: { name: policyConfigMapName(ctx.bundleId), optional: false } });
  volumes.push({
    name: VOLUMES.token,
    projected: { defaultMode: SECRET_MODE, sources: [{ serviceAccountToken: { audience: CERTIFY_AUDIENCE, expirationSeconds: CERTIFY_TOKEN_SECONDS, path: 'token' } }] },
  });
  const apiKey = g.llmUpstream?.apiKeySecretRef;
  if (apiKey) {
    volumes.push({
      name: VOLUMES.upstreamCredentials,
      secret: { secretName: apiKey.name, items: [{ key: apiKey.key, path: 'api-key' }], defaultMode: SECRET_MODE, optional: false },
    });
  }
  const mcpAuth = g.mcpUpstreams.filter((u) => u.authSecretRef);
  if (mcpAuth.length > 0) {
    volumes.push({
      name: VOLUMES.mcpCredentials,
      projected: {
        defaultMode: SECRET_MODE,
        sources: mcpAuth.map((u) => ({ secret: { name: u.authSecretRef!.name, items: [{ key: u.authSecretRef!.key, path: u.name }], optional: false } })),
      },
    });
  }
  // readOnlyRootFilesystem: Node and the TLS stack still want a writable /tmp.
  volumes.push({ name: VOLUMES.tmp, emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } });
  return volumes;
}

export function sidecarVolumeMounts(ctx: InjectionContext): IVolumeMount[] {
  const names = new Set(sidecarVolumes(ctx).map((v) => v.name));
  const mounts: IVolumeMount[] = [
    { name: VOLUMES.proofGraph, mountPath: SIDECAR_PATHS.proofgraphDir },
    { name: VOLUMES.policy, mountPath: SIDECAR_PATHS.policyDir, readOnly: true },
    { name: VOLUMES.token, mountPath: SIDECAR_PATHS.tokenDir, readOnly: true },
    { name: VOLUMES.upstreamCredentials, mountPath: SIDECAR_PATHS.upstreamDir, readOnly: true },
    { name: VOLUMES.mcpCredentials, mountPath: SIDECAR_PATHS.mcpCredentialsDir, readOnly: true },
    { name: VOLUMES.tmp, mountPath: SIDECAR_PATHS.tmpDir },
  ];
  return mounts.filter((m) => names.has(m.name));
}

/** Adds the volumes the pod lacks: one op creating the list, or one append per volume. */
export function volumePatch(pod: unknown, ctx: InjectionContext): PatchOp[] {
  const existing = arrayAt(pod, 'spec', 'volumes');
  const have = new Set((existing ?? []).filter(isObject).map((v) => v.name));
  const missing = sidecarVolumes(ctx).filter((v) => !have.has(v.name)) as unknown as JsonObject[];
  if (missing.length === 0) return [];
  if (!existing) return [{ op: 'add', path: pointer('spec', 'volumes'), value: missing }];
  return missing.map((v) => ({ op: 'add', path: pointer('spec', 'volumes', '-'), value: v }));
}
