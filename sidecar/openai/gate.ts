// The one place the OpenAI surface asks the kernel: every proposed tool call, every tool the
// request offers that is removed, and every request the proxy refuses goes through pep.decide and
// leaves an INTENT <- DECISION pair on the ProofGraph. A refusal (a malformed request, arguments
// that are not JSON, a duplicate id, a failed upstream) is submitted with the problem text as its
// `args`: not an object, so the Guardian denies it ENVELOPE_INVALID whatever the bundle says,
// and the stored input shows what was refused and why.
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { HashRef } from '../../kernel/contracts/node.js';
import type { Challenge, Pep, PepOutcome } from '../../kernel/pep/index.js';
import type { Verdict } from '../../kernel/guardian/reason-codes.js';
import type { SurfaceRefusalCode } from '../../kernel/guardian/refusal.js';
import type { ProxyObserver } from './observer.js';

export interface ProxyPrincipal {
  id: string;
  roles?: string[];
  attributes?: Record<string, unknown>;
}

/** How the agent's executor runs a tool, as the sidecar's configuration asserts it. */
export interface ToolRoute {
  connector?: string | null;
  sandbox?: string | null;
}

export interface CallDecision {
  /** The id the model gave the call (null when it gave none that is usable). */
  toolCallId: string | null;
  /** The callId the kernel recorded. */
  callId: string;
  tool: string;
  verdict: Verdict;
  reasonCode: string;
  detail: string;
  recorded: boolean;
  /** Entry hash of the DECISION node (the receipt id). */
  receiptId: HashRef | null;
  intentId: HashRef | null;
  lamport: number | null;
  challenge?: Challenge;
  retryAfterMs?: number;
  sandbox?: string;
  /** ALLOW only: the JCS of the judged arguments, which is what the agent receives. */
  arguments?: string;
}

const REFUSED_TOOL = '(request)';
const MAX_CALL_ID = 256;

export function usableCallId(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= MAX_CALL_ID && v.isWellFormed();
}

export class ToolCallGate {
  private seq = 0;
  private readonly prefix = `helm-openai-${process.pid.toString(36)}-${Date.now().toString(36)}`;

  constructor(
    private readonly pep: Pep,
    private readonly principal: ProxyPrincipal,
    private readonly observer: ProxyObserver,
    private readonly tracer: Tracer,
    private readonly routes: Readonly<Record<string, ToolRoute>>,
  ) {}

  get principalId(): string {
    return this.principal.id;
  }

  /** A callId for a decision that has no model-given id (a refusal, a removed tool). */
  syntheticId(kind: string): string {
    return `${this.prefix}-${kind}-${++this.seq}`;
  }

  private route(tool: unknown): ToolRoute {
    return typeof tool === 'string' && Object.hasOwn(this.routes, tool) ? this.routes[tool]! : {};
  }

  /** A tool call the model proposed (or a tool offered in tools[]), judged on its merits. */
  decide(call: { toolCallId: string | null; callId: string; tool: unknown; args: unknown }, model: string | null): Promise<CallDecision> {
    const r = this.route(call.tool);
    return this.submit(
      {
        callId: call.callId,
        surface: 'openai',
        principal: { id: this.principal.id, roles: this.principal.roles ?? [], attributes: this.principal.attributes ?? {} },
        tool: call.tool,
        args: call.args,
        connector: r.connector ?? null,
        sandbox: r.sandbox ?? null,
      },
      call.toolCallId,
      model,
      null,
    );
  }

  /** Something the proxy will not pass on: recorded as a DENY with `problem` as its evidence. */
  refuse(r: { toolCallId?: string | null; tool?: unknown; problem: string; reasonCode?: SurfaceRefusalCode; evidence?: Record<string, unknown> }, model: string | null): Promise<CallDecision> {
    const toolCallId = r.toolCallId ?? null;
    const callId = usableCallId(toolCallId) ? toolCallId : this.syntheticId('refusal');
    const tool = r.tool === undefined ? REFUSED_TOOL : r.tool;
    return this.submit(
      {
        callId,
        surface: 'openai',
        principal: { id: this.principal.id, roles: this.principal.roles ?? [], attributes: this.principal.attributes ?? {} },
        tool,
        args: `refused by the OpenAI proxy: ${r.problem}`,
        // A registered refusal code makes the Guardian deny with it (kernel/guardian/refusal.ts).
        ...(r.evidence || r.reasonCode ? { context: { ...(r.reasonCode ? { refusal: { reasonCode: r.reasonCode, detail: r.problem } } : {}), ...(r.evidence ? { evidence: r.evidence } : {}) } } : {}),
      },
      usableCallId(toolCallId) ? toolCallId : null,
      model,
      r.problem,
    );
  }

  private async submit(request: Record<string, unknown>, toolCallId: string | null, model: string | null, problem: string | null): Promise<CallDecision> {
    const tool = typeof request.tool === 'string' ? request.tool : String(request.tool);
    const span = this.tracer.startSpan(`helm.decision ${tool}`, {
      kind: SpanKind.INTERNAL,
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': tool,
        'gen_ai.tool.call.id': String(request.callId),
        ...(model !== null ? { 'gen_ai.request.model': model } : {}),
        'helm.surface': 'openai',
      },
    });
    const t0 = process.hrtime.bigint();
    let o: PepOutcome;
    try {
      o = await this.pep.decide(request);
    } catch (e) {
      // decide() promises never to reject; if it does, the caller answers 500 and nothing passes.
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error)?.message ?? String(e) });
      span.end();
      throw e;
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const d: CallDecision = {
      toolCallId,
      callId: o.callId,
      tool,
      verdict: o.verdict,
      reasonCode: o.reasonCode,
      detail: problem ?? o.detail,
      recorded: o.recorded,
      receiptId: o.decision?.entryHash ?? null,
      intentId: o.intent?.entryHash ?? null,
      lamport: o.decision?.lamport ?? null,
      ...(o.challenge ? { challenge: o.challenge } : {}),
      ...(o.retryAfterMs !== undefined ? { retryAfterMs: o.retryAfterMs } : {}),
      ...(o.sandbox !== undefined ? { sandbox: o.sandbox } : {}),
    };
    span.setAttributes({
      'helm.verdict': d.verdict,
      'helm.reason_code': d.reasonCode,
      'helm.recorded': d.recorded,
      ...(d.receiptId !== null ? { 'helm.receipt_hash': d.receiptId } : {}),
      ...(d.lamport !== null ? { 'helm.lamport': d.lamport } : {}),
    });
    if (!d.recorded) span.setStatus({ code: SpanStatusCode.ERROR, message: 'the decision could not be recorded' });
    span.end();
    this.observer.decision({ surface: 'openai', tool, verdict: d.verdict, reasonCode: d.reasonCode, seconds, recorded: d.recorded });
    return d;
  }
}
