// The parts of a (Cluster)GuardianSidecar spec that configure what the sidecar allows: the
// principal (id and roles, from a field or from a pod label/annotation), tool routes, and the
// ProofGraph volume. Read defensively; a bad value throws with the field and the fix.
import { createHash } from 'node:crypto';
import { isObject, objectAt, stringAt } from './json.js';

/** A pod label or annotation the sidecar reads through the downward API. */
export type PodField = { label: string } | { annotation: string };

export interface PrincipalConfig {
  id?: string;
  idFrom?: PodField;
  roles: string[];
  rolesFrom?: PodField;
}

export type ToolRoutes = Record<string, { connector?: string; sandbox?: string }>;

/**
 * existingClaim: a PVC the user made (RWX when pods share it). storageClass: the GuardianSidecar
 * controller creates one RWX PVC of that class per governed namespace (claimName). emptyDir:
 * receipts die with the pod, so it needs acknowledgeEvidenceLoss: true. unchosen: refused.
 */
export type ProofGraphChoice =
  | { kind: 'existingClaim'; claimName: string }
  | { kind: 'storageClass'; storageClassName: string; size: string; claimName: string }
  | { kind: 'emptyDir'; sizeLimit?: string; acknowledged: boolean }
  | { kind: 'unchosen' };

export const ACK_FIELD = 'spec.proofGraph.emptyDir.acknowledgeEvidenceLoss';
export const DEFAULT_PROOFGRAPH_SIZE = '10Gi';
const ROUTE_NAME = /^[A-Za-z0-9._:-]{1,128}$/;
const ROLE = /^[^,\s]{1,256}$/;
/** Label and annotation keys: optional DNS prefix, then a name (what fieldRef accepts). */
const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

type Bad = (why: string) => Error;

function podField(v: unknown, field: string, bad: Bad): PodField | undefined {
  if (v === undefined) return undefined;
  const label = stringAt(v, 'label');
  const annotation = stringAt(v, 'annotation');
  if (!isObject(v) || (label === undefined) === (annotation === undefined)) throw bad(`${field} needs exactly one of label or annotation`);
  const key = (label ?? annotation)!;
  if (!KEY.test(key) || key.length > 316) throw bad(`${field}: ${JSON.stringify(key)} is not a label/annotation key`);
  return label !== undefined ? { label } : { annotation: annotation! };
}

export function principalConfig(spec: unknown, bad: Bad): PrincipalConfig | undefined {
  const p = objectAt(spec, 'principal');
  if (!p) return undefined;
  const out: PrincipalConfig = { roles: [] };
  if (p.id !== undefined) {
    if (typeof p.id !== 'string' || !p.id) throw bad('spec.principal.id must be a non-empty string');
    out.id = p.id;
  }
  const idFrom = podField(p.idFrom, 'spec.principal.idFrom', bad);
  if (idFrom) out.idFrom = idFrom;
  if (out.id !== undefined && idFrom) throw bad('spec.principal: set id or idFrom, not both');
  if (p.roles !== undefined) {
    if (!Array.isArray(p.roles) || !p.roles.every((r) => typeof r === 'string' && ROLE.test(r))) throw bad('spec.principal.roles must be a list of role names without commas or spaces');
    out.roles = p.roles as string[];
  }
  const rolesFrom = podField(p.rolesFrom, 'spec.principal.rolesFrom', bad);
  if (rolesFrom) out.rolesFrom = rolesFrom;
  if (out.roles.length > 0 && rolesFrom) throw bad('spec.principal: set roles or rolesFrom, not both');
  return out;
}

export function toolRoutes(spec: unknown, bad: Bad): ToolRoutes | undefined {
  const r = objectAt(spec, 'toolRoutes');
  if (!r) return undefined;
  const out: ToolRoutes = {};
  for (const [tool, route] of Object.entries(r)) {
    if (!tool || tool.length > 512) throw bad(`spec.toolRoutes: tool name ${JSON.stringify(tool.slice(0, 40))} must be 1 to 512 characters`);
    if (!isObject(route)) throw bad(`spec.toolRoutes.${tool} must be {connector, sandbox}`);
    const entry: { connector?: string; sandbox?: string } = {};
    for (const [f, v] of Object.entries(route)) {
      if (f !== 'connector' && f !== 'sandbox') throw bad(`spec.toolRoutes.${tool} has unknown field ${f} (connector, sandbox)`);
      if (typeof v !== 'string' || !ROUTE_NAME.test(v)) throw bad(`spec.toolRoutes.${tool}.${f} must be a name of 1 to 128 characters [A-Za-z0-9._:-]`);
      entry[f] = v;
    }
    out[tool] = entry;
  }
  return out;
}

/** The PVC the controller creates for a storageClass choice, in each governed namespace. */
export function managedClaimName(kind: 'GuardianSidecar' | 'ClusterGuardianSidecar', name: string): string {
  const plain = `helm-proofgraph-${kind === 'ClusterGuardianSidecar' ? 'cluster-' : ''}${name}`;
  if (plain.length <= 253) return plain;
  return `${plain.slice(0, 240)}-${createHash('sha256').update(plain).digest('hex').slice(0, 10)}`;
}

export function proofGraphChoice(spec: unknown, kind: 'GuardianSidecar' | 'ClusterGuardianSidecar', name: string, bad: Bad): ProofGraphChoice {
  const pg = objectAt(spec, 'proofGraph');
  if (!pg) return { kind: 'unchosen' };
  const set = ['existingClaim', 'persistentVolumeClaim', 'storageClass', 'emptyDir'].filter((k) => pg[k] !== undefined);
  if (set.length !== 1) throw bad(`spec.proofGraph needs exactly one of existingClaim, storageClass or emptyDir (got ${set.join(', ') || 'none'})`);
  const which = set[0]!;
  if (which === 'existingClaim' || which === 'persistentVolumeClaim') {
    // persistentVolumeClaim is the published v1alpha1 spelling of existingClaim.
    const claimName = stringAt(pg, which, 'claimName');
    if (!claimName) throw bad(`spec.proofGraph.${which}.claimName is required`);
    return { kind: 'existingClaim', claimName };
  }
  if (which === 'storageClass') {
    const storageClassName = stringAt(pg, 'storageClass', 'name');
    if (!storageClassName) throw bad('spec.proofGraph.storageClass.name is required (a StorageClass offering ReadWriteMany)');
    return { kind: 'storageClass', storageClassName, size: stringAt(pg, 'storageClass', 'size') ?? DEFAULT_PROOFGRAPH_SIZE, claimName: managedClaimName(kind, name) };
  }
  const sizeLimit = stringAt(pg, 'emptyDir', 'sizeLimit');
  const acknowledged = objectAt(pg, 'emptyDir')?.acknowledgeEvidenceLoss === true;
  return sizeLimit ? { kind: 'emptyDir', sizeLimit, acknowledged } : { kind: 'emptyDir', acknowledged };
}

/** Why injection with this volume choice is refused, naming the field and the fix; undefined if fine. */
export function proofGraphProblem(pg: ProofGraphChoice): string | undefined {
  if (pg.kind === 'unchosen') {
    return 'spec.proofGraph is not set: choose existingClaim (a ReadWriteMany PVC), storageClass (the operator creates one PVC per namespace) or emptyDir with acknowledgeEvidenceLoss: true';
  }
  if (pg.kind === 'emptyDir' && !pg.acknowledged) {
    return `spec.proofGraph.emptyDir loses every receipt when the pod is deleted: set ${ACK_FIELD}: true to accept that, or use existingClaim or storageClass`;
  }
  return undefined;
}
