// How the injected sidecar is configured: the environment variables `helmctl serve` reads
// (sidecar/config/keys.ts is their single definition; a test checks every name here against
// it), the mount paths, and the HTTP paths it serves.
export const SIDECAR_ENV = {
  listen: 'HELM_LISTEN',
  adminListen: 'HELM_ADMIN_LISTEN',
  bundle: 'HELM_BUNDLE',
  bundleSignature: 'HELM_BUNDLE_SIGNATURE',
  bundleTrustRoots: 'HELM_BUNDLE_TRUST_ROOTS',
  proofgraphDir: 'HELM_PROOFGRAPH_DIR',
  upstreamUrl: 'HELM_UPSTREAM_URL',
  upstreamApiKeyFile: 'HELM_UPSTREAM_API_KEY_FILE',
  podNamespace: 'HELM_POD_NAMESPACE',
  podName: 'HELM_POD_NAME',
  podServiceAccount: 'HELM_POD_SERVICE_ACCOUNT',
  podUid: 'HELM_POD_UID',
  principalId: 'HELM_PRINCIPAL_ID',
  principalRoles: 'HELM_PRINCIPAL_ROLES',
  toolRoutes: 'HELM_TOOL_ROUTES',
  identity: 'HELM_IDENTITY',
  clusterOrigin: 'HELM_CLUSTER_ORIGIN',
  certifyUrl: 'HELM_CERTIFY_URL',
  certifyCa: 'HELM_CERTIFY_CA',
  certifyRoot: 'HELM_CERTIFY_ROOT',
  certifyTokenFile: 'HELM_CERTIFY_TOKEN_FILE',
} as const;

/** The sidecar's identity mode as injected: keys made in memory, certified by the operator. */
export const SIDECAR_IDENTITY = 'certified';

/**
 * MCP upstreams of the GuardianSidecar, as JSON [{name, transport: "http", url, authFile?}]: the
 * sidecar's `mcpUpstreams` setting (docs/sidecar.md), which turns authFile into a bearer header.
 */
export const SIDECAR_MCP_UPSTREAMS_ENV = 'HELM_MCP_UPSTREAMS';

export const SIDECAR_PATHS = {
  proofgraphDir: '/var/lib/helm/proofgraph',
  policyDir: '/etc/helm/bundle',
  /** Projected ServiceAccount token (audience helm.mindburn.org/certify), sidecar only. */
  tokenDir: '/var/run/secrets/helm.mindburn.org/token',
  tokenFile: '/var/run/secrets/helm.mindburn.org/token/token',
  upstreamDir: '/etc/helm/upstream',
  upstreamApiKeyFile: '/etc/helm/upstream/api-key',
  mcpCredentialsDir: '/etc/helm/mcp',
  tmpDir: '/tmp',
} as const;

export const SIDECAR_HTTP = {
  health: '/healthz',
  ready: '/readyz',
  metrics: '/metrics',
  /** OpenAI-compatible API root on the governed port. */
  openAiBase: '/v1',
  /** MCP Streamable HTTP endpoint on the governed port. */
  mcp: '/mcp',
} as const;

/** What app containers get, so SDKs talk to the sidecar and never hold the upstream key. */
export const APP_ENV = {
  mcpUrl: 'HELM_MCP_URL',
  /** SDKs refuse to start without a key; the sidecar replaces it with the real one it holds. */
  placeholderKey: 'OPENAI_API_KEY',
  placeholderKeyValue: 'helm-sidecar-managed',
} as const;
