// Stateful Streamable HTTP for the 2025 era: `initialize` opens a session (Mcp-Session-Id), one
// gateway server per session serves every later request of it (no per-request construction),
// GET opens its standalone SSE stream (list changes, resource updates, log messages), DELETE ends
// it, and every SSE stream is resumable (event ids, Last-Event-ID, the retry field; ./event-store.ts).
// A session id selects state (log level, subscriptions, requests in flight), never authority: every
// request is still decided for the gateway's configured principal. Bad input is answered with a
// JSON-RPC error whose data names a reason code and leaves the session usable: a request id still
// in flight reused (MCP_REQUEST_ID_REUSED), a response to a request the gateway never sent this
// session (MCP_RESPONSE_UNSOLICITED), an unknown or expired session (MCP_SESSION_UNKNOWN).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { JSONRPCMessage, Server } from '@modelcontextprotocol/server';
import { BoundedEventStore } from './event-store.js';
import { rpcError, sendJson } from './http-io.js';

export const SESSION_HEADER = 'mcp-session-id';

type Id = string | number;
const key = (id: Id) => `${typeof id}:${String(id)}`;

interface Session {
  readonly transport: NodeStreamableHTTPServerTransport;
  readonly server: Server;
  /** Client request ids in flight (answered when the gateway sends their response). */
  readonly inflight: Set<string>;
  /** Ids of server-to-client requests the gateway sent and the client has not answered. */
  readonly outstanding: Set<string>;
  lastSeen: number;
}

export interface SessionOptions {
  maxSessions?: number;
  /** A session without a request for this long is closed (default 30 min). */
  idleMs?: number;
  /** The SSE retry field: how long a client waits before it reconnects (default 1000 ms). */
  retryMs?: number;
  onerror(e: Error): void;
}

export function bad(res: ServerResponse, status: number, id: Id | null, code: number, reasonCode: string, message: string): void {
  sendJson(res, status, { jsonrpc: '2.0', id, error: { code, message: `${reasonCode}: ${message}`, data: { reasonCode } } });
}

export class HttpSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly build: () => Server,
    private readonly o: SessionOptions,
  ) {
    const idle = o.idleMs ?? 30 * 60_000;
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const [id, s] of this.sessions) if (now - s.lastSeen > idle) void this.end(id);
    }, Math.min(idle, 60_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  /** A POST initialize without a session id: opens a session and answers through it. */
  async open(req: IncomingMessage, res: ServerResponse, message: unknown): Promise<void> {
    if (this.sessions.size >= (this.o.maxSessions ?? 1024)) {
      sendJson(res, 503, rpcError(-32000, `too many open MCP sessions (${this.o.maxSessions ?? 1024}); close one (DELETE /mcp) or retry later`));
      return;
    }
    const server = this.build();
    let session: Session | null = null;
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new BoundedEventStore(),
      retryInterval: this.o.retryMs ?? 1000,
      onsessioninitialized: (id) => {
        if (session) this.sessions.set(id, session);
      },
      onsessionclosed: (id) => void this.end(id),
    });
    session = { transport, server, inflight: new Set(), outstanding: new Set(), lastSeen: performance.now() };
    this.track(session);
    transport.onerror = this.o.onerror;
    await server.connect(transport);
    await transport.handleRequest(req, res, message);
  }

  /** A request naming a session: the session's own transport answers, after the bad-input checks. */
  async handle(id: string, req: IncomingMessage, res: ServerResponse, message?: unknown): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) {
      bad(res, 404, null, -32001, 'MCP_SESSION_UNKNOWN', `session ${id.slice(0, 64)} is not open on this gateway (expired, closed or never issued); send initialize without ${SESSION_HEADER} to start one`);
      return;
    }
    s.lastSeen = performance.now();
    if (message !== undefined && !this.admit(s, message, res)) return;
    await s.transport.handleRequest(req, res, message);
  }

  /** Ids: a request id in flight cannot be reused; a response must answer a request this session was sent. */
  private admit(s: Session, message: unknown, res: ServerResponse): boolean {
    const all = (Array.isArray(message) ? message : [message]) as Array<Record<string, unknown>>;
    const added: string[] = [];
    for (const m of all) {
      const id = m.id as Id | undefined;
      if (id === undefined || id === null) continue;
      const k = key(id);
      if (typeof m.method === 'string') {
        if (s.inflight.has(k) || added.includes(k)) {
          for (const a of added) s.inflight.delete(a);
          bad(res, 409, id, -32600, 'MCP_REQUEST_ID_REUSED', `request id ${JSON.stringify(id)} is still in flight in this session; use a new id`);
          return false;
        }
        added.push(k);
      } else if (!s.outstanding.has(k)) {
        for (const a of added) s.inflight.delete(a);
        bad(res, 400, id, -32600, 'MCP_RESPONSE_UNSOLICITED', `this session was sent no request with id ${JSON.stringify(id)} that is still unanswered`);
        return false;
      }
    }
    for (const a of added) s.inflight.add(a);
    for (const m of all) if (typeof m.method !== 'string' && m.id !== undefined && m.id !== null) s.outstanding.delete(key(m.id as Id));
    return true;
  }

  /** Watches what the gateway sends: responses end a request in flight, requests await an answer. */
  private track(s: Session): void {
    const t = s.transport;
    const send = t.send.bind(t);
    t.send = (m: JSONRPCMessage, options?: Parameters<typeof send>[1]) => {
      const msg = m as Record<string, unknown>;
      if (msg.id !== undefined && msg.id !== null) {
        if (typeof msg.method === 'string') s.outstanding.add(key(msg.id as Id));
        else s.inflight.delete(key(msg.id as Id));
      }
      return send(m, options);
    };
  }

  private async end(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    await s.server.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.sessions.keys()].map((id) => this.end(id)));
  }
}
