// AdmissionReview v1 (admission.k8s.io/v1) parsing and answers. Parsing is strict: anything that
// is not a well-formed review is refused, and every answer carries the request's uid, which is
// how the API server matches it (a different uid is treated as a webhook failure).
import { isObject, objectAt, type Json, type JsonObject, type PatchOp } from './json.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface AdmissionRequestView {
  uid: string;
  kind: GroupVersionKind;
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  object?: JsonObject;
  oldObject?: JsonObject;
  dryRun: boolean;
}

export type ParsedReview = { ok: true; request: AdmissionRequestView } | { ok: false; uid?: string; message: string };

/** Kubernetes UIDs are UUIDs; anything longer than this is not one we will echo back. */
const MAX_UID_LENGTH = 128;

export function parseAdmissionReview(body: string): ParsedReview {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    return { ok: false, message: `body is not JSON: ${(e as Error).message}` };
  }
  if (!isObject(doc)) return { ok: false, message: 'body is not a JSON object' };
  const req = objectAt(doc, 'request');
  const rawUid = req?.uid;
  const uid = typeof rawUid === 'string' && rawUid.length > 0 && rawUid.length <= MAX_UID_LENGTH ? rawUid : undefined;
  const fail = (message: string): ParsedReview => (uid ? { ok: false, uid, message } : { ok: false, message });
  if (!req) return fail('missing request');
  if (!uid) return fail('request.uid must be a non-empty string of at most 128 characters');
  if (doc.apiVersion !== ADMISSION_API_VERSION) return fail(`apiVersion must be ${ADMISSION_API_VERSION}, got ${JSON.stringify(doc.apiVersion)}`);
  if (doc.kind !== 'AdmissionReview') return fail(`kind must be AdmissionReview, got ${JSON.stringify(doc.kind)}`);

  const gvk = objectAt(req, 'kind');
  if (!gvk || typeof gvk.group !== 'string' || typeof gvk.version !== 'string' || typeof gvk.kind !== 'string' || !gvk.kind) {
    return fail('request.kind must be {group, version, kind}');
  }
  const res = objectAt(req, 'resource');
  if (!res || typeof res.group !== 'string' || typeof res.version !== 'string' || typeof res.resource !== 'string' || !res.resource) {
    return fail('request.resource must be {group, version, resource}');
  }
  const operation = req.operation;
  if (typeof operation !== 'string' || !(OPERATIONS as readonly string[]).includes(operation)) {
    return fail(`request.operation must be one of ${OPERATIONS.join(', ')}`);
  }
  for (const key of ['name', 'namespace', 'subResource'] as const) {
    if (req[key] !== undefined && typeof req[key] !== 'string') return fail(`request.${key} must be a string`);
  }
  if (req.dryRun !== undefined && typeof req.dryRun !== 'boolean') return fail('request.dryRun must be a boolean');
  const object = req.object;
  const oldObject = req.oldObject;
  if (object !== undefined && object !== null && !isObject(object)) return fail('request.object must be an object');
  if (oldObject !== undefined && oldObject !== null && !isObject(oldObject)) return fail('request.oldObject must be an object');
  if ((operation === 'CREATE' || operation === 'UPDATE') && !isObject(object)) return fail(`request.object is required for ${operation}`);
  if (operation === 'UPDATE' && !isObject(oldObject)) return fail('request.oldObject is required for UPDATE');

  const request: AdmissionRequestView = {
    uid,
    kind: { group: gvk.group, version: gvk.version, kind: gvk.kind },
    resource: { group: res.group, version: res.version, resource: res.resource },
    operation: operation as Operation,
    dryRun: req.dryRun === true,
  };
  if (typeof req.name === 'string') request.name = req.name;
  if (typeof req.namespace === 'string') request.namespace = req.namespace;
  if (typeof req.subResource === 'string') request.subResource = req.subResource;
  if (isObject(object)) request.object = object;
  if (isObject(oldObject)) request.oldObject = oldObject;
  return { ok: true, request };
}

export type AdmissionResult =
  | { allowed: true; patch?: PatchOp[]; warnings?: string[] }
  | { allowed: false; code: number; reason: string; message: string };

export function admissionReview(uid: string, result: AdmissionResult): JsonObject {
  const response: JsonObject = { uid, allowed: result.allowed };
  if (result.allowed) {
    if (result.patch && result.patch.length > 0) {
      response.patchType = 'JSONPatch';
      response.patch = Buffer.from(JSON.stringify(result.patch)).toString('base64');
    }
    if (result.warnings && result.warnings.length > 0) response.warnings = result.warnings;
  } else {
    response.status = { code: result.code, reason: result.reason, message: result.message } as Json;
  }
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

export function deny(code: number, reason: string, message: string): AdmissionResult {
  return { allowed: false, code, reason, message };
}
