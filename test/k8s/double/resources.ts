// The resources the double serves: the built-in kinds the operator touches, with the validation
// rules that matter to it (ConfigMap size, Secret encoding, Lease/Event fields), and custom
// resources read from CustomResourceDefinition files.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { StatusCause } from './errors.js';
import { compileSchema, type CompiledSchema } from './schema.js';

type Obj = Record<string, unknown>;

export interface ResourceDef {
  /** group/plural */
  readonly id: string;
  readonly group: string;
  readonly version: string;
  readonly apiVersion: string;
  readonly plural: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly statusSubresource: boolean;
  /** Custom resources: generation bumps on any non-metadata, non-status change; status dropped on create. */
  readonly custom: boolean;
  readonly schema?: CompiledSchema;
  /** Built-in validation and normalisation (mutates obj). */
  readonly admit?: (obj: Obj) => StatusCause[];
}

const CONFIGMAP_MAX = 1024 * 1024;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function admitConfigMap(obj: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  let size = 0;
  for (const field of ['data', 'binaryData'] as const) {
    const d = obj[field];
    if (d === undefined || d === null) continue;
    if (!isObj(d)) {
      causes.push({ field, message: 'must be a map' });
      continue;
    }
    for (const [k, v] of Object.entries(d)) {
      if (!DATA_KEY.test(k)) causes.push({ field: `${field}[${k}]`, message: `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'` });
      if (typeof v !== 'string') causes.push({ field: `${field}[${k}]`, message: 'must be a string' });
      else if (field === 'binaryData' && !B64.test(v)) causes.push({ field: `${field}[${k}]`, message: 'must be base64' });
      else size += k.length + (field === 'binaryData' ? Math.floor((v.length * 3) / 4) : Buffer.byteLength(v));
    }
  }
  if (size > CONFIGMAP_MAX) causes.push({ reason: 'FieldValueTooLong', field: '', message: `Too long: must have at most ${CONFIGMAP_MAX} bytes` });
  return causes;
}

function admitSecret(obj: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  if (isObj(obj.stringData)) {
    const data = isObj(obj.data) ? obj.data : {};
    for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    obj.data = data;
  }
  delete obj.stringData;
  if (isObj(obj.data)) for (const [k, v] of Object.entries(obj.data)) {
    if (!DATA_KEY.test(k)) causes.push({ field: `data[${k}]`, message: 'a valid secret key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'' });
    if (typeof v !== 'string' || !B64.test(v)) causes.push({ field: `data[${k}]`, message: 'must be base64' });
  }
  return causes;
}

function admitLease(obj: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = isObj(obj.spec) ? obj.spec : {};
  for (const f of ['acquireTime', 'renewTime']) {
    const v = spec[f];
    if (v !== undefined && v !== null && (typeof v !== 'string' || !MICRO_TIME.test(v))) causes.push({ field: `spec.${f}`, message: `Invalid value: ${JSON.stringify(v)}: must be RFC 3339 with microseconds` });
  }
  for (const f of ['leaseDurationSeconds', 'leaseTransitions']) {
    const v = spec[f];
    if (v !== undefined && v !== null && (!Number.isInteger(v) || (v as number) < 0)) causes.push({ field: `spec.${f}`, message: 'must be a non-negative integer' });
  }
  if (spec.holderIdentity !== undefined && spec.holderIdentity !== null && typeof spec.holderIdentity !== 'string') causes.push({ field: 'spec.holderIdentity', message: 'must be a string' });
  return causes;
}

function admitEventV1(obj: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  if (typeof obj.eventTime !== 'string' || !MICRO_TIME.test(obj.eventTime)) causes.push({ reason: 'FieldValueRequired', field: 'eventTime', message: 'Required value' });
  for (const f of ['reportingController', 'reportingInstance', 'action', 'reason']) if (typeof obj[f] !== 'string' || obj[f] === '') causes.push({ reason: 'FieldValueRequired', field: f, message: 'Required value' });
  if (obj.type !== 'Normal' && obj.type !== 'Warning') causes.push({ reason: 'FieldValueNotSupported', field: 'type', message: `Unsupported value: ${JSON.stringify(obj.type)}: supported values: "Normal", "Warning"` });
  if (typeof obj.note === 'string' && Buffer.byteLength(obj.note) > 1024) causes.push({ reason: 'FieldValueTooLong', field: 'note', message: 'Too long: must have at most 1024 bytes' });
  return causes;
}

function admitPod(obj: Obj): StatusCause[] {
  const spec = obj.spec;
  if (!isObj(spec) || !Array.isArray(spec.containers) || spec.containers.length === 0) return [{ reason: 'FieldValueRequired', field: 'spec.containers', message: 'Required value' }];
  return [];
}

function builtin(group: string, version: string, plural: string, kind: string, namespaced: boolean, statusSubresource: boolean, admit?: (o: Obj) => StatusCause[]): ResourceDef {
  return {
    id: `${group}/${plural}`,
    group,
    version,
    apiVersion: group ? `${group}/${version}` : version,
    plural,
    kind,
    listKind: `${kind}List`,
    namespaced,
    statusSubresource,
    custom: false,
    ...(admit ? { admit } : {}),
  };
}

export function builtinResources(): ResourceDef[] {
  return [
    builtin('', 'v1', 'namespaces', 'Namespace', false, true),
    builtin('', 'v1', 'configmaps', 'ConfigMap', true, false, admitConfigMap),
    builtin('', 'v1', 'secrets', 'Secret', true, false, admitSecret),
    builtin('', 'v1', 'pods', 'Pod', true, true, admitPod),
    builtin('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, true),
    builtin('', 'v1', 'events', 'Event', true, false),
    builtin('', 'v1', 'serviceaccounts', 'ServiceAccount', true, false),
    builtin('events.k8s.io', 'v1', 'events', 'Event', true, false, admitEventV1),
    builtin('coordination.k8s.io', 'v1', 'leases', 'Lease', true, false, admitLease),
    builtin('', 'v1', 'nodes', 'Node', false, true),
    builtin('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, true),
    builtin('admissionregistration.k8s.io', 'v1', 'mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', false, false),
    builtin('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', false, false),
    builtin('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true, false),
    builtin('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true, false),
    builtin('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false, false),
    builtin('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false, false),
    builtin('apps', 'v1', 'deployments', 'Deployment', true, true),
    builtin('', 'v1', 'services', 'Service', true, true),
  ];
}

/** Custom resources from every CustomResourceDefinition in the YAML files of dir (served versions). */
export function crdResources(dir: string): ResourceDef[] {
  const out: ResourceDef[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const crd = doc.toJS() as Obj | null;
      if (!crd || crd.kind !== 'CustomResourceDefinition') continue;
      const spec = crd.spec as { group: string; scope: string; names: { plural: string; kind: string; listKind?: string }; versions: Obj[] };
      for (const v of spec.versions) {
        if (v.served !== true) continue;
        const schema = (v.schema as { openAPIV3Schema?: Obj } | undefined)?.openAPIV3Schema;
        out.push({
          id: `${spec.group}/${spec.names.plural}`,
          group: spec.group,
          version: String(v.name),
          apiVersion: `${spec.group}/${String(v.name)}`,
          plural: spec.names.plural,
          kind: spec.names.kind,
          listKind: spec.names.listKind ?? `${spec.names.kind}List`,
          namespaced: spec.scope === 'Namespaced',
          statusSubresource: isObj(v.subresources) && isObj(v.subresources.status),
          custom: true,
          ...(schema ? { schema: compileSchema(schema) } : {}),
        });
      }
    }
  }
  return out;
}
