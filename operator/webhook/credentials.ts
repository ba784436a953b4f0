// The trust boundary inside a governed pod: only the sidecar may reach the model API key, MCP
// credentials, operator-managed secrets, the certify token and the sidecar's volumes. An app
// container that could read any of them could call the model ungoverned or have its own keys
// certified and forge receipts. Checked on pods (and pod templates) the webhook governs.
import { CERTIFY_AUDIENCE, RESERVED_VOLUMES, SIDECAR_CONTAINER } from './constants.js';
import type { InjectorConfig } from './config.js';
import type { GuardianView } from './guardian.js';
import { arrayAt, isObject, stringAt, type JsonObject } from './json.js';

/** Secret name -> what it holds, for the messages. */
export type ProtectedSecrets = Map<string, string>;

export function protectedSecrets(guardians: readonly GuardianView[], config: InjectorConfig): ProtectedSecrets {
  const out: ProtectedSecrets = new Map();
  if (config.signingKeySecret) out.set(config.signingKeySecret, 'the operator-managed signing keys');
  for (const g of guardians) {
    const key = g.llmUpstream?.apiKeySecretRef;
    if (key) out.set(key.name, `the model API key of ${g.ref} (spec.llmUpstream.apiKeySecretRef)`);
    for (const u of g.mcpUpstreams) if (u.authSecretRef) out.set(u.authSecretRef.name, `the credential of MCP upstream ${u.name} of ${g.ref} (spec.mcpUpstreams[].authSecretRef)`);
  }
  return out;
}

const FIX = 'only the helm-guardian sidecar may read it; remove the reference (the sidecar holds the credential and apps call it at OPENAI_BASE_URL / HELM_MCP_URL)';

/** Why a volume is off-limits to app containers, or undefined. */
function volumeProblem(v: JsonObject, secrets: ProtectedSecrets): string | undefined {
  const name = String(v.name);
  if (RESERVED_VOLUMES.includes(name)) return `volume ${name} is reserved for the Guardian sidecar`;
  const secretName = stringAt(v, 'secret', 'secretName');
  if (secretName && secrets.has(secretName)) return `volume ${name} holds Secret ${secretName}, ${secrets.get(secretName)}`;
  for (const [i, s] of (arrayAt(v, 'projected', 'sources') ?? []).entries()) {
    const projected = stringAt(s, 'secret', 'name');
    if (projected && secrets.has(projected)) return `volume ${name} projects Secret ${projected} (projected.sources[${i}].secret), ${secrets.get(projected)}`;
    if (stringAt(s, 'serviceAccountToken', 'audience') === CERTIFY_AUDIENCE) {
      return `volume ${name} projects a ServiceAccount token for audience ${CERTIFY_AUDIENCE} (projected.sources[${i}].serviceAccountToken), which certifies sidecar signing keys`;
    }
  }
  return undefined;
}

/**
 * The first way an app container (containers, initContainers, ephemeralContainers; the sidecar
 * itself excepted) can reach protected material, as a message naming the container, the field
 * and the fix; undefined when there is none.
 */
export function credentialLeak(pod: unknown, secrets: ProtectedSecrets): string | undefined {
  const volumes = new Map<string, JsonObject>();
  for (const v of (arrayAt(pod, 'spec', 'volumes') ?? []).filter(isObject)) if (typeof v.name === 'string') volumes.set(v.name, v);
  for (const field of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    for (const [ci, c] of (arrayAt(pod, 'spec', field) ?? []).entries()) {
      if (!isObject(c) || c.name === SIDECAR_CONTAINER) continue;
      const where = `container ${String(c.name)} (spec.${field}[${ci}])`;
      for (const [i, e] of (Array.isArray(c.env) ? c.env : []).entries()) {
        const ref = stringAt(e, 'valueFrom', 'secretKeyRef', 'name');
        if (ref && secrets.has(ref)) return `${where} env[${i}] ${String(stringAt(e, 'name'))} reads Secret ${ref} (valueFrom.secretKeyRef), ${secrets.get(ref)}: ${FIX}`;
      }
      for (const [i, e] of (Array.isArray(c.envFrom) ? c.envFrom : []).entries()) {
        const ref = stringAt(e, 'secretRef', 'name');
        if (ref && secrets.has(ref)) return `${where} envFrom[${i}] reads Secret ${ref} (secretRef), ${secrets.get(ref)}: ${FIX}`;
      }
      for (const [i, m] of (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).entries()) {
        const name = stringAt(m, 'name');
        if (!name) continue;
        const v = volumes.get(name) ?? { name };
        const problem = volumeProblem(v, secrets);
        if (problem) return `${where} volumeMounts[${i}] mounts ${problem}: ${FIX}`;
      }
    }
  }
  return undefined;
}
