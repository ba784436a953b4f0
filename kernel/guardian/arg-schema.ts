// Tool argument (and output) schemas are hardened before compilation so that an unknown field is
// denied at any depth even when the author forgot `additionalProperties: false`. Keywords whose
// meaning the forcing would break (allOf splits an object's properties across subschemas) or that
// would reopen the schema (`true`, typeless schemas) are lint errors instead: a schema either
// describes every field or does not compile.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { JsonObject, JsonValue } from './bundle-types.js';
import { isDecimalMultiple } from './decimal.js';
import * as metaSchema from './meta-schema-validator.gen.js';
import type { ReasonCode } from './reason-codes.js';

export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

const FORBIDDEN = ['allOf', 'if', 'then', 'else', 'dependentSchemas', 'unevaluatedProperties', 'unevaluatedItems', '$dynamicRef', '$dynamicAnchor', '$recursiveRef', '$recursiveAnchor', '$id', '$anchor'];
const ANNOTATIONS = new Set(['description', 'title', '$comment', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly']);
const MAP_POSITIONS = ['properties', 'patternProperties', '$defs'];
const LIST_POSITIONS = ['prefixItems', 'anyOf', 'oneOf'];
const SINGLE_POSITIONS = ['additionalProperties', 'items', 'contains', 'propertyNames'];

function isObj(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function types(s: JsonObject): string[] | null {
  if (typeof s.type === 'string') return [s.type];
  if (Array.isArray(s.type)) return s.type.filter((t): t is string => typeof t === 'string');
  return null;
}

/**
 * Returns a hardened copy of `schema` and the reasons it cannot be hardened. `not` subschemas are
 * left alone: forcing inside a negation would widen what the outer schema accepts.
 */
export function hardenSchema(schema: JsonValue, root = ''): { schema: JsonValue; issues: SchemaIssue[] } {
  const issues: SchemaIssue[] = [];
  const out = walk(schema, root, issues, true);
  return { schema: out, issues };
}

function walk(s: JsonValue, path: string, issues: SchemaIssue[], isRoot = false): JsonValue {
  if (s === true) {
    issues.push({ path, message: 'schema `true` accepts any value; declare a type' });
    return s;
  }
  if (s === false) return s;
  if (!isObj(s)) {
    issues.push({ path, message: 'schema must be an object or a boolean' });
    return s;
  }
  const out: JsonObject = { ...s };
  for (const k of FORBIDDEN) if (k in s) issues.push({ path: `${path}/${k}`, message: `keyword ${k} is not supported in tool schemas` });
  if (!isRoot && '$schema' in s) issues.push({ path: `${path}/$schema`, message: '$schema is allowed only at the root' });
  if ('$ref' in s) {
    if (typeof s.$ref !== 'string' || !/^#\/\$defs\/[^/]+$/.test(s.$ref)) issues.push({ path: `${path}/$ref`, message: 'only local references #/$defs/<name> are supported' });
    const siblings = Object.keys(s).filter((k) => k !== '$ref' && !ANNOTATIONS.has(k));
    if (siblings.length) issues.push({ path, message: `$ref must not have sibling keywords (${siblings.join(', ')})` });
  }
  const combinator = 'anyOf' in s || 'oneOf' in s || '$ref' in s;
  const hasShape = 'properties' in s || 'patternProperties' in s || 'required' in s;
  const t = types(s);
  if (combinator && hasShape) issues.push({ path, message: 'object properties must not be split between a schema and its anyOf/oneOf branches' });
  if (!combinator && t === null && !('const' in s) && !('enum' in s)) {
    issues.push({ path, message: 'schema has no type, so it accepts any value; declare a type' });
  }
  if (t?.includes('object')) {
    if (s.additionalProperties === true) issues.push({ path: `${path}/additionalProperties`, message: 'additionalProperties: true accepts unknown fields; give a value schema for open maps' });
    if (!('additionalProperties' in s)) out.additionalProperties = false;
  }
  // ajv divides in binary floating point (0.07 / 0.01 is not an integer there): a decimal
  // divisor is checked exactly instead (decimal.ts).
  if (typeof s.multipleOf === 'number' && !Number.isInteger(s.multipleOf)) {
    delete out.multipleOf;
    out[DECIMAL_MULTIPLE_OF] = s.multipleOf;
  }
  if (t?.includes('array') && !('items' in s)) issues.push({ path, message: 'array schema needs `items` (items of any shape would accept unknown fields)' });
  for (const k of MAP_POSITIONS) {
    const m = s[k];
    if (m === undefined) continue;
    if (!isObj(m)) continue; // ajv strict mode reports the malformed keyword
    out[k] = Object.fromEntries(Object.entries(m).map(([name, sub]) => [name, walk(sub, `${path}/${k}/${escapePointer(name)}`, issues)]));
  }
  for (const k of LIST_POSITIONS) {
    const l = s[k];
    if (Array.isArray(l)) out[k] = l.map((sub, i) => walk(sub, `${path}/${k}/${i}`, issues));
  }
  for (const k of SINGLE_POSITIONS) {
    const sub = s[k];
    if (sub === undefined || sub === false) continue;
    out[k] = walk(sub, `${path}/${k}`, issues);
  }
  return out;
}

export function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The keyword a decimal `multipleOf` is rewritten to by hardening. */
const DECIMAL_MULTIPLE_OF = 'x-helm-decimal-multipleOf';

const META_SCHEMA = 'https://json-schema.org/draft/2020-12/schema';
const checkMeta = metaSchema.validate as unknown as ValidateFunction;

/**
 * ajv's own schema check (Ajv.validateSchema: same rules, same messages), with the 2020-12
 * meta-schema validator generated at build time: compiling the meta-schema at run time was most
 * of a bundle compile, so of the sidecar's start.
 */
function metaProblem(ajv: Ajv2020, schema: JsonValue): string | null {
  if (typeof schema === 'boolean') return null;
  const $schema = (schema as JsonObject).$schema;
  if ($schema !== undefined && typeof $schema !== 'string') return '$schema must be a string';
  if ($schema !== undefined && $schema !== META_SCHEMA) return `no schema with key or ref "${$schema}"`;
  return checkMeta(schema) ? null : `schema is invalid: ${ajv.errorsText(checkMeta.errors)}`;
}

/** A fresh validator factory: one per compiled bundle, strict, first error only. */
export function newSchemaCompiler(): Ajv2020 {
  // meta: false: schemas are checked by metaProblem before ajv compiles them.
  const ajv = new Ajv2020({ strict: true, allErrors: false, validateFormats: true, meta: false, validateSchema: false });
  (addFormats as unknown as (a: Ajv2020) => Ajv2020)(ajv);
  ajv.addKeyword({
    keyword: DECIMAL_MULTIPLE_OF,
    type: 'number',
    schemaType: 'number',
    errors: false,
    validate: (of: number, data: number) => isDecimalMultiple(data, of),
  });
  return ajv;
}

export type CompiledSchema = { ok: true; validate: ValidateFunction } | { ok: false; issues: SchemaIssue[] };

export function compileToolSchema(ajv: Ajv2020, schema: JsonValue, path: string, requireObjectRoot: boolean): CompiledSchema {
  const hardened = hardenSchema(schema, path);
  const issues = [...hardened.issues];
  if (requireObjectRoot && (!isObj(schema) || schema.type !== 'object')) issues.push({ path, message: 'argument schema must have type "object" at its root' });
  if (issues.length) return { ok: false, issues };
  const meta = metaProblem(ajv, hardened.schema);
  if (meta) return { ok: false, issues: [{ path, message: `schema does not compile: ${meta}` }] };
  try {
    return { ok: true, validate: ajv.compile(hardened.schema as object) };
  } catch (e) {
    return { ok: false, issues: [{ path, message: `schema does not compile: ${(e as Error).message}` }] };
  }
}

export interface ArgViolation {
  readonly reasonCode: ReasonCode;
  /** JSON pointer of the offending field in args. */
  readonly field: string;
  readonly message: string;
}

const PRIORITY: ReasonCode[] = ['ERR_TOOL_ARGS_UNKNOWN_FIELD', 'ERR_TOOL_ARGS_MISSING_REQUIRED', 'ERR_TOOL_ARGS_TYPE_MISMATCH', 'SCHEMA_VIOLATION'];

function classify(err: ErrorObject): ArgViolation {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties':
      return { reasonCode: 'ERR_TOOL_ARGS_UNKNOWN_FIELD', field: `${err.instancePath}/${escapePointer(String(p.additionalProperty))}`, message: 'unknown field' };
    case 'required':
      return { reasonCode: 'ERR_TOOL_ARGS_MISSING_REQUIRED', field: `${err.instancePath}/${escapePointer(String(p.missingProperty))}`, message: 'required field is missing' };
    case 'type':
      return { reasonCode: 'ERR_TOOL_ARGS_TYPE_MISMATCH', field: err.instancePath, message: `must be ${String(p.type)}` };
    default:
      return { reasonCode: 'SCHEMA_VIOLATION', field: err.instancePath, message: err.message ?? err.keyword };
  }
}

/**
 * Maps ajv's errors to one reason code. ajv reports every failed branch of an anyOf, so the most
 * specific code wins, in a fixed order, to keep the verdict deterministic.
 */
export function argViolation(errors: readonly ErrorObject[] | null | undefined): ArgViolation {
  const all = (errors ?? []).map(classify);
  if (all.length === 0) return { reasonCode: 'SCHEMA_VIOLATION', field: '', message: 'arguments do not match the schema' };
  for (const code of PRIORITY) {
    const hit = all.find((v) => v.reasonCode === code);
    if (hit) return hit;
  }
  return all[0]!;
}
