// Structural-schema handling for custom resources the way apiextensions-apiserver does it:
// prune unknown fields, apply defaults, then validate against openAPIV3Schema, then evaluate the
// x-kubernetes-validations CEL rules (cel-rules.ts). Other x-kubernetes-* extensions than
// preserve-unknown-fields, int-or-string and the list types the rules use are not interpreted.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { checkRules, evaluateRules } from './cel-rules.js';
import type { StatusCause } from './errors.js';

type Schema = Record<string, unknown>;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Drops fields the schema does not declare (metadata is the server's business). */
export function prune(schema: Schema | undefined, value: unknown, root = true): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    const items = schema.items as Schema | undefined;
    for (const v of value) prune(items, v, false);
    return;
  }
  if (!isObj(value)) return;
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return;
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const additional = schema.additionalProperties;
  for (const key of Object.keys(value)) {
    if (root && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
    if (Object.hasOwn(props, key)) prune(props[key], value[key], false);
    else if (isObj(additional)) prune(additional as Schema, value[key], false);
    else if (additional !== true) delete value[key];
  }
}

function toAjvSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toAjvSchema);
  if (!isObj(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-kubernetes-')) continue;
    if (k === 'properties' || k === 'patternProperties') {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([pk, pv]) => [pk, toAjvSchema(pv)]));
    } else out[k] = toAjvSchema(v);
  }
  if (schema['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  return out;
}

export interface CompiledSchema {
  readonly raw: Schema;
  /**
   * Prunes, defaults and validates in place; returns the causes of invalidity (empty if valid).
   * old: the stored object on an update (transition rules compare with it).
   */
  admit(obj: Record<string, unknown>, old?: Record<string, unknown>): StatusCause[];
}

function fieldOf(e: ErrorObject): string {
  const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (e.keyword === 'required') return base ? `${base}.${(e.params as { missingProperty: string }).missingProperty}` : (e.params as { missingProperty: string }).missingProperty;
  return base;
}

function causeOf(e: ErrorObject, obj: unknown): StatusCause {
  const field = fieldOf(e);
  if (e.keyword === 'required') return { reason: 'FieldValueRequired', field, message: 'Required value' };
  let value: unknown = obj;
  for (const s of e.instancePath.split('/').slice(1)) value = isObj(value) || Array.isArray(value) ? (value as Record<string, unknown>)[s] : undefined;
  const reason = e.keyword === 'enum' ? 'FieldValueNotSupported' : e.keyword === 'type' ? 'FieldValueTypeInvalid' : 'FieldValueInvalid';
  return { reason, field, message: `Invalid value: ${JSON.stringify(value)}: ${field} in body ${e.message ?? 'is invalid'}` };
}

export function compileSchema(schema: Schema): CompiledSchema {
  const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true, validateFormats: true });
  (addFormats as unknown as (a: Ajv) => Ajv)(ajv);
  for (const f of ['int32', 'int64', 'float', 'double', 'password']) ajv.addFormat(f, true);
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  const validate: ValidateFunction = ajv.compile(toAjvSchema(schema) as object);
  checkRules(schema);
  return {
    raw: schema,
    admit(obj, old) {
      prune(schema, obj);
      // As upstream, the rules run on a structurally valid object only.
      if (validate(obj)) return evaluateRules(schema, obj, old, '', old !== undefined);
      return (validate.errors ?? []).filter((e) => !e.schemaPath.includes('/oneOf/') && !e.schemaPath.includes('/anyOf/')).map((e) => causeOf(e, obj));
    },
  };
}
