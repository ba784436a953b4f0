// Every setting of `helmctl serve`, once: its config-file key, flag, environment variables, type,
// default and meaning. The loader, the usage text and docs/sidecar.md all come from this table,
// so a setting cannot exist in one place and be missing from another.

export type ValueType = 'string' | 'int' | 'bool' | 'list' | 'listen' | 'url' | 'enum' | 'routes' | 'mcp-upstreams';

export type KeyGroup = 'listeners' | 'policy' | 'proofgraph' | 'upstream' | 'identity' | 'process';

export interface KeySpec {
  /** The key in the config file (camelCase). */
  readonly key: string;
  /** Command-line flag without the dashes; null for secrets, which never appear in a process list. */
  readonly flag: string | null;
  /** Environment variables, in priority order (the operator's HELM_* first, then Kubernetes names). */
  readonly env: readonly string[];
  /** False for secrets: a config file is often a ConfigMap, readable by more than the sidecar. */
  readonly inFile: boolean;
  readonly type: ValueType;
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** undefined: required (unless derived, see doc); null: optional without a value. */
  readonly default?: string | number | boolean | readonly string[] | null;
  readonly group: KeyGroup;
  readonly doc: string;
}

const k = <const K extends string>(s: Omit<KeySpec, 'inFile' | 'key'> & { key: K; inFile?: boolean }): KeySpec & { key: K } => ({ inFile: true, ...s });

