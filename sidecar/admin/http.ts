// The few HTTP pieces the admin listener needs, on plain node:http (it was an Express app: loading
// Express and its body parser cost start-up time for three probes and a small JSON API). Routing
// keeps Express's defaults: paths match case-insensitively and with or without one trailing
// slash, a GET route also answers HEAD, and OPTIONS lists the methods a path allows.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';

export type Handler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => void | Promise<void>;

interface Route {
  method: 'GET' | 'POST';
  parts: string[];
  handler: Handler;
}

export class Routes {
  private readonly routes: Route[] = [];

  get(path: string, handler: Handler): this {
    this.routes.push({ method: 'GET', parts: split(path), handler });
    return this;
  }

  post(path: string, handler: Handler): this {
    this.routes.push({ method: 'POST', parts: split(path), handler });
    return this;
  }

  /** The handler for a request, the methods its path allows, or nothing. Throws URIError on a bad percent-encoding. */
  match(method: string, pathname: string): { handler: Handler; params: Record<string, string> } | { allow: string[] } | null {
    const parts = split(pathname);
    const allow: string[] = [];
    for (const r of this.routes) {
      const params = matchParts(r.parts, parts);
      if (!params) continue;
      if (r.method === method || (r.method === 'GET' && method === 'HEAD')) return { handler: r.handler, params: decodeParams(params) };
      allow.push(r.method, ...(r.method === 'GET' ? ['HEAD'] : []));
    }
    return allow.length > 0 ? { allow: [...new Set(allow)] } : null;
  }
}

function split(path: string): string[] {
  const p = path.endsWith('/') && path.length > 1 ? path.slice(0, -1) : path;
  return p.split('/');
}

function matchParts(route: string[], parts: string[]): Record<string, string> | null {
  if (route.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < route.length; i++) {
    const r = route[i]!;
    const p = parts[i]!;
    if (r.startsWith(':')) {
      if (p === '') return null;
      params[r.slice(1)] = p;
    } else if (r.toLowerCase() !== p.toLowerCase()) return null;
  }
  return params;
}

function decodeParams(raw: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) out[k] = decodeURIComponent(v);
  return out;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

export function send(res: ServerResponse, status: number, type: string, body: string): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': bytes.length });
  res.end(bytes);
}

/** A refused request body, with the status and the reason body-parser gave for the same case. */
export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

/** Whether the request declares a body of media type application/json (parameters aside). */
export function isJson(req: IncomingMessage): boolean {
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && !Number.isNaN(Number(req.headers['content-length'])));
  if (!hasBody) return false;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json';
}

function decoder(encoding: string): Transform | null {
  if (encoding === 'gzip') return createGunzip();
  if (encoding === 'deflate') return createInflate();
  if (encoding === 'br') return createBrotliDecompress();
  return null;
}

/**
 * Reads a JSON body as express.json({ limit, strict: true }) did: UTF-8 only, gzip/deflate/br
 * decoded, at most `limit` bytes after decoding, only an object or array at the top, and an empty
 * body reads as {}.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase() ?? 'utf-8';
  if (!charset.startsWith('utf-')) throw new BodyError(400, `unsupported charset "${charset.toUpperCase()}"`);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  const declared = Number(req.headers['content-length']);
  if (encoding === 'identity' && declared > limit) throw new BodyError(413, 'request entity too large');
  const inflate = encoding === 'identity' ? null : decoder(encoding);
  if (encoding !== 'identity' && !inflate) throw new BodyError(400, `unsupported content encoding "${encoding}"`);
  const source = inflate ? req.pipe(inflate) : req;
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const c of source as AsyncIterable<Buffer>) {
      total += c.length;
      if (total > limit) throw new BodyError(413, 'request entity too large');
      chunks.push(c);
    }
  } catch (e) {
    if (e instanceof BodyError) throw e;
    throw new BodyError(400, `request body could not be read: ${(e as Error).message}`);
  } finally {
    inflate?.destroy();
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.length === 0) return {};
  const first = /^[\x20\x09\x0a\x0d]*(.)/.exec(text)?.[1];
  if (first !== '{' && first !== '[') throw new BodyError(400, 'JSON body must be an object or an array');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new BodyError(400, (e as Error).message);
  }
}
