// Tool schemas are checked against the JSON Schema 2020-12 meta-schema by a validator generated at
// build time (kernel/guardian/meta-schema-validator.gen.ts), not by ajv compiling the meta-schema
// at run time before the first tool schema of every bundle. The verdicts and messages must be
// those of ajv's own run-time check: this compares them over valid and invalid schemas.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { compileToolSchema, hardenSchema, newSchemaCompiler } from '../../kernel/guardian/arg-schema.js';
import type { JsonValue } from '../../kernel/guardian/bundle-types.js';

const META = 'https://json-schema.org/draft/2020-12/schema';

/** What compiling the hardened schema gave before: ajv with its run-time meta-schema check. */
function runtimeOutcome(schema: JsonValue): string {
  const ajv = new Ajv2020({ strict: true, allErrors: false, validateFormats: true });
  (addFormats as unknown as (a: Ajv2020) => Ajv2020)(ajv);
  ajv.addKeyword({ keyword: 'x-helm-decimal-multipleOf', type: 'number', schemaType: 'number', errors: false, validate: () => true });
  try {
    ajv.compile(hardenSchema(schema).schema as object);
    return 'ok';
  } catch (e) {
    return `schema does not compile: ${(e as Error).message}`;
  }
}

const obj = (properties: Record<string, JsonValue>, extra: Record<string, JsonValue> = {}): JsonValue => ({ type: 'object', properties, ...extra });

const CASES: Array<[string, JsonValue]> = [
  ['valid object', obj({ a: { type: 'string', minLength: 1, maxLength: 5, pattern: '^[a-z]+$' } }, { required: ['a'] })],
  ['valid nested with $defs', obj({ a: { $ref: '#/$defs/x' } }, { $defs: { x: { type: 'integer', minimum: 0 } } })],
  ['valid $schema 2020-12', obj({ a: { type: 'number', multipleOf: 0.01 } }, { $schema: META })],
  ['format is a number', obj({ a: { type: 'string', format: 5 } })],
  ['exclusiveMinimum is a boolean (draft-04 style)', obj({ a: { type: 'number', minimum: 0, exclusiveMinimum: true } })],
  ['unknown type name', obj({ a: { type: 'strin' } })],
  ['negative minLength', obj({ a: { type: 'string', minLength: -1 } })],
  ['required is a string', obj({ a: { type: 'string' } }, { required: 'a' })],
  ['properties is an array', { type: 'object', properties: [] } as JsonValue],
  ['enum is not an array', obj({ a: { type: 'string', enum: 'x' } })],
  ['minItems is a string', obj({ a: { type: 'array', items: { type: 'string' }, minItems: '2' } })],
  ['uniqueItems is a string', obj({ a: { type: 'array', items: { type: 'string' }, uniqueItems: 'yes' } })],
  ['maximum is a string', obj({ a: { type: 'number', maximum: '10' } })],
  ['deep invalid', obj({ a: obj({ b: obj({ c: { type: 'string', maxLength: 1.5 } }) }) })],
  ['$schema draft-07', obj({ a: { type: 'string' } }, { $schema: 'http://json-schema.org/draft-07/schema#' })],
  ['$schema not a string', obj({ a: { type: 'string' } }, { $schema: 7 })],
  ['invalid pattern', obj({ a: { type: 'string', pattern: '(' } })],
  ['unknown keyword (strict)', obj({ a: { type: 'string', minLenght: 1 } })],
];

describe('tool schema meta check', () => {
  it.each(CASES)('%s: same verdict and message as ajv run-time meta-schema validation', (_name, schema) => {
    const r = compileToolSchema(newSchemaCompiler(), schema, '/tools/t/args', true);
    const got = r.ok ? 'ok' : r.issues.map((i) => i.message).join('; ');
    expect(got).toBe(runtimeOutcome(schema));
  });

  it('compiling tool schemas does not compile the meta-schema at run time', () => {
    const ajv = newSchemaCompiler();
    expect(compileToolSchema(ajv, CASES[0]![1], '/tools/t/args', true).ok).toBe(true);
    expect(compileToolSchema(ajv, CASES[4]![1], '/tools/t/args', true).ok).toBe(false);
    expect((ajv as unknown as { schemas: Record<string, unknown> }).schemas[META]).toBeUndefined();
  });
});
