// What a sandboxed run becomes: the EFFECT report, the RESULT report (with compute usage and, on a
// refusal, its registered code) and the tool result an MCP client gets.
import type { HashRef } from '../../kernel/contracts/node.js';
import type { ComputeTool } from '../../kernel/guardian/sandboxed-tools.js';
import type { ComputeOutcome, ComputeUsage } from '../../kernel/sandbox/types.js';
import type { ComputeRecord, EffectReport, ResultReport } from '../../kernel/pep/types.js';
import type { ReasonCode } from '../../kernel/guardian/reason-codes.js';
import { sha256Hex } from '../../sandbox/index.js';

const EMPTY_DIGEST = sha256Hex(new Uint8Array());
const ZERO: ComputeUsage = { gas: 0, wallMs: 0, peakMemoryPages: 0, outputBytes: 0 };
/** Guest stderr can ride in a fault message: only a bounded prefix is signed into the EFFECT. */
const MAX_ERROR = 1024;

/** A run read as the tool's output, or refused with a code. */
export type Settled =
  | { readonly ok: true; readonly text: string; readonly value: unknown; readonly usage: ComputeUsage; readonly outputDigest: string }
  | { readonly ok: false; readonly reasonCode: ReasonCode; readonly message: string; readonly usage: ComputeUsage | null };

/** Reads stdout per the tool's `stdout` mode; output that is not what the tool declares is a guest fault. */
export function settle(tool: ComputeTool, o: ComputeOutcome): Settled {
  if (!o.ok) return { ok: false, reasonCode: o.reasonCode, message: o.message, usage: o.usage ?? null };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(o.output);
  } catch {
    return { ok: false, reasonCode: 'ERR_COMPUTE_GUEST_FAULT', message: 'stdout is not UTF-8 text', usage: o.usage };
  }
  if (tool.stdout === 'text') return { ok: true, text, value: { text }, usage: o.usage, outputDigest: o.outputDigest };
  try {
    return { ok: true, text, value: JSON.parse(text) as unknown, usage: o.usage, outputDigest: o.outputDigest };
  } catch (e) {
    return { ok: false, reasonCode: 'ERR_COMPUTE_GUEST_FAULT', message: `stdout is not JSON (${(e as Error).message}); the tool declares stdout: json`, usage: o.usage };
  }
}

export function computeRecord(tool: ComputeTool, s: Settled, rawDigest: string | null): ComputeRecord {
  const u = s.usage ?? ZERO;
  // The engine measures wall time in fractional ms; signed bodies carry integers.
  return { moduleSha256: `sha256:${tool.sha256}`, gas: u.gas, wallMs: Math.round(u.wallMs), peakMemoryPages: u.peakMemoryPages, outputBytes: u.outputBytes, outputDigest: `sha256:${rawDigest ?? EMPTY_DIGEST}` as HashRef };
}

export function effectOf(s: Settled): EffectReport {
  const durationUs = Math.round((s.usage?.wallMs ?? 0) * 1000);
  if (s.ok) return { status: 'executed', confirmed: true, durationUs };
  // The guest never ran (pin, request, instantiation, engine before start): blocked; else failed.
  return { status: s.usage ? 'failed' : 'blocked', confirmed: true, durationUs, error: `${s.reasonCode}: ${s.message}`.slice(0, MAX_ERROR) };
}

export function resultOf(tool: ComputeTool, s: Settled, rawDigest: string | null): ResultReport {
  const compute = computeRecord(tool, s, rawDigest);
  if (s.ok) return { status: 'ok', output: s.value, compute };
  return { status: 'error', output: { reasonCode: s.reasonCode, message: s.message }, compute, reasonCode: s.reasonCode };
}

