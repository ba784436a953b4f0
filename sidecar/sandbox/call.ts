// One governed call of a sandboxed tool: decided by the PEP like any call (claimed once), run in
// the WASI sandbox only after the ALLOW is durable, and ended by an EFFECT and a RESULT that records
// gas, wall time, peak memory and the output digest. Every limit, pin mismatch, instantiation
// failure or engine crash is a signed RESULT with its ERR_COMPUTE_* code and a DENY to the caller.
import { randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { HashRef } from '../../kernel/contracts/node.js';
import type { CompiledBundle } from '../../kernel/guardian/compile.js';
import type { ComputeTool } from '../../kernel/guardian/sandboxed-tools.js';
import type { ComputeInput, ComputeOutcome } from '../../kernel/sandbox/types.js';
import type { PepOutcome } from '../../kernel/pep/types.js';
import type { CallOutcome, CallRequest } from '../mcp/call.js';
import { META_RECEIPT } from '../mcp/call.js';
import type { GatewayCore } from '../mcp/core.js';
import type { Receipts, Refusal } from '../mcp/refusal.js';
import type { Sandbox } from '../../sandbox/index.js';
import type { ModuleStore } from './modules.js';
import { effectOf, resultOf, settle, type Settled } from './outcome.js';

export const META_COMPUTE = 'helm.mindburn.org/compute';

export interface SandboxHost {
  readonly sandbox: Sandbox;
  readonly modules: ModuleStore;
}

const refused = (refusal: Refusal): CallOutcome => ({ ok: false, refusal });

function inputOf(tool: ComputeTool, args: unknown): ComputeInput {
  if (tool.stdin === 'args') return { json: args };
  // The Guardian checked args against the tool's schema: the named argument is a required string.
  return { bytes: new TextEncoder().encode(String((args as Record<string, unknown>)[tool.stdin.arg])) };
}

/** Runs the module; never throws (a crash of anything here is ERR_COMPUTE_ENGINE_FAILURE). */
async function execute(host: SandboxHost, tool: ComputeTool, args: unknown): Promise<{ settled: Settled; rawDigest: string | null }> {
  try {
    const module = await host.modules.read(tool.module);
    if (!module.ok) return { settled: { ok: false, reasonCode: 'ERR_COMPUTE_ENGINE_FAILURE', message: module.message, usage: null }, rawDigest: null };
    const o: ComputeOutcome = await host.sandbox.run({ module: { bytes: module.bytes, sha256: tool.sha256 }, input: inputOf(tool, args), args: tool.argv, limits: tool.limits, grants: tool.grants });
    return { settled: settle(tool, o), rawDigest: o.ok ? o.outputDigest : null };
  } catch (e) {
    return { settled: { ok: false, reasonCode: 'ERR_COMPUTE_ENGINE_FAILURE', message: `engine: ${(e as Error)?.message ?? String(e)}; the call is refused (fail closed)`, usage: null }, rawDigest: null };
  }
}

function verdictRefusal(o: PepOutcome, receipts: Receipts, tool: string): Refusal | null {
  if (!o.recorded) return { kind: 'unavailable', verdict: 'DENY', reasonCode: o.reasonCode, failure: 'unrecorded', message: `${tool} denied: the decision could not be recorded (${o.detail})`, receipts };
  if (o.verdict === 'DENY') return { kind: 'denied', verdict: 'DENY', reasonCode: o.reasonCode, message: `${tool} denied by policy: ${o.reasonCode}: ${o.detail}`, receipts, ...(o.retryAfterMs !== undefined ? { retryAfterMs: o.retryAfterMs } : {}) };
  if (o.verdict === 'ESCALATE') {
    return { kind: 'approval-pending', verdict: 'ESCALATE', reasonCode: o.reasonCode, message: `${tool} needs approval ${o.challenge?.approval ?? ''}: ${o.detail}. Retry the same call once approved.`, receipts, ...(o.challenge ? { challenge: o.challenge } : {}) };
  }
  return null;
}

const unrecorded = (receipts: Receipts, message: string): CallOutcome => refused({ kind: 'unavailable', verdict: 'DENY', reasonCode: 'RECEIPT_UNAVAILABLE', failure: 'unrecorded', message, receipts });

export async function sandboxedCall(core: GatewayCore, host: SandboxHost, bundle: CompiledBundle, tool: ComputeTool, req: CallRequest): Promise<CallOutcome> {
  const { pep, principal } = core;
  const callId = req.callId ?? `mcp:${randomUUID()}`;
  const args = req.args === undefined ? {} : req.args;
  // A decision the OpenAI proxy made for this very call (with the sandbox profile routed to this
  // tool) is continued, claimed first so that exactly one caller executes it.
  const found = core.linked?.({ principal: principal.id, callId, tool: req.tool, args }) ?? null;
  const linked = found !== null && pep.claim(found) ? found : null;
  let receipts: Receipts = { callId };
  let decision: HashRef;
  let reasonCode = 'ALLOWED';
  if (linked !== null) {
    decision = linked;
    receipts.decision = linked;
  } else {
    const t0 = performance.now();
    const context = { mcp: { upstream: 'sandbox', method: req.method }, sandbox: { module: `sha256:${tool.sha256}` } };
    const outcome = await pep.decide({
      callId,
      surface: 'mcp',
      principal,
      tool: req.tool,
      args,
      connector: null,
      // The sidecar is the executor and applies exactly the profile the bundle requires.
      sandbox: tool.profile,
      context: req.refusal ? { ...context, refusal: req.refusal } : context,
      ...(req.idempotencyKey !== undefined ? { idempotencyKey: req.idempotencyKey } : {}),
    });
    core.observer?.decision({ surface: 'mcp', tool: req.tool, verdict: outcome.verdict, reasonCode: outcome.reasonCode, seconds: (performance.now() - t0) / 1000, recorded: outcome.recorded, method: req.method });
    receipts = { callId: outcome.callId, ...(outcome.intent ? { intent: outcome.intent.entryHash } : {}), ...(outcome.decision ? { decision: outcome.decision.entryHash } : {}) };
    const r = verdictRefusal(outcome, receipts, req.tool);
    if (r) return refused(r);
    decision = outcome.decision!.entryHash;
    reasonCode = outcome.reasonCode;
    if (outcome.policyDigest !== bundle.contentHash) {
      // The bundle changed between reading the tool and deciding: what was decided is not what we hold.
      const effect = await pep.recordEffect(decision, { status: 'blocked', confirmed: false, error: 'the policy changed while the call was decided; nothing was executed' });
      if (effect.recorded) receipts.effect = effect.node.entryHash;
      return refused({ kind: 'unavailable', verdict: 'ALLOW', reasonCode: 'ALLOWED', message: `${req.tool} was allowed under another bundle than the one in force; retry the call`, receipts });
    }
  }

  const { settled, rawDigest } = await execute(host, tool, args);
  // Effect and result in one durable round (pep.md §2), before the client sees the output.
  const done = await pep.recordExecution(decision, effectOf(settled), resultOf(tool, settled, rawDigest));
  const effect = done.effect;
  if (!effect.recorded) return unrecorded(receipts, `the effect of ${req.tool} could not be recorded (${effect.code}: ${effect.message}); its output is withheld`);
  receipts.effect = effect.node.entryHash;
  const result = done.result;
  if (!result?.recorded) return unrecorded(receipts, `the result of ${req.tool} could not be recorded (${result ? `${result.code}: ${result.message}` : 'no result'}); its output is withheld`);
  receipts.result = result.node.entryHash;
  const usage = settled.usage ?? { gas: 0, wallMs: 0, peakMemoryPages: 0, outputBytes: 0 };
  if (!settled.ok) {
    return refused({ kind: 'denied', verdict: 'DENY', reasonCode: settled.reasonCode, message: `${req.tool} denied ${settled.reasonCode}: ${core.redact.text(settled.message)}`, receipts });
  }
  if (result.status === 'rejected') {
    return refused({ kind: 'denied', verdict: 'DENY', reasonCode: result.reasonCode ?? 'ERR_CONNECTOR_CONTRACT_DRIFT', failure: 'output-rejected', message: `the output of ${req.tool} does not match its pinned output schema (${result.detail ?? 'drift'}); it is withheld`, receipts });
  }
  const value = settled.value;
  const structured = typeof value === 'object' && value !== null && !Array.isArray(value) ? { structuredContent: value as Record<string, unknown> } : {};
  const out: CallToolResult = {
    content: [{ type: 'text', text: settled.text }],
    ...structured,
    _meta: { [META_RECEIPT]: { verdict: 'ALLOW', reasonCode, ...receipts }, [META_COMPUTE]: { moduleSha256: `sha256:${tool.sha256}`, ...usage, wallMs: Math.round(usage.wallMs), outputDigest: `sha256:${settled.outputDigest}` } },
  };
  return { ok: true, result: out, receipts, reasonCode, linked: linked !== null, outputSchema: undefined };
}
