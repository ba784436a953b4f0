// JSON Schema (draft 2020-12) of policy bundles and overlays: the single source from which
// docs/spec/schemas/policy-bundle.v1.json is generated. The schema checks shape only; references
// between sections, CEL, argument schemas and reason codes are checked by lint.ts.
import { BUNDLE_API_VERSION, LIMIT_SCOPES, SIDE_EFFECTS, SURFACES } from './bundle-types.js';
import { VERDICTS } from './reason-codes.js';
import { a2aSchemaDef } from './a2a-policy.js';
import { sandboxedDefs } from './sandboxed-schema.js';

export const POLICY_BUNDLE_SCHEMA_ID = 'https://helm.mindburn.org/schemas/policy-bundle.v1.json';

const MAX_SAFE = 9007199254740991;
const id = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$' } as const;
const toolName = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$' } as const;
const toolPattern = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}\\*?$|^\\*$' } as const;
const text = { type: 'string', maxLength: 4096 } as const;
const principalId = { type: 'string', minLength: 1, maxLength: 512 } as const;
const uint = { type: 'integer', minimum: 0, maximum: MAX_SAFE } as const;
const posint = { type: 'integer', minimum: 1, maximum: MAX_SAFE } as const;
const sideEffect = { enum: [...SIDE_EFFECTS] } as const;
const time = { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' } as const;
const reasonCode = { type: 'string', pattern: '^[A-Z][A-Z0-9_]{1,63}$' } as const;
const vkey = { type: 'string', pattern: '^[^+\\s]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$' } as const;
const hash = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;

function obj(properties: Record<string, unknown>, required: string[] = []): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, properties, required };
}
function list(items: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'array', items, maxItems: 4096, ...extra };
}
function mapOf(value: unknown): Record<string, unknown> {
  return { type: 'object', propertyNames: id, additionalProperties: value, maxProperties: 4096 };
}
const uniqueList = (items: unknown) => list(items, { uniqueItems: true });

const defs = {
  ...sandboxedDefs,
  selector: obj({
    tools: uniqueList(toolPattern),
    domains: uniqueList(id),
    sideEffects: uniqueList(sideEffect),
  }),
  destinationScope: obj(
    {
      arg: { type: 'string', pattern: '^(/([^/~]|~[01])*)+$' },
      kind: { enum: ['url', 'host'] },
      allow: uniqueList(id),
      schemes: uniqueList({ type: 'string', pattern: '^[a-z][a-z0-9+.-]*$' }),
    },
    ['arg', 'kind', 'allow'],
  ),
  pathScope: obj(
    {
      arg: { type: 'string', pattern: '^(/([^/~]|~[01])*)+$' },
      under: list({ type: 'string', minLength: 1, maxLength: 4096, pattern: '^/' }, { uniqueItems: true, minItems: 1 }),
    },
    ['arg', 'under'],
  ),
  tool: obj(
    {
      description: text,
      domain: id,
      sideEffect,
      args: { type: 'object' },
      output: { type: 'object' },
      connectors: uniqueList(id),
      sandbox: { anyOf: [{ type: 'boolean' }, id] },
      cost: uint,
      destinations: list({ $ref: '#/$defs/destinationScope' }),
      paths: list({ $ref: '#/$defs/pathScope' }),
      definitionHash: hash,
      wasm: { $ref: '#/$defs/wasmTool' },
    },
    ['domain', 'sideEffect', 'args'],
  ),
  profile: obj({ description: text, sideEffects: uniqueList(sideEffect), tools: uniqueList(toolPattern) }, ['sideEffects']),
  grant: obj(
    {
      id,
      description: text,
      principals: obj({ ids: uniqueList(principalId), roles: uniqueList(id) }),
      domains: uniqueList(id),
      profile: id,
    },
    ['id', 'principals', 'domains', 'profile'],
  ),
  sandboxProfile: obj(
    {
      description: text,
      network: { enum: ['none', 'destinations'] },
      filesystem: { enum: ['none', 'read-only', 'read-write'] },
      limits: obj({ wallMs: posint, cpuMs: posint, memoryMb: posint, gas: posint }),
      compute: { $ref: '#/$defs/computeProfile' },
    },
    ['network', 'filesystem'],
  ),
  sandboxClasses: obj(Object.fromEntries(SIDE_EFFECTS.map((s) => [s, id]))),
  rule: obj(
    {
      id,
      description: text,
      match: { $ref: '#/$defs/selector' },
      when: { type: 'string', minLength: 1, maxLength: 8192 },
      verdict: { enum: [...VERDICTS] },
      reason: reasonCode,
      approval: id,
      layer: uint,
    },
    ['id', 'verdict'],
  ),
  budget: obj(
    {
      id,
      description: text,
      scope: { enum: [...LIMIT_SCOPES] },
      match: { $ref: '#/$defs/selector' },
      windowSeconds: posint,
      maxCalls: uint,
      maxCost: uint,
    },
    ['id', 'scope', 'windowSeconds'],
  ),
  rateLimit: obj(
    {
      id,
      description: text,
      scope: { enum: [...LIMIT_SCOPES] },
      match: { $ref: '#/$defs/selector' },
      capacity: posint,
      refillTokens: posint,
      refillIntervalMs: posint,
    },
    ['id', 'scope', 'capacity', 'refillTokens', 'refillIntervalMs'],
  ),
  approval: obj(
    {
      description: text,
      approvers: list(vkey, { minItems: 1, uniqueItems: true }),
      quorum: posint,
      timelockSeconds: uint,
      holdSeconds: uint,
      timeoutSeconds: posint,
    },
    ['approvers', 'quorum', 'timeoutSeconds'],
  ),
  fixture: obj(
    {
      name: { type: 'string', minLength: 1, maxLength: 256 },
      input: obj(
        {
          callId: { type: 'string', minLength: 1, maxLength: 256 },
          surface: { enum: [...SURFACES] },
          principal: obj({ id: principalId, roles: uniqueList(id), attributes: { type: 'object' } }, ['id']),
          tool: { type: 'string', minLength: 1, maxLength: 512 },
          args: { type: 'object' },
          connector: { anyOf: [id, { type: 'null' }] },
          sandbox: { anyOf: [id, { type: 'null' }] },
          context: { type: 'object' },
          time,
          state: { type: 'object' },
        },
        ['principal', 'tool', 'args', 'time'],
      ),
      expect: obj({ verdict: { enum: [...VERDICTS] }, reasonCode, ruleIds: list(id) }, ['verdict']),
    },
    ['name', 'input', 'expect'],
  ),
  metadata: obj({ name: id, version: { type: 'string', maxLength: 128 }, description: text, composedFrom: list(hash) }, ['name']),
};

