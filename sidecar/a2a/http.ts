// HTTP plumbing of the A2A surface: bounded bodies, JSON-RPC error answers that carry the HELM
// verdict, and relaying an upstream answer (JSON or an SSE stream) event by event so a stream can
// be cut when an event breaks a limit.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const A2A_ERROR_CODE = -32099;

/** The body, or null when it exceeds `max` bytes (the rest is drained). */
export async function readBody(req: IncomingMessage, max: number): Promise<{ bytes: Uint8Array; over: boolean }> {
  const chunks: Buffer[] = [];
  let n = 0;
  let over = false;
  for await (const c of req) {
    const b = c as Buffer;
    n += b.length;
    if (n > max) over = true;
    else chunks.push(b);
  }
  return { bytes: new Uint8Array(Buffer.concat(chunks)), over };
}

export interface Verdict {
  verdict: string;
  reasonCode: string;
  decision: string | null;
  detail: string;
}

/** A JSON-RPC error (HTTP 200, as A2A answers errors) naming the reason code first in the message. */
export function rpcError(res: ServerResponse, id: string | number | null, v: Verdict, status = 200): void {
  const body = JSON.stringify({ jsonrpc: '2.0', id, error: { code: A2A_ERROR_CODE, message: `${v.reasonCode}: ${v.detail}`, data: { helm: v } } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-helm-decision': v.verdict, 'x-helm-reason-code': v.reasonCode });
  res.end(body);
}

export function jsonAnswer(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export interface Ended {
  status: 'executed' | 'failed';
  error?: string;
}

/** Records the effect of how a call ended: the headers naming it, or null when it could not be recorded. */
export type Settle = (ended: Ended) => Promise<Record<string, string> | null>;

/**
 * Relays an upstream answer and settles its effect. A JSON answer is read whole, checked, and its
 * effect recorded BEFORE it is relayed (its headers name the effect; an effect that cannot be
 * recorded withholds the answer: RECEIPT_UNAVAILABLE). An SSE stream goes event by event through
 * `check` (null: pass it; a verdict: cut the stream there with a JSON-RPC error event) and its
 * effect is recorded when it ends, since how it ends is known only then.
 */
export async function relay(up: Response, res: ServerResponse, id: string | number | null, check: (eventJson: string) => Verdict | null, headers: Record<string, string>, settle: Settle): Promise<void> {
  const type = up.headers.get('content-type') ?? 'application/json';
  const sse = type.startsWith('text/event-stream');
  if (!sse) {
    const text = await up.text();
    const cut = check(text);
    const error = rpcErrorOf(text);
    const ended: Ended = cut ? { status: 'failed', error: cut.reasonCode } : up.ok && !error ? { status: 'executed' } : { status: 'failed', error: error ?? `upstream answered ${up.status}` };
    const effect = await settle(ended);
    if (effect === null) return rpcError(res, id, { verdict: 'DENY', reasonCode: 'RECEIPT_UNAVAILABLE', decision: headers['x-helm-decision-hash'] ?? null, detail: 'the call ran but its effect could not be recorded; the answer is withheld' }, 503);
    if (cut) return rpcError(res, id, cut);
    res.writeHead(up.status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers, ...effect });
    res.end(text);
    return;
  }
  await settle(await relayStream(up, res, id, check, { 'content-type': type, 'cache-control': 'no-cache', ...headers }));
}

async function relayStream(up: Response, res: ServerResponse, id: string | number | null, check: (eventJson: string) => Verdict | null, headers: Record<string, string>): Promise<Ended> {
  res.writeHead(up.status, headers);
  const reader = up.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let failed: string | null = null;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, i + 2);
        buf = buf.slice(i + 2);
        const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        const cut = data ? check(data) : null;
        if (cut) {
          res.end(`data: ${JSON.stringify({ jsonrpc: '2.0', id, error: { code: A2A_ERROR_CODE, message: `${cut.reasonCode}: ${cut.detail}`, data: { helm: cut } } })}\n\n`);
          await reader.cancel().catch(() => undefined);
          return { status: 'failed', error: cut.reasonCode };
        }
        if (data && rpcErrorOf(data)) failed ??= rpcErrorOf(data);
        res.write(event);
      }
      if (done) break;
    }
  } catch (e) {
    res.end();
    return { status: 'failed', error: (e as Error).message };
  }
  res.end(buf);
  // A stream the remote side ended with a JSON-RPC error did not do what was asked.
  return failed ? { status: 'failed', error: failed } : { status: 'executed' };
}

/** The message of a JSON-RPC error answer, or null. */
function rpcErrorOf(json: string): string | null {
  try {
    const v = JSON.parse(json) as { error?: { message?: unknown } };
    return v && typeof v === 'object' && v.error ? String(v.error.message ?? 'JSON-RPC error').slice(0, 500) : null;
  } catch {
    return null;
  }
}