export const KEYS = [
  k({ key: 'listen', flag: 'listen', env: ['HELM_LISTEN'], type: 'listen', default: '127.0.0.1:8080', group: 'listeners', doc: 'Governed listener (the OpenAI-compatible surface the agent calls), host:port. Loopback by default: only containers of the same pod reach it.' }),
  k({ key: 'adminListen', flag: 'admin-listen', env: ['HELM_ADMIN_LISTEN'], type: 'listen', default: '127.0.0.1:9090', group: 'listeners', doc: 'Admin listener: /healthz, /readyz, /metrics and the approvals API, host:port. Use 0.0.0.0:9090 for kubelet probes and Prometheus scrapes from outside the pod.' }),

  k({ key: 'bundle', flag: 'bundle', env: ['HELM_BUNDLE'], type: 'string', default: null, group: 'policy', doc: 'Policy bundle file (YAML or JSON). Without one every call is denied BUNDLE_MISSING. Watched for changes (fs.watch and polling).' }),
  k({ key: 'bundleSignature', flag: 'bundle-signature', env: ['HELM_BUNDLE_SIGNATURE'], type: 'string', default: null, group: 'policy', doc: 'Detached bundle signature file (JSON {contentHash, signature, signerKeyId}). Required with --bundle; watched like it.' }),
  k({ key: 'bundleTrustRoots', flag: 'bundle-trust-root', env: ['HELM_BUNDLE_TRUST_ROOTS'], type: 'list', default: [], group: 'policy', doc: 'Keys trusted to sign bundles: signed-note verifier keys inline or files holding them (one per line). Repeatable flag; comma-separated in the environment. Required with --bundle.' }),
  k({ key: 'bundleRevoked', flag: 'bundle-revoked', env: ['HELM_BUNDLE_REVOKED'], type: 'list', default: [], group: 'policy', doc: 'Bundle-signer key handles (name+8hex) no longer accepted.' }),
  k({ key: 'bundlePollIntervalMs', flag: 'bundle-poll-interval-ms', env: ['HELM_BUNDLE_POLL_INTERVAL_MS'], type: 'int', min: 50, max: 3_600_000, default: 2000, group: 'policy', doc: 'How often the bundle files are re-read in case fs.watch missed a change (ConfigMap mounts swap a symlink).' }),
  k({ key: 'readyWithoutBundle', flag: 'ready-without-bundle', env: ['HELM_READY_WITHOUT_BUNDLE'], type: 'bool', default: false, group: 'policy', doc: 'Report ready while no verified bundle is in force (the sidecar then denies every call). Off by default: a pod without policy stays unready.' }),

  k({ key: 'proofgraphDir', flag: 'proofgraph-dir', env: ['HELM_PROOFGRAPH_DIR'], type: 'string', group: 'proofgraph', doc: 'The ProofGraph volume; this sidecar writes its log in <dir>/<writerId> (identity certified: <dir>/<namespace>/<podName>/<boot>).' }),
  k({ key: 'writerId', flag: 'writer-id', env: ['HELM_WRITER_ID'], type: 'string', group: 'proofgraph', doc: 'Log directory name under the volume. Default: the pod name. Refused with identity certified (one directory per start).' }),
  k({ key: 'origin', flag: 'origin', env: ['HELM_ORIGIN'], type: 'string', default: null, group: 'proofgraph', doc: "Log origin (checkpoint first line). Default: the log key's name, which must equal it." }),
  k({ key: 'nodeKey', flag: 'node-key', env: ['HELM_NODE_KEY'], type: 'string', group: 'proofgraph', doc: 'Private node key file (signs receipts), as written by helmctl keygen.' }),
  k({ key: 'logKey', flag: 'log-key', env: ['HELM_LOG_KEY'], type: 'string', group: 'proofgraph', doc: 'Private log key file (signs checkpoints); named after the origin and distinct from the node key.' }),
  k({ key: 'trustEvents', flag: 'trust-event', env: ['HELM_TRUST_EVENTS'], type: 'list', default: [], group: 'proofgraph', doc: 'Root-signed key event files (helmctl trust publish/rotate/revoke) to record as trust nodes; already recorded events are skipped.' }),
  k({ key: 'identity', flag: 'identity', env: ['HELM_IDENTITY'], type: 'enum', values: ['static', 'certified'], default: 'static', group: 'proofgraph', doc: 'Where the signing keys come from. static: nodeKey/logKey files and trustEvents. certified: fresh node and log keys made in memory at every start, certified by the operator (certifyUrl) before any call is allowed; origin <clusterOrigin>/<namespace>/<podUid>/<boot>.' }),
  k({ key: 'clusterOrigin', flag: 'cluster-origin', env: ['HELM_CLUSTER_ORIGIN'], type: 'string', default: null, group: 'proofgraph', doc: 'certified identity: the cluster part of every log origin, e.g. helm/prod-eu1.' }),
  k({ key: 'certifyUrl', flag: 'certify-url', env: ['HELM_CERTIFY_URL'], type: 'url', default: null, group: 'proofgraph', doc: "certified identity: the operator's certification endpoint (https://<service>.<namespace>.svc:<port>/v1/certify)." }),
  k({ key: 'certifyCa', flag: 'certify-ca', env: ['HELM_CERTIFY_CA'], type: 'string', default: null, group: 'proofgraph', doc: "certified identity: PEM of the CA that signs the operator's serving certificate (inline PEM or a file)." }),
  k({ key: 'certifyTokenFile', flag: 'certify-token-file', env: ['HELM_CERTIFY_TOKEN_FILE'], type: 'string', default: null, group: 'proofgraph', doc: 'certified identity: the projected ServiceAccount token (audience helm.mindburn.org/certify) that authenticates the pod to the operator.' }),
  k({ key: 'certifyRoot', flag: 'certify-root', env: ['HELM_CERTIFY_ROOT'], type: 'string', default: null, group: 'proofgraph', doc: "certified identity: the operator's certification root verifier key; the trust events it answers with must be signed by it." }),
  k({ key: 'heartbeatIntervalMs', flag: 'heartbeat-interval-ms', env: ['HELM_HEARTBEAT_INTERVAL_MS'], type: 'int', min: 10, max: 86_400_000, default: 60_000, group: 'proofgraph', doc: 'Period of heartbeat nodes (each followed by a checkpoint); recorded in every heartbeat as intervalUs.' }),
  k({ key: 'checkpointEvery', flag: 'checkpoint-every', env: ['HELM_CHECKPOINT_EVERY'], type: 'int', min: 1, max: 1_000_000, default: 1000, group: 'proofgraph', doc: 'Also sign a checkpoint after this many nodes.' }),
  k({ key: 'startSnapshot', flag: 'start-snapshot', env: ['HELM_START_SNAPSHOT'], type: 'bool', default: true, group: 'proofgraph', doc: 'Resume at start from the signed state snapshot kept in the log directory (checked against the log), folding only the entries after it; false rebuilds from the whole log.' }),

  k({ key: 'upstreamUrl', flag: 'upstream-url', env: ['HELM_UPSTREAM_URL'], type: 'url', group: 'upstream', doc: 'Base URL of the OpenAI-compatible API, /v1 included, as an OpenAI SDK baseURL: e.g. https://api.openai.com/v1. The agent calls the sidecar with baseURL http://127.0.0.1:8080/v1.' }),
  k({ key: 'upstreamApiKeyFile', flag: 'upstream-api-key-file', env: ['HELM_UPSTREAM_API_KEY_FILE'], type: 'string', default: null, group: 'upstream', doc: "File holding the provider API key (credential isolation: mount it into the sidecar only). When a key is configured the sidecar replaces the agent's Authorization header; otherwise the agent's header is forwarded unchanged." }),
  k({ key: 'upstreamApiKey', flag: null, inFile: false, env: ['HELM_UPSTREAM_API_KEY'], type: 'string', default: null, group: 'upstream', doc: 'The provider API key itself (environment only; never a flag or config-file key). Exclusive with the key file.' }),
  k({ key: 'upstreamTimeoutMs', flag: 'upstream-timeout-ms', env: ['HELM_UPSTREAM_TIMEOUT_MS'], type: 'int', min: 100, max: 3_600_000, default: 120_000, group: 'upstream', doc: 'Upstream request timeout; a timeout is a receipted deny, never a pass-through.' }),
  k({ key: 'deniedCallMode', flag: 'denied-call-mode', env: ['HELM_DENIED_CALL_MODE'], type: 'enum', values: ['explain', 'error'], default: 'explain', group: 'upstream', doc: 'How a denied tool call reaches the agent: replaced by an assistant explanation with the reason code (explain) or an error response (error).' }),
  k({ key: 'maxBodyBytes', flag: 'max-body-bytes', env: ['HELM_MAX_BODY_BYTES'], type: 'int', min: 1024, max: 1_073_741_824, default: null, group: 'upstream', doc: "Largest request body the governed listener accepts (default: the proxy's)." }),

  k({
    key: 'toolRoutes',
    flag: 'tool-route',
    env: ['HELM_TOOL_ROUTES'],
    type: 'routes',
    default: null,
    group: 'upstream',
    doc: 'How the agent executes each tool, asserted to the kernel: connector and sandbox profile per tool name. Config file: a mapping {tool: {connector, sandbox}}; environment: the same as JSON; flag (repeatable): TOOL=connector:NAME[,sandbox:NAME]. A tool without an entry is judged with neither, so a tool the bundle routes through a connector or sandbox is denied.',
  }),

  k({
    key: 'mcpUpstreams',
    flag: 'mcp-upstreams',
    env: ['HELM_MCP_UPSTREAMS'],
    type: 'mcp-upstreams',
    default: null,
    group: 'upstream',
    doc: 'Upstream MCP servers governed at /mcp (Streamable HTTP), /sse + /messages (legacy SSE) and /mcp/v1/capabilities|execute: a list of {name, transport: stdio, command, args?, env?, cwd?} or {name, transport: http, url, headers?, authFile?} (authFile: a file holding a bearer token, sent as Authorization) (docs/mcp-gateway.md). Config file: a YAML/JSON list; flag and environment: the same as JSON. Tools appear as <name>__<tool>. None: no MCP surface.',
  }),

  k({ key: 'a2aKey', flag: 'a2a-key', env: ['HELM_A2A_KEY'], type: 'string', default: null, group: 'upstream', doc: "Private A2A key file (helmctl keygen): signs this agent's outbound A2A requests and delegation tokens and the agent card served at /a2a/in. Set: the governed listener serves the A2A surface (/a2a/out/<agent> to call remote agents, /a2a/in for callers) under the bundle's a2a section (docs/spec/a2a.md). None: no A2A surface." }),
  k({ key: 'a2aAgentUrl', flag: 'a2a-agent-url', env: ['HELM_A2A_AGENT_URL'], type: 'url', default: null, group: 'upstream', doc: "Base URL of this agent's own A2A server (its card at /.well-known/agent-card.json): inbound A2A calls, once allowed, go to the JSON-RPC interface its card names. None: inbound A2A calls are refused." }),
  k({ key: 'sandboxModuleDir', flag: 'sandbox-module-dir', env: ['HELM_SANDBOX_MODULE_DIR'], type: 'string', default: null, group: 'upstream', doc: "Directory the bundle's wasm tool modules are read from (docs/sandbox.md). Default: the bundle file's directory. The MCP gateway serves the bundle's wasm tools (built-in sandbox upstream) when the bundle in force at start declares one or when this directory is set." }),
  k({ key: 'sandboxWorkers', flag: 'sandbox-workers', env: ['HELM_SANDBOX_WORKERS'], type: 'int', min: 1, max: 64, default: 2, group: 'upstream', doc: 'Worker threads running sandboxed tools at once (each guest runs alone in one; a runaway guest is killed without blocking the others).' }),

  k({ key: 'principalId', flag: 'principal-id', env: ['HELM_PRINCIPAL_ID'], type: 'string', default: null, group: 'identity', doc: 'Principal of every decision. Default: system:serviceaccount:<namespace>:<serviceAccount> from the pod fields below. Never taken from a request header.' }),
  k({ key: 'principalRoles', flag: 'principal-role', env: ['HELM_PRINCIPAL_ROLES'], type: 'list', default: [], group: 'identity', doc: 'Roles of the principal (bundle grants match on them).' }),
  k({ key: 'podNamespace', flag: 'pod-namespace', env: ['HELM_POD_NAMESPACE', 'POD_NAMESPACE'], type: 'string', default: null, group: 'identity', doc: 'Pod namespace (Downward API metadata.namespace); recorded as principal attribute namespace.' }),
  k({ key: 'podName', flag: 'pod-name', env: ['HELM_POD_NAME', 'POD_NAME'], type: 'string', default: null, group: 'identity', doc: 'Pod name (Downward API metadata.name); principal attribute pod and the default writer id.' }),
  k({ key: 'podUid', flag: 'pod-uid', env: ['HELM_POD_UID', 'POD_UID'], type: 'string', default: null, group: 'identity', doc: 'Pod UID (Downward API metadata.uid); part of a certified origin and bound to the ServiceAccount token by the operator.' }),
  k({ key: 'podServiceAccount', flag: 'pod-service-account', env: ['HELM_POD_SERVICE_ACCOUNT', 'POD_SERVICE_ACCOUNT'], type: 'string', default: null, group: 'identity', doc: 'Pod service account (Downward API spec.serviceAccountName); principal attribute serviceAccount.' }),

  k({ key: 'shutdownTimeoutMs', flag: 'shutdown-timeout-ms', env: ['HELM_SHUTDOWN_TIMEOUT_MS'], type: 'int', min: 0, max: 600_000, default: 20_000, group: 'process', doc: 'On SIGTERM/SIGINT, how long in-flight calls may drain before their connections are cut (keep it below the pod terminationGracePeriodSeconds).' }),
  k({ key: 'logLevel', flag: 'log-level', env: ['HELM_LOG_LEVEL'], type: 'enum', values: ['debug', 'info', 'warn', 'error'], default: 'info', group: 'process', doc: 'Least severe level of the JSON log lines written to stderr.' }),
] as const satisfies readonly KeySpec[];

export type ConfigKeyName = (typeof KEYS)[number]['key'];

/** The flag and variable that name the config file itself (not a key inside it). */
export const CONFIG_FILE_FLAG = 'config';
export const CONFIG_FILE_ENV = 'HELM_CONFIG';
