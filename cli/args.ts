// Thin wrapper over node:util parseArgs: unknown options and missing values are usage errors.
import { parseArgs } from 'node:util';
import { UsageError } from './io.js';

type Spec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(argv: readonly string[], options: Spec, positionals: { min: number; max: number }): Parsed {
  let r;
  try {
    r = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (r.positionals.length < positionals.min || r.positionals.length > positionals.max) {
    throw new UsageError(positionals.max === 0 ? `unexpected argument ${r.positionals[0]}` : `expected ${positionals.min === positionals.max ? positionals.min : `${positionals.min} to ${positionals.max}`} positional argument(s)`);
  }
  return { values: r.values as Parsed['values'], positionals: r.positionals };
}

export function required(p: Parsed, name: string): string {
  const v = p.values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export function optional(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

export function nonNegativeInt(s: string, what: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(s) || !Number.isSafeInteger(Number(s))) throw new UsageError(`${what} must be a non-negative integer, got ${JSON.stringify(s)}`);
  return Number(s);
}
