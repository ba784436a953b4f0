// Metrics and traces of a sidecar that has served real traffic: /metrics passes
// `promtool check metrics` and carries the helm_* families; with tracing on (an in-memory
// exporter through the real NodeSDK path) a governed request yields a server span with the
// decision and upstream spans under it, carrying gen_ai.* and helm.* attributes.
import { spawnSync } from 'node:child_process';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { approvers } from '../pep/support.js';
import { signApproval } from '../../kernel/pep/index.js';
import { tracingRequested } from '../../sidecar/observe/tracing.js';
import { call, Pod, type Running } from './support.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
if (!promtool) console.warn('[helm] promtool not found (Debian package prometheus): the promtool check is skipped; CI installs it');

async function traffic(pod: Pod, r: Running): Promise<void> {
  pod.script((_req, turn) =>
    turn === 0
      ? { toolCalls: [call('call_a', 'crm.lookup_customer', { customerId: 'cus_12345678' }), call('call_b', 'tickets.update', { ticketId: 7, assignee: 'root' }), call('call_c', 'billing.refund', { paymentId: 'pay_1', amountCents: 25000 })] }
      : { content: 'done' },
  );
  await r.client.chat.completions.create({
    model: 'scripted-model',
    messages: [{ role: 'user', content: 'work' }],
    tools: [{ type: 'function', function: { name: 'shell.exec', parameters: { type: 'object', properties: {} } } }],
  });
}

describe('metrics', () => {
  let pod: Pod;
  beforeAll(async () => {
    pod = await Pod.create();
  });
  afterAll(async () => {
    await pod.cleanup();
  });

  it('/metrics has the helm_* families with bounded labels', async () => {
    const r = await pod.start();
    await traffic(pod, r);
    const p = ((await (await r.admin('/v1/approvals')).json()) as { pending: Array<{ decision: `sha256:${string}`; policyDigest: `sha256:${string}`; nonce: string }> }).pending[0]!;
    await r.admin('/v1/approvals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signApproval(p, approvers.alice)) });
    const res = await r.admin('/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = await res.text();
    for (const line of [
      /^helm_decisions_total\{verdict="ALLOW",reason="ALLOWED",surface="openai"\} 1$/m,
      /^helm_decisions_total\{verdict="DENY",reason="ERR_TOOL_ARGS_UNKNOWN_FIELD",surface="openai"\} 1$/m,
      /^helm_decisions_total\{verdict="ESCALATE",reason="APPROVAL_REQUIRED",surface="openai"\} 1$/m,
      /^helm_decision_duration_seconds_count\{surface="openai"\} [1-9]/m,
      /^helm_tool_calls_total\{tool="crm\.lookup_customer",verdict="ALLOW"\} 1$/m,
      // An undeclared tool offered in tools[] never becomes a label of its own.
      /^helm_tools_filtered_total\{tool="_undeclared",reason="TOOL_NOT_DECLARED"\} 1$/m,
      /^helm_receipts_appended_total\{kind="decision"\} [1-9]/m,
      /^helm_receipts_appended_total\{kind="intent"\} [1-9]/m,
      /^helm_receipts_appended_total\{kind="approval"\} 1$/m,
      /^helm_receipt_append_durable_seconds_bucket\{le="\+Inf"\} [1-9]/m,
      /^helm_bundle_info\{status="ready",hash="sha256:[0-9a-f]{64}",name="support-desk",version="2026\.11\.1",reason=""\} 1$/m,
      /^helm_approvals_pending 1$/m,
      /^helm_approval_submissions_total\{result="accepted"\} 1$/m,
      /^helm_budget_remaining\{budget="support-cost-daily",scope="principal",tool="",unit="cost"\} 200$/m,
      /^helm_budget_remaining\{budget="support-calls-hourly",scope="principal",tool="",unit="calls"\} 499$/m,
      /^helm_upstream_request_duration_seconds_count\{route="\/v1\/chat\/completions",status_class="2xx"\} 1$/m,
      /^helm_governed_requests_total\{route="\/v1\/chat\/completions",status_class="2xx"\} 1$/m,
      /^helm_store_healthy 1$/m,
      /^helm_ready 1$/m,
      /^process_resident_memory_bytes \d+/m,
    ]) {
      expect(m).toMatch(line);
    }
    expect(m).not.toContain('shell.exec');
    await r.sidecar.stop();
  });

  (promtool ? it : it.skip)('passes promtool check metrics', async () => {
    const r = await pod.start();
    await traffic(pod, r);
    await fetch(`${r.sidecar.governedUrl}/v1/models`);
    const text = await (await r.admin('/metrics')).text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({ status: 0, out: '' });
    await r.sidecar.stop();
  });
});

describe('traces', () => {
  it('are off by default and on with an OTLP endpoint or a traces exporter', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(false);
    expect(tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
  });

  it('a governed request: server span, decision spans and the upstream span, linked, with gen_ai.* and helm.* attributes', async () => {
    const pod = await Pod.create();
    const exporter = new InMemorySpanExporter();
    try {
      const r = await pod.start({ tracing: { spanProcessors: [new SimpleSpanProcessor({ exporter })] } });
      await traffic(pod, r);
      // (Stopping shuts the SDK down, which empties an in-memory exporter: read the spans first.)
      const spans = exporter.getFinishedSpans();
      const server = spans.find((s) => s.name === 'POST /v1/chat/completions')!;
      expect(server).toBeDefined();
      const trace = server.spanContext().traceId;
      const children = spans.filter((s) => s.spanContext().traceId === trace && parentOf(s) === server.spanContext().spanId);
      const decision = children.find((s) => s.attributes['gen_ai.tool.name'] === 'crm.lookup_customer')!;
      expect(decision.attributes).toMatchObject({
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.call.id': 'call_a',
        'helm.verdict': 'ALLOW',
        'helm.reason_code': 'ALLOWED',
        'helm.recorded': true,
      });
      expect(String(decision.attributes['helm.receipt_hash'])).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(decision.attributes['helm.lamport']).toEqual(expect.any(Number));
      expect(children.find((s) => s.attributes['gen_ai.tool.name'] === 'billing.refund')!.attributes['helm.verdict']).toBe('ESCALATE');
      const upstream = children.find((s) => s.attributes['gen_ai.operation.name'] === 'chat')!;
      expect(upstream.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'scripted-model', 'http.response.status_code': 200 });
      expect(server.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200 });
    } finally {
      await pod.cleanup();
    }
  });
});

function parentOf(s: ReadableSpan): string | undefined {
  const x = s as unknown as { parentSpanContext?: { spanId: string }; parentSpanId?: string };
  return x.parentSpanContext?.spanId ?? x.parentSpanId;
}
