// CRD validation rules (x-kubernetes-validations) evaluated like apiextensions-apiserver: each
// rule is CEL over `self` (the value at the schema node), transition rules (those that read
// `oldSelf`) only on update when an old value exists at that path, `message` or
// `messageExpression`, `fieldPath` and `reason`. The CEL is @bufbuild/cel through the kernel's
// compiler (kernel/guardian/cel.ts); Kubernetes' extension libraries (quantity, url, ip, format,
// ...) are not available, so a rule that uses them fails when the CRD is loaded, as a real server
// refuses a CRD whose rules do not compile. Not modelled: validation ratcheting, cost limits.
import type { JsonValue } from '../../../kernel/guardian/bundle-types.js';
import { compileCel, toCel, type CelProgram } from '../../../kernel/guardian/cel.js';
import type { StatusCause } from './errors.js';

type Schema = Record<string, unknown>;

interface Rule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: string;
}

interface CompiledRule {
  rule: Rule;
  program: CelProgram;
  message: CelProgram | undefined;
  transition: boolean;
}

const REASONS = new Set(['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate']);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function compile(source: string, where: string): CelProgram {
  const c = compileCel(source, { variables: ['self', 'oldSelf'] });
  if (!c.ok) throw new Error(`x-kubernetes-validations at ${where || '<root>'}: rule ${JSON.stringify(source)} does not compile: ${c.message}`);
  return c.program;
}

const cache = new WeakMap<Schema, CompiledRule[]>();

function rulesAt(schema: Schema, where: string): CompiledRule[] {
  const hit = cache.get(schema);
  if (hit) return hit;
  const raw = schema['x-kubernetes-validations'];
  const out = (Array.isArray(raw) ? (raw as Rule[]) : []).map((rule) => ({
    rule,
    program: compile(rule.rule, where),
    message: rule.messageExpression ? compile(rule.messageExpression, where) : undefined,
    transition: /\boldSelf\b/.test(rule.rule),
  }));
  cache.set(schema, out);
  return out;
}

/** Compiles every rule in the schema now, so a CRD with a broken rule fails at load. */
export function checkRules(schema: Schema, where = ''): void {
  rulesAt(schema, where);
  for (const [k, v] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) checkRules(v, where ? `${where}.${k}` : k);
  if (isObj(schema.items)) checkRules(schema.items as Schema, `${where}[*]`);
  if (isObj(schema.additionalProperties)) checkRules(schema.additionalProperties as Schema, `${where}[*]`);
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;
}

/** Validation-rule failures for value (and old, on update) against schema; path is the field path. */
export function evaluateRules(schema: Schema | undefined, value: unknown, old: unknown, path: string, hasOld: boolean): StatusCause[] {
  if (!schema || value === undefined) return [];
  const causes: StatusCause[] = [];
  for (const r of rulesAt(schema, path)) {
    if (r.transition && !hasOld) continue;
    const bindings = { self: toCel(value as JsonValue), ...(hasOld ? { oldSelf: toCel(old as JsonValue) } : {}) };
    const out = r.program.evaluate(bindings);
    const field = r.rule.fieldPath ? `${path}${r.rule.fieldPath.startsWith('.') ? '' : '.'}${r.rule.fieldPath}`.replace(/^\./, '') : path;
    const reason = r.rule.reason && REASONS.has(r.rule.reason) ? r.rule.reason : 'FieldValueInvalid';
    if (!out.ok) {
      causes.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: "${typeName(value)}": ${out.message} evaluating rule: ${r.rule.rule}` });
      continue;
    }
    if (out.value === true) continue;
    let message = r.rule.message ?? `failed rule: ${r.rule.rule}`;
    if (r.message) {
      const m = r.message.evaluate(bindings);
      if (m.ok && typeof m.value === 'string' && m.value.trim() !== '') message = m.value;
    }
    const prefix = reason === 'FieldValueForbidden' ? 'Forbidden' : reason === 'FieldValueRequired' ? 'Required value' : `Invalid value: "${typeName(value)}"`;
    causes.push({ reason, field, message: `${prefix}: ${message}` });
  }
  const join = (k: string) => (path ? `${path}.${k}` : k);
  if (isObj(value)) {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const additional = isObj(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined;
    for (const [k, v] of Object.entries(value)) {
      const sub = Object.hasOwn(props, k) ? props[k] : additional;
      const o = hasOld && isObj(old) && Object.hasOwn(old, k) ? old[k] : undefined;
      causes.push(...evaluateRules(sub, v, o, join(k), o !== undefined));
    }
  } else if (Array.isArray(value) && isObj(schema.items)) {
    // Old elements correlate only in map lists (by their keys) and sets (by value), as upstream.
    const items = schema.items as Schema;
    const keys = schema['x-kubernetes-list-type'] === 'map' ? ((schema['x-kubernetes-list-map-keys'] ?? []) as string[]) : undefined;
    const set = schema['x-kubernetes-list-type'] === 'set';
    value.forEach((v, i) => {
      let o: unknown;
      if (hasOld && Array.isArray(old) && keys && isObj(v)) o = old.find((x) => isObj(x) && keys.every((k) => JSON.stringify(x[k]) === JSON.stringify(v[k])));
      else if (hasOld && Array.isArray(old) && set) o = old.find((x) => JSON.stringify(x) === JSON.stringify(v));
      causes.push(...evaluateRules(items, v, o, `${path}[${i}]`, o !== undefined));
    });
  }
  return causes;
}
