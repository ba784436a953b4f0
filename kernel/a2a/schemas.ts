// JSON Schemas (draft 2020-12) of the A2A wire structures: the auth object of a signed request
// and the delegation token. Published as docs/spec/schemas/a2a-*.v1.json; the shape checks in
// request-auth.ts and delegation.ts are the enforcing code and agree with them.
const handle = { type: 'string', pattern: '^[^+\\s]{1,128}\\+[0-9a-f]{8}$' } as const;
const instant = { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' } as const;
const hash = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;
const b64u = (min: number, max: number) => ({ type: 'string', pattern: `^[A-Za-z0-9_-]{${min},${max}}$` });
const names = { type: 'array', maxItems: 64, uniqueItems: true, items: { type: 'string', pattern: '^[A-Za-z0-9._:/*-]{1,128}$' } } as const;
const strict = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, properties, required: Object.keys(properties) });

const decisionRef = strict({ origin: { type: 'string', minLength: 1, maxLength: 256 }, index: { type: 'integer', minimum: 0 }, hash, lamport: { type: 'integer', minimum: 1 } });

export const delegationTokenSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.mindburn.org/schemas/a2a-delegation-token.v1.json',
  title: 'HELM A2A delegation token (helm-a2a-delegation/v1)',
  $ref: '#/$defs/token',
  $defs: {
    token: strict({
      v: { const: 'helm-a2a-delegation/v1' },
      jti: b64u(16, 64),
      iss: handle,
      aud: handle,
      sub: { type: 'string', minLength: 1, maxLength: 512 },
      scope: strict({ skills: names, tools: names, budget: { type: 'integer', minimum: 0, maximum: 1000000 } }),
      iat: instant,
      exp: instant,
      grant: strict({ id: { type: 'string', maxLength: 128 }, policyDigest: hash }),
      decision: decisionRef,
      parent: { anyOf: [{ $ref: '#/$defs/token' }, { type: 'null' }] },
      sig: b64u(86, 86),
    }),
  },
} as const;

export const requestAuthSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.mindburn.org/schemas/a2a-request-auth.v1.json',
  title: 'HELM A2A signed-request auth object (helm-a2a-request/v1)',
  ...strict({
    keyid: handle,
    aud: handle,
    ts: instant,
    nonce: b64u(16, 64),
    parent: { anyOf: [decisionRef, { type: 'null' }] },
    delegation: { anyOf: [{ $ref: 'https://helm.mindburn.org/schemas/a2a-delegation-token.v1.json' }, { type: 'null' }] },
  }),
} as const;
