// Failures of the sidecar process itself (start-up material, listeners), as opposed to verdicts:
// a denied call is an answer, these stop the sidecar from giving answers at all.
export type SidecarErrorCode =
  | 'ERR_SIDECAR_KEY'
  | 'ERR_SIDECAR_TRUST_ROOT'
  | 'ERR_SIDECAR_TRUST_EVENT'
  | 'ERR_SIDECAR_API_KEY'
  | 'ERR_SIDECAR_ORIGIN'
  | 'ERR_SIDECAR_IDENTITY'
  | 'ERR_SIDECAR_STORE'
  | 'ERR_SIDECAR_LISTEN'
  | 'ERR_SIDECAR_MCP'
  | 'ERR_SIDECAR_A2A_KEY'
  | 'ERR_SIDECAR_A2A_STATE'
  | 'ERR_SIDECAR_STOPPED';

export class SidecarError extends Error {
  constructor(
    readonly code: SidecarErrorCode,
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SidecarError';
  }
}
