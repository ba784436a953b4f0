// The client side of the proxy: one keep-alive connection pool to the upstream LLM, the headers
// the agent may pass on (never hop-by-hop ones, never its credential when the sidecar holds the
// upstream key), and one idle timer that bounds both the wait for the response headers and every
// gap between body bytes. Failures come back as UpstreamFailure with a kind the proxy maps to an
// HTTP status.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface UpstreamOptions {
  /** OpenAI-style base URL including its version path, e.g. https://api.openai.com/v1. */
  baseUrl: string;
  /** When set, replaces whatever credential the agent sent (credential isolation). */
  apiKey?: string;
  timeoutMs: number;
}

export type UpstreamFailureKind = 'unreachable' | 'timeout' | 'status' | 'malformed' | 'broken';

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'UpstreamFailure';
  }
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect', 'accept-encoding']);
/** Credentials an agent could send; dropped when the sidecar holds the upstream key. */
const CREDENTIALS = new Set(['authorization', 'api-key', 'x-api-key']);

/** The agent's headers as the upstream should see them. */
export function forwardHeaders(agent: IncomingHttpHeaders, apiKey: string | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = new Set(
    String(agent.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  for (const [name, value] of Object.entries(agent)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || name.startsWith('x-helm-')) continue;
    if (apiKey !== undefined && CREDENTIALS.has(name)) continue;
    out[name] = value;
  }
  if (apiKey !== undefined) out.authorization = `Bearer ${apiKey}`;
  // The proxy parses the body, so it asks for it uncompressed.
  out['accept-encoding'] = 'identity';
  return out;
}

class IdleTimer {
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly ms: number,
    private readonly fire: () => void,
  ) {
    this.touch();
  }
  touch(): void {
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(this.fire, this.ms);
  }
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** One request/response with the upstream. */
export class UpstreamExchange {
  constructor(
    readonly res: IncomingMessage,
    private readonly timer: IdleTimer,
    private readonly failure: () => UpstreamFailure | null,
    readonly abort: (why: string) => void,
  ) {}

  /** The body chunk by chunk; throws UpstreamFailure on a timeout or a body cut short. */
  async *chunks(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of this.res as AsyncIterable<Buffer>) {
        this.timer.touch();
        yield chunk;
      }
    } catch (e) {
      throw this.failure() ?? new UpstreamFailure('broken', `the upstream response broke off: ${(e as Error).message}`, this.res.statusCode ?? null);
    } finally {
      this.timer.stop();
    }
    if (!this.res.complete) throw this.failure() ?? new UpstreamFailure('broken', 'the upstream response ended before it was complete', this.res.statusCode ?? null);
  }

  async readAll(maxBytes: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.chunks()) {
      size += chunk.length;
      if (size > maxBytes) {
        this.abort('too large');
        throw new UpstreamFailure('malformed', `the upstream response exceeds ${maxBytes} bytes`, this.res.statusCode ?? null);
      }
      parts.push(chunk);
    }
    return Buffer.concat(parts, size);
  }
}

export class Upstream {
  private readonly base: URL;
  private readonly send: typeof httpRequest;
  private readonly agent: HttpAgent;

  constructor(private readonly o: UpstreamOptions) {
    this.base = new URL(o.baseUrl);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new TypeError(`upstream baseUrl must be http or https: ${o.baseUrl}`);
    const https = this.base.protocol === 'https:';
    this.send = https ? (httpsRequest as unknown as typeof httpRequest) : httpRequest;
    this.agent = https ? new HttpsAgent({ keepAlive: true, keepAliveMsecs: 10_000 }) : new HttpAgent({ keepAlive: true, keepAliveMsecs: 10_000 });
  }

  get host(): string {
    return this.base.hostname;
  }

  get port(): number {
    return Number(this.base.port || (this.base.protocol === 'https:' ? 443 : 80));
  }

  /** `path` is relative to the base URL (e.g. "/chat/completions"). Resolves once headers arrive. */
  exchange(method: string, path: string, agentHeaders: IncomingHttpHeaders, body: Buffer | null): Promise<UpstreamExchange> {
    const headers = forwardHeaders(agentHeaders, this.o.apiKey);
    if (body !== null) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = body.length;
    }
    const basePath = this.base.pathname.replace(/\/+$/, '');
    return new Promise((resolve, reject) => {
      let failure: UpstreamFailure | null = null;
      let response: IncomingMessage | null = null;
      const req = this.send({ protocol: this.base.protocol, hostname: this.base.hostname, port: this.base.port, method, path: `${basePath}${path}`, headers, agent: this.agent });
      // Destroyed without an error object: the reader and the request's error handler report
      // `failure`, and a socket that already went back to the pool is never touched.
      const fail = (f: UpstreamFailure) => {
        if (response?.complete) return;
        failure ??= f;
        timer.stop();
        if (response) response.destroy();
        else req.destroy();
      };
      const timer = new IdleTimer(this.o.timeoutMs, () => fail(new UpstreamFailure('timeout', `the upstream sent nothing for ${this.o.timeoutMs} ms`)));
      req.on('error', (e) => {
        timer.stop();
        reject(failure ?? new UpstreamFailure('unreachable', `the upstream could not be reached: ${e.message}`));
      });
      req.on('response', (res) => {
        response = res;
        timer.touch();
        // Errors reach the reader through the iterator; this keeps an unread one from crashing.
        res.on('error', () => undefined);
        resolve(new UpstreamExchange(res, timer, () => failure, (why) => fail(new UpstreamFailure('broken', `aborted: ${why}`, res.statusCode ?? null))));
      });
      req.end(body ?? undefined);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
