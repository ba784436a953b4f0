// Errors the operator raises carry a code and context; errors from the API server are read back
// into their HTTP code and metav1.Status reason whatever layer produced them (typed API, watch).
export class OperatorError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'OperatorError';
  }
}

export interface ApiStatus {
  code: number;
  reason: string;
  message: string;
}

/** The HTTP status and Status reason of an API error (ApiException, watch error), or null. */
export function apiStatus(e: unknown): ApiStatus | null {
  if (typeof e !== 'object' || e === null || e instanceof DOMException) return null;
  const x = e as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown };
  const code = typeof x.code === 'number' ? x.code : typeof x.statusCode === 'number' ? x.statusCode : null;
  if (code === null) return null;
  let reason = '';
  let message = typeof x.message === 'string' ? x.message : '';
  let body = x.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      body = undefined;
    }
  }
  if (typeof body === 'object' && body !== null) {
    const b = body as { reason?: unknown; message?: unknown };
    if (typeof b.reason === 'string') reason = b.reason;
    if (typeof b.message === 'string') message = b.message;
  }
  return { code, reason, message };
}

export const isNotFound = (e: unknown): boolean => apiStatus(e)?.code === 404;
export const isConflict = (e: unknown): boolean => apiStatus(e)?.code === 409;
export const isGone = (e: unknown): boolean => apiStatus(e)?.code === 410;
export const isAlreadyExists = (e: unknown): boolean => apiStatus(e)?.reason === 'AlreadyExists';

export function describeError(e: unknown): string {
  const s = apiStatus(e);
  if (s) return `${s.code}${s.reason ? ` ${s.reason}` : ''}: ${s.message}`;
  return e instanceof Error ? e.message : String(e);
}
