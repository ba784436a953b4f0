// JSON Schema fragments of sandbox compute profiles and sandboxed (WebAssembly) tool declarations,
// merged into the bundle schema (bundle-schema.ts). Normative prose: docs/spec/policy-bundle.md §5.7.
const MAX_SAFE = 9007199254740991;
const posint = (maximum: number) => ({ type: 'integer', minimum: 1, maximum }) as const;

function obj(properties: Record<string, unknown>, required: string[] = []): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, properties, required };
}

export const sandboxedDefs = {
  /** What a sandbox profile enforces on a WebAssembly module: limits and grants (deny by default). */
  computeProfile: obj(
    {
      gas: posint(MAX_SAFE),
      wallMs: posint(600_000),
      memoryPages: posint(65_536),
      outputBytes: { type: 'integer', minimum: 0, maximum: 64 * 1024 * 1024 },
      grants: obj({
        preopens: {
          type: 'array',
          maxItems: 16,
          items: obj(
            {
              guestPath: { type: 'string', pattern: '^/[A-Za-z0-9._/-]{0,255}$' },
              hostPath: { type: 'string', pattern: '^/', maxLength: 4096 },
              mode: { enum: ['ro', 'rw'] },
            },
            ['guestPath', 'hostPath', 'mode'],
          ),
        },
        env: { type: 'object', propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' }, additionalProperties: { type: 'string', maxLength: 4096 }, maxProperties: 64 },
        clock: { type: 'boolean' },
        random: { type: 'boolean' },
      }),
    },
    ['gas', 'wallMs', 'memoryPages', 'outputBytes'],
  ),
  /** A tool the sidecar runs itself, as a WebAssembly module pinned by its sha256. */
  wasmTool: obj(
    {
      module: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9._/-]{0,1023}$' },
      sha256: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
      stdin: { anyOf: [{ const: 'args' }, obj({ arg: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' } }, ['arg'])] },
      stdout: { enum: ['json', 'text'] },
      argv: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 4096 } },
    },
    ['module', 'sha256'],
  ),
};
