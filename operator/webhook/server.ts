// The admission endpoint: HTTPS (node:https), POST /mutate and /validate with AdmissionReview v1
// bodies, GET /healthz and /readyz for the kubelet. A request can fail; the server cannot: every
// error becomes an answer (allowed:false with the request's uid, or HTTP 4xx/5xx where there is
// no uid), and the serving certificate is swapped in place for new connections.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { admissionReview, deny, parseAdmissionReview, type AdmissionResult } from './admission.js';
import { mutate, validate, type WebhookDeps } from './handlers.js';
import type { CertifyRoute } from '../certify/route.js';

export interface ServingCertificate {
  cert: string;
  key: string;
  /** PEM of the CA bundle that signs cert, when known (injected into sidecars as HELM_CERTIFY_CA). */
  ca?: string;
}

export interface WebhookServerOptions {
  port: number;
  host?: string;
  deps: WebhookDeps;
  /** Bodies above this are refused (the API server caps objects at 3 MiB; reviews carry two). */
  maxBodyBytes?: number;
  /** A request slower than this to arrive is dropped; the API server gives up after timeoutSeconds anyway. */
  requestTimeoutMs?: number;
  /** POST /v1/certify (operator/certify): absent when no certification root is configured. */
  certify?: CertifyRoute;
}

const DEFAULT_MAX_BODY = 7 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limit) {
      reject(new HttpError(413, `body of ${declared} bytes exceeds ${limit}`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, `body exceeds ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const buf = Buffer.concat(chunks);
      // Strict UTF-8: a review with invalid bytes is malformed, not silently repaired.
      try {
        resolve(new TextDecoder('utf-8', { fatal: true }).decode(buf));
      } catch {
        reject(new HttpError(400, 'body is not valid UTF-8'));
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export class WebhookServer {
  private server: Server | undefined;
  private current: ServingCertificate | undefined;
  private closing = false;

  constructor(private readonly opts: WebhookServerOptions) {}

  get ready(): boolean {
    return this.current !== undefined && this.server?.listening === true && !this.closing;
  }

  /** Swap the serving certificate; connections made from now on see the new one. */
  setCertificate(material: ServingCertificate): void {
    this.current = material;
    this.server?.setSecureContext({ cert: material.cert, key: material.key });
  }

  async start(initial: ServingCertificate): Promise<number> {
    this.current = initial;
    const server = createServer({ cert: initial.cert, key: initial.key, minVersion: 'TLSv1.2' }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        this.opts.deps.log?.({ msg: 'webhook request failed', error: String(e) });
        send(res, 500, { error: 'internal error' });
      });
    });
    server.requestTimeout = this.opts.requestTimeoutMs ?? 10_000;
    server.headersTimeout = Math.min(server.requestTimeout, 10_000);
    // Broken TLS handshakes and garbage requests are the client's problem, never a crash.
    server.on('tlsClientError', () => undefined);
    server.on('clientError', (_err, socket) => socket.destroy());
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.closing = true;
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz') return send(res, 200, 'ok');
    if (path === '/readyz') return send(res, this.ready ? 200 : 503, this.ready ? 'ok' : 'not ready');
    if (path === '/v1/certify' && this.opts.certify) return this.opts.certify(req, res);
    if (path !== '/mutate' && path !== '/validate') return send(res, 404, { error: `no such path ${path}` });
    if (req.method !== 'POST') return send(res, 405, { error: 'POST an AdmissionReview' });
    const kind = path === '/mutate' ? 'mutate' : 'validate';
    const started = process.hrtime.bigint();
    try {
      const type = String(req.headers['content-type'] ?? '');
      if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'content-type must be application/json');
      const body = await readBody(req, this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY);
      const parsed = parseAdmissionReview(body);
      if (!parsed.ok) {
        if (!parsed.uid) throw new HttpError(400, parsed.message);
        this.countMalformed(kind);
        return send(res, 200, admissionReview(parsed.uid, deny(400, 'BadRequest', `malformed AdmissionReview: ${parsed.message}`)));
      }
      const request = parsed.request;
      let result: AdmissionResult;
      try {
        if (kind === 'mutate') {
          const m = await mutate(request, this.opts.deps);
          this.opts.deps.metrics?.injection(m.outcome, m.reason);
          result = m.result;
        } else {
          result = await validate(request, this.opts.deps);
        }
      } catch (e) {
        // Lookups failed or an object was stranger than the guards expected.
        this.opts.deps.log?.({ msg: 'admission error', kind, uid: request.uid, error: String(e) });
        if (kind === 'mutate') this.opts.deps.metrics?.injection('error', 'internal');
        result = this.opts.deps.config.failClosed
          ? deny(500, 'InternalError', `helm.mindburn.org ${kind} webhook error: ${(e as Error).message}`)
          : { allowed: true, warnings: [`helm.mindburn.org ${kind} webhook error (fail open): ${(e as Error).message}`] };
      }
      send(res, 200, admissionReview(request.uid, result));
    } catch (e) {
      if (e instanceof HttpError) send(res, e.status, { error: e.message });
      else throw e;
    } finally {
      this.opts.deps.metrics?.latency(Number(process.hrtime.bigint() - started) / 1e9, kind);
    }
  }

  private countMalformed(kind: 'mutate' | 'validate'): void {
    if (kind === 'mutate') this.opts.deps.metrics?.injection('error', 'malformed-review');
  }
}
