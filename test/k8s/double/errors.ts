// metav1.Status bodies for failures, shaped like the real API server's so that clients
// (@kubernetes/client-node's ApiException, our operator) see the same code, reason and details.
export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
  type?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Gone'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'Unauthorized'
  | 'Forbidden'
  | 'Timeout'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'RequestEntityTooLarge';

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  status(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export interface Qualified {
  group: string;
  plural: string;
  kind: string;
}

function qualified(r: Qualified): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

export const errors = {
  notFound: (r: Qualified, name: string) => new ApiError(404, 'NotFound', `${qualified(r)} "${name}" not found`, { name, group: r.group, kind: r.plural }),
  namespaceNotFound: (ns: string) => new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' }),
  alreadyExists: (r: Qualified, name: string) => new ApiError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, { name, group: r.group, kind: r.plural }),
  conflict: (r: Qualified, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
    new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, { name, group: r.group, kind: r.plural }),
  applyConflict: (r: Qualified, name: string, causes: StatusCause[]) =>
    new ApiError(409, 'Conflict', `Apply failed with ${causes.length} conflict${causes.length === 1 ? '' : 's'}: ${causes.map((c) => c.message).join('; ')}`, {
      name,
      group: r.group,
      kind: r.plural,
      causes,
    }),
  invalid: (r: Qualified, name: string, causes: StatusCause[]) =>
    new ApiError(422, 'Invalid', `${r.kind}.${r.group || 'core'} "${name}" is invalid: ${causes.map((c) => `${c.field ?? ''}: ${c.message}`).join(', ')}`, {
      name,
      group: r.group,
      kind: r.kind,
      causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', ...c })),
    }),
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  invalidPatch: (message: string) => new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`),
  gone: (message: string) => new ApiError(410, 'Expired', message),
  methodNotAllowed: (message: string) => new ApiError(405, 'MethodNotAllowed', message),
  unsupportedMediaType: (type: string) => new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${type})`),
  unauthorized: () => new ApiError(401, 'Unauthorized', 'Unauthorized'),
  tooLargeResourceVersion: (rv: number, current: number) =>
    new ApiError(504, 'Timeout', `Too large resource version: ${rv}, current: ${current}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }),
};
