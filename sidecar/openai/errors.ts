// Every answer the proxy makes itself is an OpenAI-shaped error ({error: {message, type, param,
// code}}), so an unmodified SDK raises its usual typed exception (BadRequestError,
// PermissionDeniedError, ...). `code` is one of the proxy codes below; the kernel's verdict and
// reason code travel in error.helm and in the X-Helm-* headers.
import type { SurfaceRefusalCode } from '../../kernel/guardian/refusal.js';
import type { CallDecision } from './gate.js';

export type ProxyErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'not_found'
  | 'method_not_allowed'
  | 'legacy_functions_unsupported'
  | 'unknown_tool_call'
  | 'duplicate_tool_call_id'
  | 'tool_call_not_allowed'
  | 'tool_result_changed'
  | 'tool_result_contract_drift'
  | 'tool_result_unlinkable'
  | 'tool_call_denied'
  | 'approval_required'
  | 'upstream_error'
  | 'upstream_timeout'
  | 'upstream_malformed'
  | 'receipt_unavailable'
  | 'internal_error';

export class ProxyError extends Error {
  /** The receipted decisions behind this answer (what the X-Helm-* headers report). */
  decisions: CallDecision[] = [];
  /** The registered code the refusal of this request is receipted with (else ENVELOPE_INVALID). */
  reasonCode?: SurfaceRefusalCode;

  constructor(
    readonly status: number,
    readonly code: ProxyErrorCode,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'ProxyError';
  }

  because(reasonCode: SurfaceRefusalCode | null): this {
    if (reasonCode !== null) this.reasonCode = reasonCode;
    return this;
  }

  with(decisions: readonly CallDecision[]): this {
    this.decisions.push(...decisions);
    return this;
  }
}

export function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

export function errorBody(e: ProxyError, helm?: unknown): { error: Record<string, unknown> } {
  return { error: { message: e.message, type: errorType(e.status), param: e.param, code: e.code, ...(helm !== undefined ? { helm } : {}) } };
}
