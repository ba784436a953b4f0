// A surface that refuses a call before it can be judged (arguments that are not strict JSON, a
// provider reusing a tool-call id) says why in the decision input, as
// `context.refusal: {reasonCode, detail}`. The Guardian denies such an input with that code,
// whatever the bundle says; being in the input, replay reaches the same code. A caller that sets
// it itself can only deny its own call, and only with one of these codes.
import type { ReasonCode } from './reason-codes.js';

export const SURFACE_REFUSAL_CODES = ['INPUT_DUPLICATE_KEY', 'INPUT_INVALID_UNICODE', 'INPUT_NUMBER_RANGE', 'INPUT_TOO_DEEP', 'INPUT_TOO_LARGE', 'TOOL_CALL_ID_REUSED', 'MCP_DEFINITION_DRIFT', 'MCP_REQUEST_UNATTRIBUTED', 'MCP_INPUT_STATE_UNKNOWN'] as const satisfies readonly ReasonCode[];
export type SurfaceRefusalCode = (typeof SURFACE_REFUSAL_CODES)[number];

/** The refusal a surface recorded in a raw decision input, if any. Never throws. */
export function surfaceRefusal(raw: unknown): { reasonCode: SurfaceRefusalCode; detail: string } | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const context = (raw as Record<string, unknown>).context;
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return null;
  const r = (context as Record<string, unknown>).refusal;
  if (typeof r !== 'object' || r === null) return null;
  const code = (r as Record<string, unknown>).reasonCode;
  if (!(SURFACE_REFUSAL_CODES as readonly unknown[]).includes(code)) return null;
  const detail = (r as Record<string, unknown>).detail;
  return { reasonCode: code as SurfaceRefusalCode, detail: typeof detail === 'string' ? detail.slice(0, 1024) : 'refused by the surface' };
}
