// The policy bundle document as parsed from YAML or JSON. Normative prose:
// docs/spec/policy-bundle.md; schema: bundle-schema.ts. Every number is an integer.
import type { PathScope } from './paths.js';
import type { Verdict } from './reason-codes.js';
import type { A2aPolicyDoc } from './a2a-policy.js';
import type { ComputeProfile, WasmToolDecl } from './sandboxed-tools.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

export const BUNDLE_API_VERSION = 'helm-policy-bundle/v1';
export const SIDE_EFFECTS = ['read', 'write', 'destructive', 'external'] as const;
export type SideEffect = (typeof SIDE_EFFECTS)[number];
export const SURFACES = ['openai', 'mcp', 'rest', 'cli'] as const;
export type Surface = (typeof SURFACES)[number];
export const LIMIT_SCOPES = ['principal', 'tool', 'principal-tool'] as const;
export type LimitScope = (typeof LIMIT_SCOPES)[number];

/** Built-in capability profiles; a bundle may redefine them only more narrowly. */
export const BUILTIN_PROFILES: Readonly<Record<string, CapabilityProfile>> = {
  'read-only': { sideEffects: ['read'] },
  'write-limited': { sideEffects: ['read', 'write'] },
};

export interface Selector {
  /** Tool names; a trailing '*' matches by prefix ("crm.*"). */
  tools?: string[];
  domains?: string[];
  sideEffects?: SideEffect[];
}

export interface DestinationScope {
  /** RFC 6901 pointer into args; a '*' segment means every element of an array or value of an object. */
  arg: string;
  kind: 'url' | 'host';
  /** Names of destination lists (bundle.destinations). */
  allow: string[];
  /** URL schemes accepted for kind 'url' (default ["https"]). */
  schemes?: string[];
}

export interface ToolDecl {
  description?: string;
  domain: string;
  sideEffect: SideEffect;
  /** JSON Schema (2020-12 subset) of the arguments; unknown fields are always denied. */
  args: JsonObject;
  /** Pinned JSON Schema of the result (drift is ERR_CONNECTOR_CONTRACT_DRIFT). */
  output?: JsonObject;
  /** Connectors allowed to serve this tool; absent means the call must name no connector. */
  connectors?: string[];
  /** true: run in its class's sandbox profile; a string: that profile. */
  sandbox?: boolean | string;
  /** Cost units charged against cost budgets per call (default 1). */
  cost?: number;
  destinations?: DestinationScope[];
  /** Path arguments that must lie under one of the listed directories after normalisation. */
  paths?: PathScope[];
  /**
   * Pinned hash of the tool's definition as its server publishes it (MCP: sha256 of the JCS of
   * {description, inputSchema, outputSchema}); a gateway withholds a tool whose definition differs.
   */
  definitionHash?: string;
  /** A WebAssembly module the sidecar runs in the tool's sandbox profile (sandboxed-tools.ts). */
  wasm?: WasmToolDecl;
}

export interface CapabilityProfile {
  description?: string;
  sideEffects: SideEffect[];
  /** If present, only these tools (names or prefix*) are permitted by the profile. */
  tools?: string[];
}

export interface Grant {
  id: string;
  description?: string;
  principals: { ids?: string[]; roles?: string[] };
  domains: string[];
  profile: string;
}

export interface SandboxProfile {
  description?: string;
  network: 'none' | 'destinations';
  filesystem: 'none' | 'read-only' | 'read-write';
  limits?: { wallMs?: number; cpuMs?: number; memoryMb?: number; gas?: number };
  /** Enforced limits and grants for WebAssembly tools (sandboxed-tools.ts). */
  compute?: ComputeProfile;
}

export interface Rule {
  id: string;
  description?: string;
  match?: Selector;
  /** CEL expression over principal, tool, args, context, budget, request; must yield a bool. Default true. */
  when?: string;
  verdict: Verdict;
  reason?: string;
  /** Approval requirement id; required for ESCALATE, forbidden otherwise. */
  approval?: string;
  /** Composition layer: 0 = base bundle, n = nth overlay. Set by composeBundles. */
  layer?: number;
}

export interface Budget {
  id: string;
  description?: string;
  scope: LimitScope;
  match?: Selector;
  windowSeconds: number;
  maxCalls?: number;
  maxCost?: number;
}

export interface RateLimit {
  id: string;
  description?: string;
  scope: LimitScope;
  match?: Selector;
  capacity: number;
  refillTokens: number;
  refillIntervalMs: number;
}

export interface ApprovalRequirement {
  description?: string;
  /** Approver verifier keys (C2SP vkey text). */
  approvers: string[];
  quorum: number;
  timelockSeconds?: number;
  holdSeconds?: number;
  timeoutSeconds: number;
}

export interface FixtureInput {
  callId?: string;
  surface?: Surface;
  principal: { id: string; roles?: string[]; attributes?: JsonObject };
  tool: string;
  args: JsonObject;
  connector?: string | null;
  sandbox?: string | null;
  context?: JsonObject;
  time: string;
  state?: JsonObject;
}

export interface Fixture {
  name: string;
  input: FixtureInput;
  expect: { verdict: Verdict; reasonCode?: string; ruleIds?: string[] };
}

export interface PolicyBundleDoc {
  apiVersion: typeof BUNDLE_API_VERSION;
  kind: 'PolicyBundle';
  metadata: { name: string; version?: string; description?: string; composedFrom?: string[] };
  domains: Record<string, { description?: string }>;
  profiles?: Record<string, CapabilityProfile>;
  grants: Grant[];
  connectors?: Record<string, { description?: string }>;
  destinations?: Record<string, string[]>;
  sandbox?: { profiles: Record<string, SandboxProfile>; classes?: Partial<Record<SideEffect, string>> };
  tools: Record<string, ToolDecl>;
  rules: Rule[];
  budgets?: Budget[];
  rateLimits?: RateLimit[];
  approvals?: Record<string, ApprovalRequirement>;
  fixtures?: Fixture[];
  /** Agent-to-agent calls (docs/spec/a2a.md). */
  a2a?: A2aPolicyDoc;
}

/** An overlay narrows a base bundle; see composeBundles. */
export interface PolicyOverlayDoc {
  apiVersion: typeof BUNDLE_API_VERSION;
  kind: 'PolicyOverlay';
  metadata: { name: string; version?: string; description?: string };
  profiles?: Record<string, CapabilityProfile>;
  grants?: Grant[];
  connectors?: Record<string, { description?: string }>;
  destinations?: Record<string, string[]>;
  sandbox?: { classes: Partial<Record<SideEffect, string>> };
  rules?: Rule[];
  budgets?: Budget[];
  rateLimits?: RateLimit[];
  approvals?: Record<string, ApprovalRequirement>;
  fixtures?: Fixture[];
}
