// The `a2a` section of a policy bundle (docs/spec/policy-bundle.md §A2A, docs/spec/a2a.md §5):
// remote agents and their card keys, outbound grants (who may call which agent and skill, and what
// they may delegate), inbound callers (keys, skills, tools), upstream delegators, revocations and
// limits. Its schema is built with the bundle schema's own helpers; compileA2a turns the checked
// document into lookups, cached per compiled bundle.
import { parseVerifierKey, type VerifierKey } from '../crypto/keys.js';
import type { Scope } from '../a2a/scope.js';

export const A2A_METHODS = ['SendMessage', 'SendStreamingMessage', 'GetTask', 'CancelTask'] as const;
/** Granted when a grant or caller names no methods; the task methods must be named. */
export const SEND_METHODS: A2aMethod[] = ['SendMessage', 'SendStreamingMessage'];
/** Methods about an existing task: judged under the skill of the call that created it. */
export const TASK_METHODS: readonly string[] = ['GetTask', 'CancelTask'];
export type A2aMethod = (typeof A2A_METHODS)[number];

export interface A2aDelegateRule {
  skills: string[];
  tools: string[];
  maxBudget: number;
  maxTtlSeconds: number;
}

export interface A2aOutboundGrant {
  id: string;
  description?: string;
  principals: { ids?: string[]; roles?: string[] };
  agents: string[];
  skills: string[];
  methods?: A2aMethod[];
  /** What the principal may hand on to the agents of this grant; absent: nothing. */
  delegate?: A2aDelegateRule;
}

export interface A2aCaller {
  id: string;
  description?: string;
  keys: string[];
  skills: string[];
  /** Local tools work delegated by this caller may use (default none). */
  tools?: string[];
  methods?: A2aMethod[];
  requireDelegation?: boolean;
}

export interface A2aLimits {
  maxMessageBytes?: number;
  maxParts?: number;
  maxSkewSeconds?: number;
  maxChainDepth?: number;
}

export interface A2aPolicyDoc {
  agents?: Record<string, { description?: string; url: string; cardKeys: string[] }>;
  outbound?: A2aOutboundGrant[];
  inbound?: { callers: A2aCaller[] };
  /** Keys trusted as upstream issuers in delegation chains (besides the callers' keys). */
  delegators?: string[];
  /** Key handles (card keys, caller keys, delegators) no longer accepted. */
  revoked?: string[];
  limits?: A2aLimits;
}

export const A2A_DEFAULT_LIMITS: Required<A2aLimits> = { maxMessageBytes: 65536, maxParts: 16, maxSkewSeconds: 300, maxChainDepth: 4 };

interface SchemaHelpers {
  obj(p: Record<string, unknown>, required?: string[]): Record<string, unknown>;
  list(items: unknown, extra?: Record<string, unknown>): Record<string, unknown>;
  mapOf(v: unknown): Record<string, unknown>;
  id: unknown;
  text: unknown;
  vkey: unknown;
  principalId: unknown;
}

/** The JSON Schema of the section, from the bundle schema's helpers. */
export function a2aSchemaDef(h: SchemaHelpers): Record<string, unknown> {
  const names = h.list({ type: 'string', pattern: '^[A-Za-z0-9._:/-]{1,128}\\*?$|^\\*$' }, { uniqueItems: true, maxItems: 64 });
  const methods = h.list({ enum: [...A2A_METHODS] }, { uniqueItems: true, minItems: 1 });
  const keys = h.list(h.vkey, { uniqueItems: true, minItems: 1, maxItems: 16 });
  const small = (max: number) => ({ type: 'integer', minimum: 1, maximum: max });
  return h.obj({
    agents: h.mapOf(h.obj({ description: h.text, url: { type: 'string', pattern: '^https?://[^\\s]{1,2000}$' }, cardKeys: keys }, ['url', 'cardKeys'])),
    outbound: h.list(
      h.obj(
        {
          id: h.id,
          description: h.text,
          principals: h.obj({ ids: h.list(h.principalId, { uniqueItems: true }), roles: h.list(h.id, { uniqueItems: true }) }),
          agents: h.list(h.id, { uniqueItems: true, minItems: 1 }),
          skills: names,
          methods,
          delegate: h.obj({ skills: names, tools: names, maxBudget: small(1_000_000), maxTtlSeconds: small(86_400) }, ['skills', 'tools', 'maxBudget', 'maxTtlSeconds']),
        },
        ['id', 'principals', 'agents', 'skills'],
      ),
    ),
    inbound: h.obj({ callers: h.list(h.obj({ id: h.id, description: h.text, keys, skills: names, tools: names, methods, requireDelegation: { type: 'boolean' } }, ['id', 'keys', 'skills'])) }, ['callers']),
    delegators: h.list(h.vkey, { uniqueItems: true, maxItems: 64 }),
    revoked: h.list({ type: 'string', pattern: '^[^+\\s]+\\+[0-9a-f]{8}$' }, { uniqueItems: true }),
    limits: h.obj({ maxMessageBytes: small(16_777_216), maxParts: small(1024), maxSkewSeconds: small(3600), maxChainDepth: small(8) }),
  });
}