const common = {
  apiVersion: { const: BUNDLE_API_VERSION },
  metadata: { $ref: '#/$defs/metadata' },
  profiles: mapOf({ $ref: '#/$defs/profile' }),
  grants: list({ $ref: '#/$defs/grant' }),
  connectors: mapOf(obj({ description: text })),
  destinations: mapOf(list({ type: 'string', minLength: 1, maxLength: 300 }, { uniqueItems: true })),
  rules: list({ $ref: '#/$defs/rule' }),
  budgets: list({ $ref: '#/$defs/budget' }),
  rateLimits: list({ $ref: '#/$defs/rateLimit' }),
  approvals: mapOf({ $ref: '#/$defs/approval' }),
  fixtures: list({ $ref: '#/$defs/fixture' }),
};

const bundle = obj(
  {
    ...common,
    kind: { const: 'PolicyBundle' },
    domains: mapOf(obj({ description: text })),
    sandbox: obj({ profiles: mapOf({ $ref: '#/$defs/sandboxProfile' }), classes: { $ref: '#/$defs/sandboxClasses' } }, ['profiles']),
    tools: { type: 'object', propertyNames: toolName, additionalProperties: { $ref: '#/$defs/tool' }, maxProperties: 4096 },
    a2a: { $ref: '#/$defs/a2a' },
  },
  ['apiVersion', 'kind', 'metadata', 'domains', 'grants', 'tools', 'rules'],
);

const overlay = obj(
  {
    ...common,
    kind: { const: 'PolicyOverlay' },
    sandbox: obj({ classes: { $ref: '#/$defs/sandboxClasses' } }, ['classes']),
  },
  ['apiVersion', 'kind', 'metadata'],
);

/** One schema for both documents, told apart by `kind`. */
export const policyBundleSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: POLICY_BUNDLE_SCHEMA_ID,
  title: 'HELM policy bundle or overlay',
  oneOf: [{ $ref: '#/$defs/bundle' }, { $ref: '#/$defs/overlay' }],
  $defs: { ...defs, bundle, overlay, a2a: a2aSchemaDef({ obj, list, mapOf, id, text, vkey, principalId }) },
} as const;

/** The detached signature object (docs/spec/policy-bundle.md §Signature). */
export const bundleSignatureSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.mindburn.org/schemas/policy-bundle-signature.v1.json',
  title: 'HELM policy bundle detached signature',
  ...obj(
    {
      contentHash: hash,
      signature: { type: 'string', pattern: '^[A-Za-z0-9+/]{86}==$' },
      signerKeyId: { type: 'string', pattern: '^[^+\\s]+\\+[0-9a-f]{8}$' },
    },
    ['contentHash', 'signature', 'signerKeyId'],
  ),
} as const;
