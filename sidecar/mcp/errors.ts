// Gateway failures that are not verdicts: configuration mistakes and upstream trouble. A verdict
// (or a call refused after one) travels as a Refusal (refusal.ts) with its receipts instead.

export type GatewayErrorCode =
  | 'ERR_MCP_CONFIG'
  | 'ERR_MCP_UPSTREAM_UNAVAILABLE'
  | 'ERR_MCP_UPSTREAM_ERROR'
  | 'ERR_MCP_UPSTREAM_TIMEOUT'
  | 'ERR_MCP_CANCELLED'
  | 'ERR_MCP_CLOSED';

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}
