// JSON Schemas (draft 2020-12) for every ProofGraph statement and predicate body. This file is the
// single source: scripts/gen-schemas.ts writes docs/spec/schemas/ from it and a test checks the
// copies are current. Normative prose: docs/spec/receipt.md.

export const SCHEMA_BASE = 'https://helm.mindburn.org/schemas/proofgraph/';
export const PREDICATE_BASE = 'https://helm.mindburn.org/proofgraph/';
export const NODE_KINDS = ['intent', 'decision', 'effect', 'result', 'trust', 'heartbeat', 'gap', 'approval'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

export function predicateTypeOf(kind: NodeKind): string {
  return `${PREDICATE_BASE}${kind}/v1`;
}

const hash = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;
const time = { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' } as const;
const uint = { type: 'integer', minimum: 0, maximum: 9007199254740991 } as const;
const name = { type: 'string', minLength: 1, maxLength: 512 } as const;
const callId = { type: 'string', minLength: 1, maxLength: 256 } as const;
const reasonCode = { type: 'string', pattern: '^[A-Z][A-Z0-9_]{1,63}$' } as const;

function strict(properties: Record<string, unknown>, required: string[]): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, properties, required };
}

const id = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$' } as const;
const nonce = { type: 'string', pattern: '^[A-Za-z0-9_-]{16,128}$' } as const;
const bucket = strict({ tokens: uint, updatedAt: time }, ['tokens', 'updatedAt']);

/** What an ALLOW took from budgets and rate buckets: the PEP rebuilds its limit state from these. */
const consumed = strict(
  {
    budgets: {
      type: 'array',
      maxItems: 64,
      items: strict({ id, key: name, windowStart: time, calls: uint, cost: uint }, ['id', 'key', 'windowStart', 'calls', 'cost']),
    },
    rates: {
      type: 'array',
      maxItems: 64,
      items: strict({ id, key: name, tokens: uint, before: bucket, after: bucket }, ['id', 'key', 'tokens', 'before', 'after']),
    },
  },
  ['budgets', 'rates'],
);

/** The approval ceremony an ESCALATE opens: the challenge nonce and the PEP-clock window. */
const escalation = strict(
  {
    approval: id,
    approvers: { type: 'array', items: name, minItems: 1, maxItems: 256 },
    quorum: { type: 'integer', minimum: 1, maximum: 256 },
    timelockSeconds: uint,
    holdSeconds: uint,
    timeoutSeconds: uint,
    nonce,
    notBefore: time,
    expiresAt: time,
  },
  ['approval', 'approvers', 'quorum', 'timelockSeconds', 'holdSeconds', 'timeoutSeconds', 'nonce', 'notBefore', 'expiresAt'],
);

/** Why the PEP's verdict differs from (or refers beyond) the pure evaluation: see docs/spec/pep.md. */
const basis = strict(
  {
    kind: { enum: ['approved', 'approval-pending', 'approval-timeout', 'approval-rejected', 'duplicate', 'request', 'overload'] },
    nonce,
    decision: hash,
    approvals: { type: 'array', items: hash, maxItems: 256 },
  },
  ['kind'],
);

export const bodySchemas: Record<NodeKind, Record<string, unknown>> = {
  intent: strict(
    {
      surface: { enum: ['openai', 'mcp', 'rest', 'cli'] },
      callId,
      tool: name,
      principal: name,
      argsDigest: hash,
      args: { type: 'object' },
      model: name,
      idempotencyKey: { type: 'string', minLength: 1, maxLength: 256 },
    },
    ['surface', 'callId', 'tool', 'principal', 'argsDigest'],
  ),
  decision: strict(
    {
      callId,
      tool: name,
      verdict: { enum: ['ALLOW', 'DENY', 'ESCALATE'] },
      reasonCode,
      ruleIds: { type: 'array', items: name, maxItems: 256 },
      policyDigest: { anyOf: [hash, { type: 'null' }] },
      inputDigest: hash,
      engine: name,
      consumed,
      escalation,
      retryAfterMs: uint,
      sandbox: id,
      basis,
    },
    ['callId', 'tool', 'verdict', 'reasonCode', 'ruleIds', 'policyDigest', 'inputDigest', 'engine'],
  ),
  effect: strict(
    {
      callId,
      tool: name,
      status: { enum: ['executed', 'failed', 'blocked'] },
      confirmed: { type: 'boolean' },
      durationUs: uint,
      error: { type: 'string', maxLength: 4096 },
    },
    ['callId', 'tool', 'status', 'confirmed'],
  ),
  result: strict(
    {
      callId,
      tool: name,
      status: { enum: ['ok', 'error', 'rejected'] },
      outputDigest: hash,
      reasonCode,
      // A sandboxed call (docs/sandbox.md): the module and what the run consumed.
      compute: strict(
        { moduleSha256: hash, gas: uint, wallMs: uint, peakMemoryPages: uint, outputBytes: uint, outputDigest: hash },
        ['moduleSha256', 'gas', 'wallMs', 'peakMemoryPages', 'outputBytes', 'outputDigest'],
      ),
    },
    ['callId', 'tool', 'status', 'outputDigest'],
  ),
  trust: strict({ event: { $ref: 'https://helm.mindburn.org/schemas/dsse-envelope.json' } }, ['event']),
  heartbeat: strict(
    {
      reason: { enum: ['start', 'periodic', 'policy_change', 'shutdown'] },
      intervalUs: { type: 'integer', minimum: 1, maximum: 9007199254740991 },
      software: name,
      policyDigest: { anyOf: [hash, { type: 'null' }] },
    },
    ['reason', 'intervalUs', 'software'],
  ),
  gap: strict(
    {
      from: time,
      to: time,
      reason: { enum: ['unclean_shutdown', 'store_unavailable', 'clock_jump', 'other'] },
      detail: { type: 'string', maxLength: 4096 },
      deniedCalls: uint,
    },
    ['from', 'to', 'reason'],
  ),
  approval: strict(
    {
      callId,
      decision: hash,
      approver: name,
      verdict: { enum: ['approve', 'reject'] },
      nonce,
      policyDigest: hash,
      signature: { type: 'string', pattern: '^[A-Za-z0-9+/]{86}==$' },
      acceptedAt: time,
    },
    ['callId', 'decision', 'approver', 'verdict', 'nonce'],
  ),
};

