// One governed request of a kind other than tools/call (a resource read, a prompt, a completion, a
// log level, a sampling or elicitation request an upstream sends to the client): decided by the
// PEP under the kind's reserved tool name (kernel/guardian/mcp-kinds.ts), carried out only on an
// ALLOW, then an EFFECT and a RESULT (the output digested and checked against the bundle's pinned
// output schema for that name) before anything is released. Same receipts and the same fail-closed
// rules as a tool call (./call.ts), so `helmctl verify` checks them and `helmctl replay` re-decides.
import { randomUUID } from 'node:crypto';
import type { JsonObject } from '../../kernel/guardian/bundle-types.js';
import { MCP_KIND_TOOLS, type McpKind } from '../../kernel/guardian/mcp-kinds.js';
import type { SurfaceRefusalCode } from '../../kernel/guardian/refusal.js';
import { receiptsOf, refusalFor, unrecorded } from './call.js';
import { tracked, type GatewayCore } from './core.js';
import { GatewayError } from './errors.js';
import type { Receipts, Refusal } from './refusal.js';

export interface OpRequest<T> {
  kind: McpKind;
  /** The upstream the request goes to (or comes from, for sampling and elicitation). */
  upstream: string;
  args: JsonObject;
  /** mcp.method.name for metrics and the recorded context. */
  method: string;
  /** Extra recorded context. */
  context?: JsonObject;
  /**
   * The tools/call this request belongs to (sampling, elicitation): its callId and decision are in
   * the recorded context, and the decision's hash ends this request's callId, so the signed intent
   * itself names the decision that caused it.
   */
  causedBy?: { callId: string; decision: string };
  /** Refused before judging: denied with this code (kernel/guardian/refusal.ts). */
  refusal?: { reasonCode: SurfaceRefusalCode; detail: string };
  timeoutMs?: number;
  run(signal: AbortSignal): Promise<T>;
  /** What the RESULT digests and the pinned output schema checks. */
  output(result: T): unknown;
}

export type OpOutcome<T> = { readonly ok: true; readonly result: T; readonly receipts: Receipts } | { readonly ok: false; readonly refusal: Refusal };

export function governedOp<T>(core: GatewayCore, req: OpRequest<T>): Promise<OpOutcome<T>> {
  if (core.draining) {
    return Promise.resolve({ ok: false, refusal: { kind: 'unavailable', verdict: 'DENY', reasonCode: 'RECEIPT_UNAVAILABLE', failure: 'draining', message: 'the MCP gateway is shutting down; the request was not decided', receipts: { callId: '' } } });
  }
  return tracked(core, run(core, req));
}

async function run<T>(core: GatewayCore, req: OpRequest<T>): Promise<OpOutcome<T>> {
  const { pep, principal, observer } = core;
  const tool = MCP_KIND_TOOLS[req.kind];
  const t0 = performance.now();
  const cause = req.causedBy;
  const context: JsonObject = { mcp: { upstream: req.upstream, method: req.method, ...(cause ? { causedBy: { callId: cause.callId, decision: cause.decision } } : {}), ...(req.context ?? {}) } };
  const outcome = await pep.decide({
    callId: cause ? `mcp:${req.method}:${randomUUID()}@${cause.decision}` : `mcp:${randomUUID()}`,
    surface: 'mcp',
    principal,
    tool,
    args: req.args,
    connector: null,
    sandbox: null,
    context: req.refusal ? { ...context, refusal: req.refusal } : context,
  });
  observer?.decision({ surface: 'mcp', tool, verdict: outcome.verdict, reasonCode: outcome.reasonCode, seconds: (performance.now() - t0) / 1000, recorded: outcome.recorded, method: req.method });
  const receipts = receiptsOf(outcome);
  const refusal = refusalFor(outcome, receipts, `${req.method} (${tool})`);
  if (refusal) return { ok: false, refusal };
  const decision = receipts.decision!;

  const t1 = performance.now();
  const abort = new AbortController();
  const timeoutMs = req.timeoutMs ?? core.callTimeoutMs;
  const timer = setTimeout(() => abort.abort(new GatewayError('ERR_MCP_UPSTREAM_TIMEOUT', `${req.method} on ${req.upstream} did not finish within ${timeoutMs} ms`)), timeoutMs);
  let result: T;
  try {
    result = core.redact.deep(await raceAbort(req.run(abort.signal), abort.signal));
  } catch (e) {
    const timedOut = abort.signal.aborted;
    const text = core.redact.text((e as Error)?.message ?? String(e));
    const effect = await pep.recordEffect(decision, { status: 'failed', confirmed: false, durationUs: Math.round((performance.now() - t1) * 1000), error: `${timedOut ? 'ERR_COMPUTE_TIME_EXHAUSTED' : 'ERR_MCP_UPSTREAM_ERROR'}: ${text}`.slice(0, 4096) });
    if (effect.recorded) receipts.effect = effect.node.entryHash;
    if (timedOut) return { ok: false, refusal: { kind: 'denied', verdict: 'DENY', reasonCode: 'ERR_COMPUTE_TIME_EXHAUSTED', failure: 'timeout', message: `${req.method} denied: ${text}`, receipts } };
    const code = (e as { code?: unknown }).code;
    // The upstream's own JSON-RPC error (not found, invalid params) goes back as it was, with the receipts.
    return { ok: false, refusal: { kind: 'unavailable', verdict: 'ALLOW', reasonCode: 'ALLOWED', failure: 'upstream-error', message: `${req.method} was allowed but upstream ${req.upstream} answered: ${text}`, receipts, ...(typeof code === 'number' ? { upstreamCode: code } : {}) } };
  } finally {
    clearTimeout(timer);
  }
  // Effect and result in one durable round (pep.md §2), before the client sees the output.
  const done = await pep.recordExecution(decision, { status: 'executed', confirmed: true, durationUs: Math.round((performance.now() - t1) * 1000) }, { status: 'ok', output: req.output(result) });
  const effect = done.effect;
  if (!effect.recorded) return unrecorded(receipts, `the effect of ${req.method} could not be recorded (${effect.code}: ${effect.message}); its output is withheld`) as OpOutcome<T>;
  receipts.effect = effect.node.entryHash;
  const res = done.result;
  if (!res?.recorded) return unrecorded(receipts, `the result of ${req.method} could not be recorded (${res ? `${res.code}: ${res.message}` : 'no result'}); its output is withheld`) as OpOutcome<T>;
  receipts.result = res.node.entryHash;
  if (res.status === 'rejected') {
    return { ok: false, refusal: { kind: 'denied', verdict: 'DENY', reasonCode: res.reasonCode ?? 'ERR_CONNECTOR_CONTRACT_DRIFT', failure: 'output-rejected', message: `the output of ${req.method} does not match the pinned output schema of ${tool} (${res.detail ?? 'drift'}); it is withheld`, receipts } };
  }
  return { ok: true, result, receipts };
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}