export interface CompiledCaller {
  readonly id: string;
  readonly keys: readonly VerifierKey[];
  readonly skills: readonly string[];
  readonly tools: readonly string[];
  readonly methods: readonly A2aMethod[];
  readonly requireDelegation: boolean;
}

export interface CompiledA2a {
  readonly agents: ReadonlyMap<string, { url: string; cardKeys: readonly VerifierKey[] }>;
  readonly outbound: readonly A2aOutboundGrant[];
  readonly callerByKey: ReadonlyMap<string, CompiledCaller>;
  /** Every issuer this side accepts in a delegation chain: callers' keys and delegators. */
  readonly issuers: ReadonlyMap<string, VerifierKey>;
  readonly revoked: ReadonlySet<string>;
  readonly limits: Required<A2aLimits>;
}

export interface A2aIssue {
  path: string;
  message: string;
}

function keysOf(vkeys: readonly string[], path: string, issues: A2aIssue[]): VerifierKey[] {
  const out: VerifierKey[] = [];
  vkeys.forEach((v, i) => {
    try {
      out.push(parseVerifierKey(v));
    } catch (e) {
      issues.push({ path: `${path}/${i}`, message: (e as Error).message });
    }
  });
  return out;
}

/** Compiles a schema-valid section; references and keys that do not hold are issues. */
export function compileA2aPolicy(doc: A2aPolicyDoc | undefined, issues: A2aIssue[] = []): CompiledA2a {
  const agents = new Map<string, { url: string; cardKeys: VerifierKey[] }>();
  for (const [id, a] of Object.entries(doc?.agents ?? {})) agents.set(id, { url: a.url, cardKeys: keysOf(a.cardKeys, `/a2a/agents/${id}/cardKeys`, issues) });
  const seen = new Set<string>();
  (doc?.outbound ?? []).forEach((g, i) => {
    if (seen.has(g.id)) issues.push({ path: `/a2a/outbound/${i}/id`, message: `duplicate grant id ${g.id}` });
    seen.add(g.id);
    for (const a of g.agents) if (!agents.has(a)) issues.push({ path: `/a2a/outbound/${i}/agents`, message: `unknown agent ${a}: declare it in a2a.agents` });
  });
  const callerByKey = new Map<string, CompiledCaller>();
  const issuers = new Map<string, VerifierKey>();
  (doc?.inbound?.callers ?? []).forEach((c, i) => {
    const keys = keysOf(c.keys, `/a2a/inbound/callers/${i}/keys`, issues);
    const compiled: CompiledCaller = { id: c.id, keys, skills: c.skills, tools: c.tools ?? [], methods: c.methods ?? [...SEND_METHODS], requireDelegation: c.requireDelegation ?? false };
    for (const k of keys) {
      if (callerByKey.has(k.handle)) issues.push({ path: `/a2a/inbound/callers/${i}/keys`, message: `key ${k.handle} belongs to two callers` });
      callerByKey.set(k.handle, compiled);
      issuers.set(k.handle, k);
    }
  });
  for (const k of keysOf(doc?.delegators ?? [], '/a2a/delegators', issues)) issuers.set(k.handle, k);
  return { agents, outbound: doc?.outbound ?? [], callerByKey, issuers, revoked: new Set(doc?.revoked ?? []), limits: { ...A2A_DEFAULT_LIMITS, ...doc?.limits } };
}

/** The scope a delegate rule lets a holder hand on. */
export function delegableScope(r: A2aDelegateRule): Scope {
  return { skills: r.skills, tools: r.tools, budget: r.maxBudget };
}

/** Lint of a bundle's a2a section (compileBundle reports them as ERR_REFERENCE). */
export function a2aIssues(doc: { a2a?: A2aPolicyDoc; tools?: Record<string, unknown> }): A2aIssue[] {
  const issues: A2aIssue[] = [];
  if (doc.a2a !== undefined) compileA2aPolicy(doc.a2a, issues);
  for (const t of Object.keys(doc.tools ?? {})) if (t === 'a2a.send' || t === 'a2a.receive') issues.push({ path: `/tools/${t}`, message: `${t} is reserved for A2A calls (docs/spec/a2a.md)` });
  return issues;
}