export const dsseEnvelopeSchema = {
  $id: 'https://helm.mindburn.org/schemas/dsse-envelope.json',
  type: 'object',
  additionalProperties: false,
  required: ['payload', 'payloadType', 'signatures'],
  properties: {
    payload: { type: 'string' },
    payloadType: { type: 'string' },
    signatures: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['keyid', 'sig'],
        properties: { keyid: { type: 'string' }, sig: { type: 'string' } },
      },
    },
  },
} as const;

const parentRef = {
  oneOf: [
    strict({ hash }, ['hash']),
    strict({ origin: name, index: uint, hash }, ['origin', 'index', 'hash']),
  ],
};

/** The full in-toto Statement v1 schema for one node kind. */
export function statementSchema(kind: NodeKind): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${SCHEMA_BASE}${kind}.v1.json`,
    title: `ProofGraph ${kind} node statement`,
    type: 'object',
    additionalProperties: false,
    required: ['_type', 'subject', 'predicateType', 'predicate'],
    properties: {
      _type: { const: 'https://in-toto.io/Statement/v1' },
      subject: {
        type: 'array',
        minItems: 1,
        maxItems: 1,
        items: strict(
          { name, digest: strict({ sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, ['sha256']) },
          ['name', 'digest'],
        ),
      },
      predicateType: { const: predicateTypeOf(kind) },
      predicate: strict(
        {
          origin: name,
          index: uint,
          lamport: { type: 'integer', minimum: 1, maximum: 9007199254740991 },
          prev: { anyOf: [hash, { type: 'null' }] },
          parents: { type: 'array', items: parentRef, maxItems: 64 },
          time,
          body: bodySchemas[kind],
        },
        ['origin', 'index', 'lamport', 'prev', 'parents', 'time', 'body'],
      ),
    },
  };
}

export const TRUST_EVENT_PREDICATE = 'https://helm.mindburn.org/trust/key-event/v1';
export const TRUST_EVENT_TYPES = ['KEY_PUBLISH', 'KEY_ROTATE', 'KEY_REVOKE'] as const;
export type TrustEventType = (typeof TRUST_EVENT_TYPES)[number];

const vkey = { type: 'string', pattern: '^[^+\\s]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$' } as const;

/** A trust event: signed by the root key (and the keys it names), embedded in trust nodes. */
export const trustEventSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${SCHEMA_BASE}trust-event.v1.json`,
  title: 'Trust registry key event statement',
  type: 'object',
  additionalProperties: false,
  required: ['_type', 'subject', 'predicateType', 'predicate'],
  properties: {
    _type: { const: 'https://in-toto.io/Statement/v1' },
    subject: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      items: strict(
        { name, digest: strict({ sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, ['sha256']) },
        ['name', 'digest'],
      ),
    },
    predicateType: { const: TRUST_EVENT_PREDICATE },
    predicate: strict(
      {
        event: { enum: [...TRUST_EVENT_TYPES] },
        purpose: { enum: ['node', 'log'] },
        origin: name,
        key: vkey,
        newKey: vkey,
        fromIndex: uint,
        reason: { type: 'string', maxLength: 1024 },
        issuedAt: time,
      },
      ['event', 'purpose', 'origin', 'key', 'fromIndex', 'issuedAt'],
    ),
  },
} as const;
