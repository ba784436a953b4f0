// One governed tools/call, whatever surface it came from: Guardian decision through the PEP,
// (ESCALATE: the pending approval goes back), the upstream call under a timeout, the EFFECT, the
// output checked against the pinned schema with the RESULT, and the output released only once all
// of that is durable. Every path that reaches the PEP leaves receipts; none fails open.
import { randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { HashRef } from '../../kernel/contracts/node.js';
import type { SurfaceRefusalCode } from '../../kernel/guardian/refusal.js';
import type { PepOutcome } from '../../kernel/pep/types.js';
import type { CatalogEntry } from './catalog.js';
import type { ClientLink } from './hub.js';
import { tracked, type GatewayCore } from './core.js';
import { driftContext, driftError } from './drift.js';
import { GatewayError } from './errors.js';
import { inProcessCall } from './in-process.js';
import type { FailureKind, Receipts, Refusal } from './refusal.js';
import { connectorFor } from './visibility.js';

/** `_meta` keys a client may set on tools/call, and the key the gateway answers with. */
export const META_TOOL_CALL_ID = 'helm.mindburn.org/toolCallId';
export const META_IDEMPOTENCY_KEY = 'helm.mindburn.org/idempotencyKey';
export const META_RECEIPT = 'helm.mindburn.org/receipt';

export interface CallRequest {
  tool: string;
  args: unknown;
  /** The tool_call id the model gave the call (links it to the OpenAI proxy's decision). */
  callId?: string;
  idempotencyKey?: string;
  /** mcp.method.name for metrics: tools/call, or rest/execute. */
  method: string;
  signal?: AbortSignal;
  /** The client's request context: progress, log messages and sampling/elicitation requests of the call go there. */
  client?: ClientLink;
  /** The client's progress token (its request `_meta.progressToken`): upstream progress is relayed under it. */
  progressToken?: string | number;
  /** Set when the message was refused before judging (sidecar/mcp/screen.ts): denied with this code. */
  refusal?: { reasonCode: SurfaceRefusalCode; detail: string };
}

export type CallOutcome =
  | {
      readonly ok: true;
      readonly result: CallToolResult;
      readonly receipts: Receipts;
      readonly reasonCode: string;
      readonly linked: boolean;
      /** The output schema the tool advertises (for the SDK's era-specific result projection). */
      readonly outputSchema: Record<string, unknown> | undefined;
    }
  | { readonly ok: false; readonly refusal: Refusal };

export function governedCall(core: GatewayCore, req: CallRequest): Promise<CallOutcome> {
  if (core.draining) {
    return Promise.resolve(refused({ kind: 'unavailable', verdict: 'DENY', reasonCode: 'RECEIPT_UNAVAILABLE', failure: 'draining', message: 'the MCP gateway is shutting down; the call was not decided', receipts: { callId: req.callId ?? '' } }));
  }
  return tracked(core, inProcessCall(core, req) ?? run(core, req));
}

const refused = (refusal: Refusal): CallOutcome => ({ ok: false, refusal });

async function run(core: GatewayCore, req: CallRequest): Promise<CallOutcome> {
  const { pep, principal, observer } = core;
  const callId = req.callId ?? `mcp:${randomUUID()}`;
  const args = req.args === undefined ? {} : req.args;
  const listing = await core.catalog.current();
  const entry = listing.entries.get(req.tool);
  const policy = pep.policy;
  const bundle = policy.status === 'ready' ? policy.bundle : null;
  const pinned = bundle?.tools.get(req.tool)?.decl.definitionHash ?? null;
  const drifted = entry !== undefined && pinned !== null && pinned !== entry.definitionHash;
  const upstreamName = entry?.upstream.name ?? core.catalog.naming.resolve(req.tool)?.upstream ?? null;

  const found = drifted ? null : (core.linked?.({ principal: principal.id, callId, tool: req.tool, args }) ?? null);
  // Claimed in the same tick as found (Pep.claim): of concurrent calls naming the same proxy
  // decision exactly one continues it, the others are decided anew. The gateway's own ALLOWs are
  // claimed when recorded, so a second identical call never reuses one while the first is running.
  const linked = found !== null && pep.claim(found) ? found : null;
  let receipts: Receipts;
  let reasonCode: string;
  if (linked !== null) {
    // The model proposed this call through the OpenAI proxy and the Guardian allowed it there:
    // the effect continues that chain instead of a second decision.
    receipts = { callId, decision: linked };
    reasonCode = 'ALLOWED';
  } else {
    const t0 = performance.now();
    const connector = bundle && upstreamName ? connectorFor(bundle, req.tool, upstreamName) : null;
    const context = drifted ? driftContext(entry, pinned, req.method) : { mcp: { upstream: upstreamName ?? '(none)', method: req.method, ...(entry ? { definitionHash: entry.definitionHash } : {}) } };
    const outcome = await pep.decide({
      callId,
      surface: 'mcp',
      principal,
      tool: req.tool,
      args,
      connector,
      sandbox: null,
      context: req.refusal && !drifted ? { ...context, refusal: req.refusal } : context,
      ...(req.idempotencyKey !== undefined ? { idempotencyKey: req.idempotencyKey } : {}),
    });
    observer?.decision({ surface: 'mcp', tool: req.tool, verdict: outcome.verdict, reasonCode: outcome.reasonCode, seconds: (performance.now() - t0) / 1000, recorded: outcome.recorded, method: req.method });
    receipts = receiptsOf(outcome);
    const verdictRefusal = refusalFor(outcome, receipts, req.tool);
    if (drifted) {
      const effect = outcome.decision ? await pep.recordEffect(outcome.decision.entryHash, { status: 'blocked', confirmed: false, error: driftError(entry, pinned) }) : null;
      if (effect?.recorded) receipts.effect = effect.node.entryHash;
      return refused({
        kind: outcome.recorded ? 'denied' : 'unavailable',
        verdict: 'DENY',
        reasonCode: outcome.reasonCode,
        failure: 'definition-drift',
        drift: { pinned, upstream: entry.definitionHash },
        message: `${req.tool} is withheld (${outcome.reasonCode}): ${driftError(entry, pinned)}`,
        receipts,
      });
    }
    if (verdictRefusal) return refused(verdictRefusal);
    reasonCode = outcome.reasonCode;
  }
  const decision = receipts.decision!;

  if (entry === undefined) {
    const down = listing.unavailable.find((u) => u.upstream === upstreamName);
    const why = down ? `upstream ${down.upstream} is unavailable: ${core.redact.text(down.error)}` : `no ready upstream offers ${req.tool}`;
    return blocked(core, decision, receipts, down ? 'upstream-unavailable' : 'not-offered', `${req.tool} was allowed but ${why}; nothing was executed`);
  }

  const t1 = performance.now();
  let result: CallToolResult;
  // While it runs, the upstream's log messages and requests (sampling, elicitation) belong to this call.
  const client = req.client;
  const end = client ? core.hub.begin({ upstream: entry.upstream.name, callId, decision, client }) : null;
  const token = req.progressToken;
  const onprogress =
    client && token !== undefined
      ? (p: { progress: number; total?: number; message?: string }) => void client.notify({ method: 'notifications/progress', params: core.redact.deep({ ...p, progressToken: token }) }).catch(() => undefined)
      : undefined;
  try {
    // The output is recorded and released without any configured secret an upstream echoed.
    result = core.redact.deep(
      await entry.upstream.callTool(entry.tool.name, args as Record<string, unknown>, { timeoutMs: core.callTimeoutMs, definition: entry.tool, ...(req.signal ? { signal: req.signal } : {}), ...(onprogress ? { onprogress } : {}) }),
    );
  } catch (e) {
    return failedCall(core, entry, decision, receipts, e, Math.round((performance.now() - t1) * 1000));
  } finally {
    end?.();
  }
  // Effect and result in one durable round (pep.md §2), before the client sees the output.
  const done = await pep.recordExecution(decision, { status: 'executed', confirmed: true, durationUs: Math.round((performance.now() - t1) * 1000) }, { status: result.isError === true ? 'error' : 'ok', output: outputOf(result) });
  const effect = done.effect;
  if (!effect.recorded) return unrecorded(receipts, `the effect of ${req.tool} could not be recorded (${effect.code}: ${effect.message}); its output is withheld`);
  receipts.effect = effect.node.entryHash;
  const res = done.result;
  if (!res?.recorded) return unrecorded(receipts, `the result of ${req.tool} could not be recorded (${res ? `${res.code}: ${res.message}` : 'no result'}); its output is withheld`);
  receipts.result = res.node.entryHash;
  if (res.status === 'rejected') {
    return refused({
      kind: 'denied',
      verdict: 'DENY',
      reasonCode: res.reasonCode ?? 'ERR_CONNECTOR_CONTRACT_DRIFT',
      failure: 'output-rejected',
      message: `the output of ${req.tool} does not match its pinned output schema (${res.detail ?? 'drift'}); it is withheld`,
      receipts,
    });
  }
  return { ok: true, result: withReceipt(result, receipts, reasonCode), receipts, reasonCode, linked: linked !== null, outputSchema: entry.tool.outputSchema as Record<string, unknown> | undefined };
}

export function receiptsOf(o: PepOutcome): Receipts {
  return { callId: o.callId, ...(o.intent ? { intent: o.intent.entryHash } : {}), ...(o.decision ? { decision: o.decision.entryHash } : {}) };
}

export function refusalFor(o: PepOutcome, receipts: Receipts, tool: string): Refusal | null {
  if (!o.recorded) return { kind: 'unavailable', verdict: 'DENY', reasonCode: o.reasonCode, failure: 'unrecorded', message: `${tool} denied: the decision could not be recorded (${o.detail})`, receipts };
  const rules = o.ruleIds.length > 0 ? ` (rule ${o.ruleIds.join(', ')})` : '';
  if (o.verdict === 'DENY') {
    return { kind: 'denied', verdict: 'DENY', reasonCode: o.reasonCode, message: `${tool} denied by policy: ${o.reasonCode}${rules}: ${o.detail}`, receipts, ...(o.retryAfterMs !== undefined ? { retryAfterMs: o.retryAfterMs } : {}) };
  }
  if (o.verdict === 'ESCALATE') {
    return {
      kind: 'approval-pending',
      verdict: 'ESCALATE',
      reasonCode: o.reasonCode,
      message: `${tool} needs approval ${o.challenge?.approval ?? ''}${rules}: ${o.detail}. Retry the same call once approved.`,
      receipts,
      ...(o.challenge ? { challenge: o.challenge } : {}),
      ...(o.retryAfterMs !== undefined ? { retryAfterMs: o.retryAfterMs } : {}),
    };
  }
  return null;
}

async function blocked(core: GatewayCore, decision: HashRef, receipts: Receipts, failure: FailureKind, message: string): Promise<CallOutcome> {
  const effect = await core.pep.recordEffect(decision, { status: 'blocked', confirmed: false, error: message.slice(0, 4096) });
  if (effect.recorded) receipts.effect = effect.node.entryHash;
  return refused({ kind: 'unavailable', verdict: 'ALLOW', reasonCode: 'ALLOWED', failure, message, receipts });
}

async function failedCall(core: GatewayCore, entry: CatalogEntry, decision: HashRef, receipts: Receipts, e: unknown, durationUs: number): Promise<CallOutcome> {
  const code = e instanceof GatewayError ? e.code : 'ERR_MCP_UPSTREAM_ERROR';
  const text = core.redact.text((e as Error)?.message ?? String(e));
  const timedOut = code === 'ERR_MCP_UPSTREAM_TIMEOUT';
  // A timed-out call may still have run upstream: the effect is failed and unconfirmed.
  const effect = await core.pep.recordEffect(decision, { status: 'failed', confirmed: false, durationUs, error: `${timedOut ? 'ERR_COMPUTE_TIME_EXHAUSTED' : code}: ${text}`.slice(0, 4096) });
  if (effect.recorded) receipts.effect = effect.node.entryHash;
  if (timedOut) {
    return refused({ kind: 'denied', verdict: 'DENY', reasonCode: 'ERR_COMPUTE_TIME_EXHAUSTED', failure: 'timeout', message: `${entry.name} denied: ${text}; its outcome is unknown and no output is released`, receipts });
  }
  const failure: FailureKind = code === 'ERR_MCP_UPSTREAM_UNAVAILABLE' ? 'upstream-unavailable' : code === 'ERR_MCP_CANCELLED' ? 'cancelled' : 'upstream-error';
  return refused({ kind: 'unavailable', verdict: 'ALLOW', reasonCode: 'ALLOWED', failure, message: `${entry.name} was allowed but the upstream call failed: ${text}`, receipts });
}

export function unrecorded(receipts: Receipts, message: string): CallOutcome {
  return refused({ kind: 'unavailable', verdict: 'DENY', reasonCode: 'RECEIPT_UNAVAILABLE', failure: 'unrecorded', message, receipts });
}

/** What the RESULT receipt digests and the pinned output schema checks: structured content when the tool gives it. */
export function outputOf(r: CallToolResult): unknown {
  return r.structuredContent !== undefined ? r.structuredContent : { content: r.content ?? [] };
}

function withReceipt(r: CallToolResult, receipts: Receipts, reasonCode: string): CallToolResult {
  // Protocol envelope keys belong to the upstream's connection, not to the gateway's answer.
  const meta = Object.fromEntries(Object.entries(r._meta ?? {}).filter(([k]) => !k.startsWith('io.modelcontextprotocol/')));
  return { ...r, _meta: { ...meta, [META_RECEIPT]: { verdict: 'ALLOW', reasonCode, ...receipts } } };
}
