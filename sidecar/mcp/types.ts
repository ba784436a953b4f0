// The gateway's configuration and observation contract (the sidecar mounts the gateway with it).

/**
 * `protocol`: how the gateway negotiates with the upstream. auto (default) probes with
 * server/discover and falls back to the 2025 initialize handshake; legacy skips the probe (one
 * process spawn less for a stdio server known to speak 2025); a version pins that revision.
 */
export type McpUpstreamConfig =
  | { name: string; transport: 'stdio'; command: string; args?: string[]; env?: Record<string, string>; cwd?: string; protocol?: UpstreamProtocol; roots?: boolean }
  | {
      name: string;
      transport: 'http';
      url: string;
      headers?: Record<string, string>;
      /** File holding a bearer token for the upstream (mounted into the sidecar only); read at start. */
      authFile?: string;
      protocol?: UpstreamProtocol;
      /** Declare the roots capability to this upstream and relay its roots/list (off by default; docs/mcp-gateway.md §10). */
      roots?: boolean;
    };

export type UpstreamProtocol = 'auto' | 'legacy' | '2026-07-28';

export interface McpDecisionEvent {
  surface: 'mcp';
  tool: string;
  verdict: string;
  reasonCode: string;
  seconds: number;
  recorded: boolean;
  /** mcp.method.name: tools/call, or rest/execute for the REST surface, tools/list for drift receipts. */
  method: string;
}

export interface McpObserver {
  decision(e: McpDecisionEvent): void;
  upstream(e: { upstream: string; seconds: number; error: string | null }): void;
}
