// Spans: one per decision and one per upstream call, with gen_ai.* and helm.* attributes, on the
// tracer 'helm-sidecar'. A minimal recording provider stands in for the SDK the sidecar registers.
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span, type SpanContext, type SpanOptions, type SpanStatus, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { call, openLab, readGraph, receipt, TOOLS, type Lab } from './support.js';

interface Recorded {
  tracer: string;
  name: string;
  kind: SpanKind | undefined;
  attributes: Attributes;
  status: SpanStatus;
  ended: boolean;
}

const spans: Recorded[] = [];

class RecordingSpan implements Span {
  constructor(private readonly r: Recorded) {}
  spanContext(): SpanContext {
    return { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
  }
  setAttribute(key: string, value: Attributes[string]): this {
    this.r.attributes[key] = value;
    return this;
  }
  setAttributes(a: Attributes): this {
    Object.assign(this.r.attributes, a);
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(s: SpanStatus): this {
    this.r.status = s;
    return this;
  }
  updateName(name: string): this {
    this.r.name = name;
    return this;
  }
  end(): void {
    if (this.r.ended) throw new Error(`span ${this.r.name} ended twice`);
    this.r.ended = true;
  }
  isRecording(): boolean {
    return !this.r.ended;
  }
  recordException(): void {}
}

const provider: TracerProvider = {
  getTracer(name: string): Tracer {
    const startSpan = (spanName: string, o?: SpanOptions): Span => {
      const r: Recorded = { tracer: name, name: spanName, kind: o?.kind, attributes: { ...o?.attributes }, status: { code: SpanStatusCode.UNSET }, ended: false };
      spans.push(r);
      return new RecordingSpan(r);
    };
    return {
      startSpan,
      startActiveSpan: ((spanName: string, ...rest: unknown[]) => (rest.at(-1) as (s: Span) => unknown)(startSpan(spanName))) as Tracer['startActiveSpan'],
    };
  },
};

let lab: Lab;
beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterAll(() => {
  trace.disable();
});
afterEach(async () => {
  await lab?.close();
  spans.length = 0;
});

it('records a span per decision and per upstream call', async () => {
  lab = await openLab({ script: () => ({ toolCalls: [call('call_t1', 'crm.lookup_customer', { customerId: 'cus_12345678' })] }) });
  const c = await lab.client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }], tools: TOOLS.slice(0, 1) });
  const receiptId = (c as unknown as { helm: { decisions: Array<{ receiptId: string }> } }).helm.decisions[0]!.receiptId;
  const lamport = receipt(await readGraph(lab.h), receiptId).node.statement.predicate.lamport;

  expect(spans.every((s) => s.tracer === 'helm-sidecar' && s.ended)).toBe(true);
  const decision = spans.find((s) => s.name === 'helm.decision crm.lookup_customer')!;
  expect(decision.attributes).toEqual({
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'crm.lookup_customer',
    'gen_ai.tool.call.id': 'call_t1',
    'gen_ai.request.model': 'gpt-test',
    'helm.surface': 'openai',
    'helm.verdict': 'ALLOW',
    'helm.reason_code': 'ALLOWED',
    'helm.recorded': true,
    'helm.receipt_hash': receiptId,
    'helm.lamport': lamport,
  });
  const upstream = spans.find((s) => s.name === 'chat gpt-test')!;
  expect(upstream.kind).toBe(SpanKind.CLIENT);
  expect(upstream.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-test', 'server.address': '127.0.0.1', 'http.response.status_code': 200 });
  expect(upstream.status.code).toBe(SpanStatusCode.UNSET);
});

it('marks a failed upstream call as an error; its refusal has a decision span', async () => {
  lab = await openLab({ script: () => ({ fault: { status: 503 } }) });
  await lab.client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);
  const upstream = spans.find((s) => s.name === 'chat gpt-test')!;
  expect(upstream.status.code).toBe(SpanStatusCode.ERROR);
  expect(upstream.attributes['http.response.status_code']).toBe(503);
  const refusal = spans.find((s) => s.name === 'helm.decision (request)')!;
  expect(refusal.attributes).toMatchObject({ 'helm.verdict': 'DENY', 'helm.recorded': true });
});
