// Every JSON-RPC message a client sends the gateway is read by the strict parser (kernel/json)
// before the MCP SDK sees it, on every transport: duplicate keys, lone surrogates, invalid UTF-8,
// numbers outside I-JSON and deep nesting never reach a decision or the recursive code of the
// SDK. A tools/call that fails is not dropped: it is rebuilt as a bare call carrying the
// refusal in `_meta` (META_REFUSAL), so the gateway denies it with a receipt and the client gets
// a JSON-RPC error naming the reason code. Anything else that fails is a parse error (-32700).
import { SURFACE_REFUSAL_CODES, type SurfaceRefusalCode } from '../../kernel/guardian/refusal.js';
import { refusalCodeOf } from '../../kernel/json/codes.js';
import { jcsString } from '../../kernel/crypto/jcs.js';
import { checkJsonValue, parseStrictJson, type JsonInputError } from '../../kernel/json/index.js';
import { META_TOOL_CALL_ID } from './call.js';

/** `_meta` key of a tools/call the screen refused (only ever narrows: the call is denied). */
export const META_REFUSAL = 'helm.mindburn.org/refusal';
/** Deepest nesting of tools/call arguments (the OpenAI surface uses the same). */
export const MAX_ARGUMENTS_DEPTH = 64;
/** Deepest nesting of a whole message: arguments sit three levels down. */
const MAX_MESSAGE_DEPTH = 128;

export type Screened = { ok: true; message: unknown } | { ok: false; code: number; message: string };

export interface ScreenRefusal {
  reasonCode: SurfaceRefusalCode;
  detail: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(e: JsonInputError, where: string): string {
  return `${where} ${e.message} (at ${e.path || '/'})`;
}

/** A tools/call reduced to what the refusal needs: the id, the tool name, the refusal. */
function refusedCall(m: Record<string, unknown>, r: ScreenRefusal): Record<string, unknown> {
  const p = isObject(m.params) ? m.params : {};
  const meta = isObject(p._meta) ? p._meta : {};
  const callId = meta[META_TOOL_CALL_ID];
  const id = typeof m.id === 'string' || (typeof m.id === 'number' && Number.isSafeInteger(m.id)) ? m.id : null;
  return {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: typeof p.name === 'string' && p.name.length > 0 && p.name.length <= 512 && p.name.isWellFormed() ? p.name : '(invalid)',
      _meta: { [META_REFUSAL]: r, ...(typeof callId === 'string' && callId.length <= 256 && callId.isWellFormed() ? { [META_TOOL_CALL_ID]: callId } : {}) },
    },
  };
}

const isToolsCall = (m: unknown): m is Record<string, unknown> => isObject(m) && m.method === 'tools/call' && m.id !== undefined && m.id !== null;

/** Checks the arguments of a strictly parsed message; a too-deep argument value is refused. */
function screenParsed(m: unknown): unknown {
  if (!isToolsCall(m)) return m;
  const p = isObject(m.params) ? m.params : null;
  if (p === null || p.arguments === undefined) return m;
  const e = checkJsonValue(p.arguments, { maxDepth: MAX_ARGUMENTS_DEPTH });
  const code = e ? refusalCodeOf(e.code) : null;
  return e && code ? refusedCall(m, { reasonCode: code, detail: describe(e, 'the arguments are refused:') }) : m;
}

/** Screens one message text (or a batch) as the client sent it. Never throws. */
export function screenMessage(bytes: string | Uint8Array, maxBytes: number): Screened {
  const strict = parseStrictJson(bytes, { maxLength: maxBytes, maxDepth: MAX_MESSAGE_DEPTH });
  if (strict.ok) return { ok: true, message: Array.isArray(strict.value) ? strict.value.map(screenParsed) : screenParsed(strict.value) };
  const code = refusalCodeOf(strict.error.code);
  let lenient: unknown;
  try {
    // Only to find the tools/call it was meant to be; V8's JSON.parse does not recurse.
    lenient = JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder('utf-8').decode(bytes));
  } catch {
    return { ok: false, code: -32700, message: `Parse error: ${strict.error.message}` };
  }
  const calls = (Array.isArray(lenient) ? lenient : [lenient]).filter(isToolsCall);
  if (code === null || calls.length === 0 || calls.length !== (Array.isArray(lenient) ? lenient.length : 1)) {
    return { ok: false, code: -32700, message: `Parse error: the message is refused: ${describe(strict.error, '')}`.replace(':  ', ': ') };
  }
  const r: ScreenRefusal = { reasonCode: code, detail: describe(strict.error, 'the message is refused:') };
  const out = calls.map((m) => refusedCall(m, r));
  return { ok: true, message: Array.isArray(lenient) ? out : out[0] };
}

/** The refusal the screen put on a tools/call, if any. */
export function screenRefusal(meta: Record<string, unknown> | undefined): ScreenRefusal | null {
  const r = meta?.[META_REFUSAL];
  if (!isObject(r) || typeof r.reasonCode !== 'string' || refusalCodes.indexOf(r.reasonCode) < 0) return null;
  return { reasonCode: r.reasonCode as SurfaceRefusalCode, detail: typeof r.detail === 'string' ? r.detail.slice(0, 1024) : 'refused by the MCP gateway' };
}

/** The codes a screen refusal may carry (a client cannot claim a reused tool-call id here). */
const refusalCodes: readonly string[] = SURFACE_REFUSAL_CODES.filter((c) => c.startsWith('INPUT_'));

/**
 * What a tools/call is judged on: the screen's refusal, or a refusal of arguments that are not
 * plain JSON within the limits, or else the arguments rebuilt from their JCS text (the same
 * value, keys in canonical order), which is also what the upstream receives.
 */
export function judgedArguments(meta: Record<string, unknown> | undefined, args: unknown): { refusal: ScreenRefusal } | { args: unknown } {
  const screened = screenRefusal(meta);
  if (screened) return { refusal: screened };
  if (args === undefined) return { args };
  const e = checkJsonValue(args, { maxDepth: MAX_ARGUMENTS_DEPTH });
  const code = e ? refusalCodeOf(e.code) : null;
  if (e && code) return { refusal: { reasonCode: code, detail: describe(e, 'the arguments are refused:') } };
  if (e) return { args };
  return { args: JSON.parse(jcsString(args)) as unknown };
}
