// The governed OpenAI-compatible proxy: POST /v1/chat/completions (whole and streamed) and a
// GET /v1/models passthrough. The request side removes tools the principal may not use and
// records the results the agent sends back; the response side lets a tool call through only with
// a recorded ALLOW. Every failure fails closed: a refusal is receipted, an upstream that errs,
// times out, sends malformed JSON or breaks off mid-stream never passes an ungoverned call, and a
// decision that cannot be recorded is answered 503. Behaviour and headers: ./README.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Pep } from '../../kernel/pep/index.js';
import { depthWithin } from '../../kernel/json/index.js';
import { MAX_BODY_DEPTH as MAX_UPSTREAM_DEPTH, readJsonBody, shouldDrop } from './body.js';
import type { ProposedCall } from './calls.js';
import { governCompletion, type DeniedCallMode } from './completion.js';
import { errorBody, ProxyError } from './errors.js';
import { ToolCallGate, usableCallId, type CallDecision, type ProxyPrincipal, type ToolRoute } from './gate.js';
import { ToolCallLedger } from './ledger.js';
import { guardedObserver, type ProxyObserver } from './observer.js';
import { checkToolResults } from './results.js';
import { SseParser, type SseEvent } from './sse.js';
import type { Logger } from '../log.js';
import { Redactor } from '../redact.js';
import { StreamGovernor } from './stream.js';
import { helmHeaders, summary } from './summary.js';
import { filterTools } from './tools.js';
import { Upstream, UpstreamFailure, type UpstreamExchange } from './upstream.js';

export interface OpenAiProxyOptions {
  pep: Pep;
  /** From the sidecar's configuration, never from a header the agent controls. */
  principal: ProxyPrincipal;
  /** apiKey set: credential isolation (it replaces the agent's Authorization header). */
  upstream: { baseUrl: string; apiKey?: string; timeoutMs: number };
  /** Default 'explain'. */
  deniedCallMode?: DeniedCallMode;
  /** Largest request body accepted (default 4 MiB). */
  maxBodyBytes?: number;
  observer?: ProxyObserver;
  /**
   * How the agent's executor runs each tool (connector, sandbox profile), as the sidecar's
   * configuration asserts it to the kernel. A tool without an entry is declared with neither, so
   * a tool the bundle serves through a connector or in a sandbox is denied on this surface.
   */
  toolRoutes?: Readonly<Record<string, ToolRoute>>;
  /** Largest upstream response body accepted (default 16 MiB). */
  maxUpstreamBytes?: number;
  /**
   * Removes configured secrets from everything taken from the upstream (bodies, passed headers,
   * stream events, error messages) before it is governed, recorded, logged or passed on. Default:
   * one that knows upstream.apiKey.
   */
  redact?: Redactor;
  /** Where failed upstream exchanges (error statuses, malformed answers, timeouts) are logged. */
  log?: Pick<Logger, 'warn'>;
}

export interface OpenAiProxy {
  /** Handles POST /v1/chat/completions and GET /v1/models; anything else under /v1 -> 404 JSON error. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Resolves when every in-flight request has finished (graceful shutdown). */
  drain(): Promise<void>;
}

const CHAT = '/v1/chat/completions';
const MODELS = '/v1/models';
/** Upstream response headers worth passing on; everything else stays behind the proxy. */
const PASS_HEADER = /^(x-request-id|openai-[a-z-]+|x-ratelimit-[a-z-]+|retry-after)$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function passHeaders(ex: UpstreamExchange, redact: Redactor): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ex.res.headers)) if (typeof v === 'string' && PASS_HEADER.test(k)) out[k] = redact.text(v);
  return out;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, e: ProxyError, extra: { removed?: readonly CallDecision[]; headers?: Record<string, string> } = {}): void {
  const removed = extra.removed ?? [];
  const helm = e.decisions.length > 0 || removed.length > 0 ? summary(e.decisions, removed, new Set()) : undefined;
  sendJson(res, e.status, errorBody(e, helm), { ...extra.headers, ...helmHeaders(e.decisions, removed) });
}

/** What an upstream failure becomes for the agent; the HTTP status follows its kind. */
function failureStatus(f: UpstreamFailure): { status: number; code: ProxyError['code'] } {
  switch (f.kind) {
    case 'timeout':
      return { status: 504, code: 'upstream_timeout' };
    case 'malformed':
      return { status: 502, code: 'upstream_malformed' };
    case 'status':
      if (f.status !== null && f.status >= 400 && f.status < 500) return { status: f.status, code: 'upstream_error' };
      return { status: 502, code: 'upstream_error' };
    default:
      return { status: 502, code: 'upstream_error' };
  }
}

/** The upstream's own error message, if its body is an OpenAI-shaped error. */
function upstreamMessage(body: Buffer): string {
  try {
    const v = JSON.parse(body.toString('utf8')) as { error?: { message?: unknown } };
    if (typeof v.error?.message === 'string') return v.error.message.slice(0, 1000);
  } catch {
    // not JSON: the status says enough
  }
  return body.toString('utf8').slice(0, 200);
}

