// What every check of kernel/a2a answers: ok with its value, or a refusal carrying a registered
// reason code and a message that names the field and the fix.
import type { ReasonCode } from '../guardian/reason-codes.js';

export interface A2aRefusal {
  readonly ok: false;
  readonly code: ReasonCode;
  readonly message: string;
}

export type A2aResult<T> = ({ readonly ok: true } & T) | A2aRefusal;

export function refuse(code: ReasonCode, message: string): A2aRefusal {
  return { ok: false, code, message };
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Exactly these keys (all of `required`, any of `optional`) or the name of the offending key. */
export function keysProblem(v: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): string | null {
  for (const k of required) if (!Object.hasOwn(v, k)) return `missing field ${k}`;
  for (const k of Object.keys(v)) if (!required.includes(k) && !optional.includes(k)) return `unknown field ${JSON.stringify(k.slice(0, 64))}`;
  return null;
}
