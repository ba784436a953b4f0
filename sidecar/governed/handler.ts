// The governed listener's front door. Before a request reaches a surface (the OpenAI proxy today,
// MCP next) it is refused here, fail closed, when the sidecar cannot produce receipts: a failed
// store answers every call 503 with a deny, and a stopping sidecar takes no new work. Each request
// runs inside a server span so decision and upstream spans nest under it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { errorText, type Logger } from '../log.js';
import type { SidecarMetrics } from '../observe/metrics.js';

export interface GovernedSurface {
  readonly name: string;
  matches(path: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  drain(): Promise<void>;
  /** Releases what the surface holds (upstream processes, connections) after draining. */
  close?(): Promise<void>;
}

/** Why no governed call can be taken right now (null: calls are taken). */
export interface Refusal {
  status: 503;
  code: 'receipt_unavailable' | 'shutting_down';
  message: string;
}

export interface GovernedDeps {
  surfaces: readonly GovernedSurface[];
  refusal(): Refusal | null;
  tracer: Tracer;
  metrics: SidecarMetrics;
  log: Logger;
}

const ROUTES = new Set(['/v1/chat/completions', '/v1/models', '/v1/responses', '/v1/completions', '/v1/embeddings']);

function routeOf(path: string): string {
  if (ROUTES.has(path)) return path;
  return path.startsWith('/v1/models/') ? '/v1/models/{model}' : 'other';
}

/** The fail-closed answer: an OpenAI-shaped error the SDKs raise, plus the X-Helm-* verdict. */
export function refuse(res: ServerResponse, r: Refusal): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({
    error: { message: r.message, type: 'server_error', param: null, code: r.code, helm: { verdict: 'DENY', reasonCode: 'RECEIPT_UNAVAILABLE', recorded: false } },
  });
  res.writeHead(r.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-helm-decision': 'DENY',
    'x-helm-reason-code': 'RECEIPT_UNAVAILABLE',
    'retry-after': '1',
    ...(r.code === 'shutting_down' ? { connection: 'close' } : {}),
  });
  res.end(body);
}

export class GovernedHandler {
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly d: GovernedDeps) {}

  /** A node:http request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route = routeOf(path);
    const span = this.d.tracer.startSpan(`${req.method ?? 'GET'} ${route}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '', 'url.path': route, 'helm.listener': 'governed' } });
    res.once('finish', () => {
      this.d.metrics.governed(route, res.statusCode);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    res.once('close', () => {
      if (!res.writableFinished) span.end();
    });
    const refused = this.d.refusal();
    if (refused) {
      refuse(res, refused);
      return;
    }
    const surface = this.d.surfaces.find((s) => s.matches(path));
    const run = context.with(trace.setSpan(context.active(), span), () => (surface ? surface.handle(req, res) : notFound(res, path)));
    const p = run.catch((e: unknown) => {
      this.d.log.error('governed request failed', { route, error: errorText(e) });
      if (!res.headersSent) {
        const body = JSON.stringify({ error: { message: 'internal error', type: 'server_error', param: null, code: 'internal_error' } });
        res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      } else res.destroy();
    });
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  };

  get active(): number {
    return this.inflight.size;
  }

  /** Waits for every request in flight and every surface's own pending work. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    await Promise.allSettled(this.d.surfaces.map((s) => s.drain()));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.d.surfaces.map((s) => s.close?.()));
  }
}

function notFound(res: ServerResponse, path: string): Promise<void> {
  const body = JSON.stringify({ error: { message: `no governed surface serves ${path}`, type: 'not_found_error', param: null, code: 'not_found' } });
  res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  return Promise.resolve();
}
