// A local OpenAI-compatible model whose answers are scripted: tests and the demo use it as the
// upstream LLM of the governed proxy. It speaks POST /v1/chat/completions (whole and streamed)
// and GET /v1/models, and records every request it receives (headers included, so tests can see
// which credential reached the upstream).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { completion, streamChunks, type CompletionMeta } from './chunks.js';
import type { ScriptedModel, ScriptedModelOptions, ScriptedRequest, ScriptedTurn } from './types.js';

export type { ScriptedFault, ScriptedModel, ScriptedModelOptions, ScriptedRequest, ScriptedTurn } from './types.js';

const MAX_BODY = 16 * 1024 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function apiError(res: ServerResponse, status: number, message: string, code: string): void {
  sendJson(res, status, { error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code } });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error(`request body over ${MAX_BODY} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function promptText(body: unknown): string {
  const messages = (body as { messages?: unknown })?.messages;
  return Array.isArray(messages) ? JSON.stringify(messages) : '';
}

export async function startScriptedModel(o: ScriptedModelOptions): Promise<ScriptedModel> {
  const requests: ScriptedRequest[] = [];
  const modelId = o.model ?? 'scripted-model';
  const fragment = Math.max(1, o.fragment ?? 8);
  let turn = 0;

  const chat = async (req: IncomingMessage, res: ServerResponse, body: unknown) => {
    let t: ScriptedTurn;
    const n = turn++;
    try {
      t = o.script(body, n);
    } catch (e) {
      apiError(res, 500, `the script failed on turn ${n}: ${(e as Error).message}`, 'script_error');
      return;
    }
    const f = t.fault ?? {};
    if (f.delayMs) await sleep(f.delayMs);
    if (res.destroyed) return;
    if (f.status !== undefined) {
      if (f.body !== undefined) {
        res.writeHead(f.status, { 'content-type': 'application/json' });
        res.end(f.body);
      } else apiError(res, f.status, `scripted failure on turn ${n}`, 'scripted_failure');
      return;
    }
    const b = body as { model?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
    const meta: CompletionMeta = { id: `chatcmpl-scripted-${n}`, created: Math.floor(Date.now() / 1000), model: typeof b.model === 'string' ? b.model : modelId };
    if (b.stream !== true) {
      if (f.body !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(f.body);
      } else sendJson(res, 200, completion(meta, t, promptText(body)));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    if (f.body !== undefined) {
      res.end(f.body);
      return;
    }
    const events = [...streamChunks(meta, t, promptText(body), { includeUsage: b.stream_options?.include_usage === true, fragment }), '[DONE]'];
    for (let i = 0; i < events.length; i++) {
      if (f.truncateAfterEvents !== undefined && i >= f.truncateAfterEvents) {
        // Flush what was written, then cut the connection without the terminating chunk.
        res.socket?.end(() => res.socket?.destroy());
        return;
      }
      if (f.stallAfterEvents !== undefined && i >= f.stallAfterEvents) return;
      res.write(`data: ${events[i]}\n\n`);
    }
    res.end();
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://scripted.invalid');
      const text = await readBody(req);
      let body: unknown = null;
      try {
        body = text.length > 0 ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      requests.push({ method: req.method ?? '', path: url.pathname, headers: { ...req.headers }, body });
      if (url.pathname === '/v1/chat/completions' && req.method === 'POST') {
        if (body === null || typeof body !== 'object') return apiError(res, 400, 'the body must be a JSON object', 'invalid_json');
        return chat(req, res, body);
      }
      if (url.pathname === '/v1/models' && req.method === 'GET') return sendJson(res, 200, { object: 'list', data: [{ id: modelId, object: 'model', created: 0, owned_by: 'helm-scripted' }] });
      if (url.pathname === `/v1/models/${modelId}` && req.method === 'GET') return sendJson(res, 200, { id: modelId, object: 'model', created: 0, owned_by: 'helm-scripted' });
      return apiError(res, 404, `no route ${req.method} ${url.pathname}`, 'not_found');
    })().catch((e: unknown) => {
      if (!res.headersSent) apiError(res, 500, (e as Error).message, 'server_error');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
