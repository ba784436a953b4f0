// OpenTelemetry traces, off by default. They are switched on the standard way (an OTLP endpoint or
// an explicit OTEL_TRACES_EXPORTER), and then configured entirely by the standard OTEL_* variables.
// The SDK is imported only when tracing is on: it is large, and start-to-ready time matters.
import { trace, type Tracer } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';

export const TRACER_NAME = 'helm-guardian-sidecar';
export const SOFTWARE_VERSION = '0.1.0';

export interface Tracing {
  readonly enabled: boolean;
  readonly tracer: Tracer;
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Span processors to use instead of the OTEL_* exporters (tests: an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** Tracing is on when an OTLP endpoint or a traces exporter other than none is configured. */
export function tracingRequested(env: Env): boolean {
  if (/^true$/i.test(env.OTEL_SDK_DISABLED ?? '')) return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter) return exporter !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export async function startTracing(env: Env, o: TracingOptions = {}): Promise<Tracing> {
  if (!o.spanProcessors && !tracingRequested(env)) return { enabled: false, tracer: trace.getTracer(TRACER_NAME, SOFTWARE_VERSION), shutdown: async () => undefined };
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    ...(env.OTEL_SERVICE_NAME ? {} : { serviceName: 'helm-guardian-sidecar' }),
    instrumentations: [],
    // Traces only: metrics are Prometheus on the admin port, logs are JSON on stderr.
    metricReaders: [],
    logRecordProcessors: [],
    ...(o.spanProcessors ? { spanProcessors: o.spanProcessors } : {}),
  });
  sdk.start();
  return { enabled: true, tracer: trace.getTracer(TRACER_NAME, SOFTWARE_VERSION), shutdown: () => sdk.shutdown() };
}