export function createOpenAiProxy(o: OpenAiProxyOptions): OpenAiProxy {
  const upstream = new Upstream(o.upstream);
  const redact = o.redact ?? new Redactor();
  redact.add([o.upstream.apiKey]);
  const observer = guardedObserver(o.observer);
  const tracer = trace.getTracer('helm-sidecar');
  const routes = o.toolRoutes ?? {};
  const gate = new ToolCallGate(o.pep, o.principal, observer, tracer, routes);
  const ledger = new ToolCallLedger();
  const mode: DeniedCallMode = o.deniedCallMode ?? 'explain';
  const maxBody = o.maxBodyBytes ?? 4 * 1024 * 1024;
  const maxUpstream = o.maxUpstreamBytes ?? 16 * 1024 * 1024;
  const inflight = new Set<Promise<void>>();

  /** Receipts an upstream failure (each call still held, or the request) and builds the answer. */
  async function failure(raw: UpstreamFailure, pending: readonly ProposedCall[], model: string | null): Promise<ProxyError> {
    const f = new UpstreamFailure(raw.kind, redact.text(raw.message), raw.status);
    const problem = `${f.message}${pending.length > 0 ? '; the tool call was not delivered' : ''}`;
    const ds =
      pending.length > 0
        ? await Promise.all(pending.map((p) => gate.refuse({ toolCallId: usableCallId(p.id) ? p.id : null, tool: typeof p.name === 'string' ? p.name : undefined, problem }, model)))
        : [await gate.refuse({ problem }, model)];
    if (ds.some((d) => !d.recorded)) return new ProxyError(503, 'receipt_unavailable', `${f.message}; and the refusal could not be recorded`).with(ds);
    const { status, code } = failureStatus(f);
    return new ProxyError(status, code, f.message).with(ds);
  }

  function upstreamSpan(model: string | null, path: string): { span: Span; t0: bigint } {
    const span = tracer.startSpan(model !== null ? `chat ${model}` : `GET ${path}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': model !== null ? 'chat' : 'list_models',
        'gen_ai.provider.name': 'openai',
        ...(model !== null ? { 'gen_ai.request.model': model } : {}),
        'server.address': upstream.host,
        'server.port': upstream.port,
      },
    });
    return { span, t0: process.hrtime.bigint() };
  }

  function endUpstream(s: { span: Span; t0: bigint }, route: string, status: number | null, error: string | null): void {
    if (status !== null) s.span.setAttribute('http.response.status_code', status);
    if (error !== null) error = redact.text(error);
    if (error !== null) s.span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    s.span.end();
    const seconds = Number(process.hrtime.bigint() - s.t0) / 1e9;
    if (error !== null || status === null || status >= 400) o.log?.warn('upstream request failed', { route, status, error, seconds });
    observer.upstream({ route, seconds, status, error });
  }

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Record<string, unknown>;
    try {
      const read = await readJsonBody(req, maxBody);
      if (!isObject(read.value)) throw new ProxyError(400, 'invalid_request', 'the body must be a JSON object');
      body = read.value;
    } catch (e) {
      if (!(e instanceof ProxyError)) throw e;
      const d = await gate.refuse({ problem: e.message, ...(e.reasonCode ? { reasonCode: e.reasonCode } : {}) }, null);
      const err = d.recorded ? e.with([d]) : new ProxyError(503, 'receipt_unavailable', `${e.message}; and the refusal could not be recorded`).with([d]);
      if (shouldDrop(e)) {
        res.shouldKeepAlive = false;
        res.on('finish', () => req.socket.destroy());
      }
      sendError(res, err, shouldDrop(e) ? { headers: { connection: 'close' } } : {});
      return;
    }
    const model = typeof body.model === 'string' ? body.model : null;
    const stream = body.stream === true;
    let removed: CallDecision[] = [];
    try {
      if (!Array.isArray(body.messages)) {
        const d = await gate.refuse({ problem: 'messages must be an array' }, model);
        throw new ProxyError(d.recorded ? 400 : 503, d.recorded ? 'invalid_request' : 'receipt_unavailable', 'messages must be an array', 'messages').with([d]);
      }
      await checkToolResults({ pep: o.pep, gate, ledger, observer, model }, body.messages);
      removed = await filterTools({ policy: o.pep.policy, principal: o.principal, routes, gate, observer, model }, body);
    } catch (e) {
      if (e instanceof ProxyError) return sendError(res, e, { removed });
      throw e;
    }

    const s = upstreamSpan(model, CHAT);
    let ex: UpstreamExchange;
    try {
      ex = await upstream.exchange('POST', '/chat/completions', req.headers, Buffer.from(JSON.stringify(body)));
    } catch (e) {
      if (!(e instanceof UpstreamFailure)) throw e;
      endUpstream(s, CHAT, null, e.message);
      return sendError(res, await failure(e, [], model), { removed });
    }
    res.on('close', () => {
      if (!res.writableFinished) ex.abort('the agent went away');
    });
    const status = ex.res.statusCode ?? 0;
    const pass = passHeaders(ex, redact);
    if (status < 200 || status > 299) {
      let text: Buffer = Buffer.alloc(0);
      try {
        text = await ex.readAll(64 * 1024);
      } catch {
        // the status is the failure; a body we cannot read adds nothing
      }
      const f = new UpstreamFailure('status', `the upstream answered ${status}: ${upstreamMessage(redact.bytes(text))}`, status);
      endUpstream(s, CHAT, status, f.message);
      return sendError(res, await failure(f, [], model), { removed, headers: pass });
    }

    if (!stream) {
      let completion: unknown;
      try {
        const raw = redact.bytes(await ex.readAll(maxUpstream));
        try {
          completion = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new UpstreamFailure('malformed', 'the upstream completion is not JSON', status);
        }
        // Bounded before any recursive code (governing, re-serializing) walks it.
        if (!depthWithin(completion, MAX_UPSTREAM_DEPTH)) throw new UpstreamFailure('malformed', `the upstream completion nests deeper than ${MAX_UPSTREAM_DEPTH} levels`, status);
        endUpstream(s, CHAT, status, null);
      } catch (e) {
        if (!(e instanceof UpstreamFailure)) throw e;
        endUpstream(s, CHAT, status, e.message);
        return sendError(res, await failure(e, [], model), { removed, headers: pass });
      }
      try {
        const g = await governCompletion({ gate, ledger, model }, completion, mode);
        g.body.helm = summary(g.decisions, removed, g.delivered);
        return sendJson(res, 200, g.body, { ...pass, ...helmHeaders(g.decisions, removed) });
      } catch (e) {
        if (e instanceof ProxyError) return sendError(res, e, { removed, headers: pass });
        if (e instanceof UpstreamFailure) return sendError(res, await failure(e, [], model), { removed, headers: pass });
        throw e;
      }
    }

    const gov = new StreamGovernor({
      gate,
      ledger,
      model,
      mode,
      removed,
      res,
      passHeaders: pass,
      abortUpstream: (why) => ex.abort(why),
      failure: (f, pending) => failure(f, pending, model),
    });
    let upstreamError: string | null = null;
    try {
      const type = String(ex.res.headers['content-type'] ?? '');
      if (!/^text\/event-stream\b/i.test(type)) throw new UpstreamFailure('malformed', `the upstream answered a streamed request with ${JSON.stringify(type)}`, status);
      const parser = new SseParser();
      for await (const chunk of ex.chunks()) {
        if (gov.finished) continue;
        let events;
        try {
          events = parser.push(chunk);
        } catch {
          throw new UpstreamFailure('malformed', 'the upstream stream is not UTF-8', status);
        }
        for (const ev of events) await gov.event(redactEvent(ev));
      }
      for (const ev of parser.end()) await gov.event(redactEvent(ev));
      await gov.end();
    } catch (e) {
      if (!(e instanceof UpstreamFailure)) throw e;
      // After the proxy abandoned the answer itself, the cut-off upstream is not an upstream error.
      if (!gov.finished) {
        upstreamError = e.message;
        await gov.fail(e);
      }
    } finally {
      endUpstream(s, CHAT, status, upstreamError);
    }
  }

  function redactEvent(ev: SseEvent): SseEvent {
    return { event: ev.event === null ? null : redact.text(ev.event), data: redact.text(ev.data) };
  }

  async function models(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const s = upstreamSpan(null, path);
    try {
      const ex = await upstream.exchange('GET', path.slice('/v1'.length), req.headers, null);
      const text = redact.bytes(await ex.readAll(maxUpstream));
      const status = ex.res.statusCode ?? 502;
      endUpstream(s, MODELS, status, status >= 400 ? `the upstream answered ${status}` : null);
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { 'content-type': String(ex.res.headers['content-type'] ?? 'application/json'), 'content-length': text.length, ...passHeaders(ex, redact) });
      res.end(text);
    } catch (e) {
      if (!(e instanceof UpstreamFailure)) throw e;
      endUpstream(s, MODELS, null, e.message);
      const { status, code } = failureStatus(e);
      sendError(res, new ProxyError(status, code, redact.text(e.message)));
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === CHAT) {
      if (req.method === 'POST') return chat(req, res);
      return sendError(res, new ProxyError(405, 'method_not_allowed', `${req.method} is not allowed on ${CHAT}`), { headers: { allow: 'POST' } });
    }
    if (path === MODELS || /^\/v1\/models\/[^/]+$/.test(path)) {
      if (req.method === 'GET') return models(req, res, path);
      return sendError(res, new ProxyError(405, 'method_not_allowed', `${req.method} is not allowed on ${path}`), { headers: { allow: 'GET' } });
    }
    return sendError(res, new ProxyError(404, 'not_found', `no route ${req.method} ${path}: this proxy serves ${CHAT} and ${MODELS}`));
  }

  return {
    handle(req, res) {
      const p = route(req, res).catch((e: unknown) => {
        // Unreachable by design; whatever it was, nothing ungoverned goes out.
        if (!res.headersSent) sendError(res, new ProxyError(500, 'internal_error', `the proxy failed: ${redact.text((e as Error)?.message ?? String(e))}`));
        else res.destroy();
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      return p;
    },
    async drain() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}
