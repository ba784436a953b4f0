// The legacy HTTP+SSE transport (protocol 2024-11-05 clients, still common in desktop hosts):
// GET /sse opens a session stream, POST /messages?sessionId= carries the client's messages. The
// session framing is the v1 SDK's SSEServerTransport; the server behind it is the same factory as
// every other transport, pinned to the 2025 era by the initialize handshake.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { McpServerFactory, Transport } from '@modelcontextprotocol/server';
import { isJsonContentType, readScreened, rpcError, sendJson } from './http-io.js';

const MAX_SESSIONS = 1024;

export class SseSessions {
  private readonly sessions = new Map<string, SSEServerTransport>();

  constructor(
    private readonly factory: McpServerFactory,
    private readonly maxMessageBytes: number,
    private readonly messagesPath: string,
    private readonly onerror: (e: Error) => void,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  async open(res: ServerResponse): Promise<void> {
    if (this.sessions.size >= MAX_SESSIONS) {
      sendJson(res, 503, rpcError(-32000, `too many open SSE sessions (${MAX_SESSIONS})`));
      return;
    }
    const transport = new SSEServerTransport(this.messagesPath, res);
    const server = await this.factory({ era: 'legacy' });
    // The v1 transport implements the same Transport contract the v2 protocol layer drives.
    await server.connect(transport as unknown as Transport);
    const id = transport.sessionId;
    this.sessions.set(id, transport);
    const closed = transport.onclose;
    transport.onclose = () => {
      this.sessions.delete(id);
      closed?.();
    };
    transport.onerror = this.onerror;
  }

  async post(req: IncomingMessage, res: ServerResponse, sessionId: string | null): Promise<void> {
    const transport = sessionId === null ? undefined : this.sessions.get(sessionId);
    if (!transport) {
      sendJson(res, 404, rpcError(-32001, 'unknown or closed SSE session: open GET /sse first'));
      return;
    }
    if (!isJsonContentType(req)) {
      sendJson(res, 415, rpcError(-32600, 'Content-Type must be application/json'));
      return;
    }
    // Strict JSON (duplicate keys, lone surrogates, deep nesting...): see ./screen.ts.
    const message = await readScreened(req, res, this.maxMessageBytes);
    if (message === undefined) return;
    try {
      await transport.handleMessage(message);
    } catch (e) {
      sendJson(res, 400, rpcError(-32600, `Invalid Request: not a JSON-RPC message (${firstLine(e)})`));
      return;
    }
    res.writeHead(202, { 'content-type': 'text/plain' }).end('Accepted');
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(all.map((t) => t.close()));
  }
}

function firstLine(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split('\n')[0]!.slice(0, 200);
}
