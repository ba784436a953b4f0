// The governed MCP gateway: upstream MCP servers (stdio, Streamable HTTP) behind one MCP server
// whose every tools/call passes the PEP and leaves receipts. Surfaces: Streamable HTTP at /mcp
// (2025 era statelessly and 2026-07-28), legacy HTTP+SSE (GET /sse, POST /messages), stdio, and
// REST (GET /mcp/v1/capabilities, POST /mcp/v1/execute). Spec: docs/mcp-gateway.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { originValidation, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler } from '@modelcontextprotocol/server';
import type { Pep } from '../../kernel/pep/pep.js';
import { Catalog } from './catalog.js';
import type { GatewayCore, LinkedDecision } from './core.js';
import { DriftLedger } from './drift.js';
import { GatewayError } from './errors.js';
import { isJsonContentType, readScreened, rpcError, sendJson } from './http-io.js';
import { namingFor, UPSTREAM_NAME, type NamingMode } from './names.js';
import { capabilities, execute } from './rest.js';
import { Hub } from './hub.js';
import { governedList } from './list.js';
import { VisibleSet } from './visible-set.js';
import { admitMessage } from './messages.js';
import { serverBuilder } from './server.js';
import { bad, HttpSessions, SESSION_HEADER } from './sessions.js';
import { upstreamRequestRelay } from './upstream-requests.js';
import { SseSessions } from './sse.js';
import { serveOverStdio } from './stdio.js';
import type { McpObserver, McpUpstreamConfig } from './types.js';
import { configuredSecrets, Redactor } from '../redact.js';
import { Upstream } from './upstream.js';
import type { InProcessUpstream } from './in-process.js';
import type { Principal } from './visibility.js';

export type { McpObserver, McpUpstreamConfig } from './types.js';

export interface McpGatewayOptions {
  pep: Pep;
  principal: Principal;
  upstreams: McpUpstreamConfig[];
  /** `prefixed` (default): `<upstream>__<name>`; `own`: the upstream's own names, with exactly one upstream. */
  naming?: NamingMode;
  /** Upstream tools/call timeout; a timeout is a receipted deny (default 60 s). */
  callTimeoutMs?: number;
  /** Largest JSON-RPC message accepted on any transport (default 4 MiB). */
  maxMessageBytes?: number;
  observer?: McpObserver;
  /** Upstream connect and tools/list timeout (default 10 s). */
  requestTimeoutMs?: number;
  /** First restart delay of a failed upstream, doubling up to 30 s (default 250 ms). */
  restartBackoffMs?: number;
  /** How long a tools/call may reuse the last upstream listing (default 30 s). */
  catalogMaxAgeMs?: number;
  /**
   * Relay every upstream's roots/list to the client whose call is in flight (decided as mcp:roots/list); one upstream: its `roots: true`.
   * Off by default: roots a client names can widen what a server such as server-filesystem may
   * touch, so the gateway does not declare the roots capability to its upstreams unless asked.
   */
  relayRoots?: boolean;
  /** How often to look for a new policy in force (bundle reload) to announce tools/list_changed (default 500 ms). */
  policyPollMs?: number;
  /** Stateful 2025-era Streamable HTTP sessions: idle timeout and SSE retry field (ms). */
  sessionIdleMs?: number;
  sseRetryMs?: number;
  /** Hostnames a browser Origin may name (default: localhost, 127.0.0.1, [::1]). */
  allowedOrigins?: string[];
  /** Decisions the OpenAI proxy already made for a call (links the EFFECT to them). */
  linkedDecision?: LinkedDecision;
  /** Out-of-band problems (bad client messages, upstream stderr); default: stderr. */
  log?: (line: string) => void;
  /** Removes configured secrets (upstream auth) from errors and results the gateway passes on or records. */
  redact?: Redactor;
  /** Tool providers inside the sidecar (the WASI sandbox): listed and called beside the upstreams. */
  inProcess?: InProcessUpstream[];
}

export interface McpGateway {
  /** Streamable HTTP at /mcp (both eras), legacy HTTP+SSE (GET /sse + POST /messages), REST: GET /mcp/v1/capabilities, POST /mcp/v1/execute. Returns false when the path is not ours. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Serve one MCP client over stdio (helmctl mcp --stdio). */
  serveStdio(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<void>;
  /** Stop taking calls and wait for the ones in flight. */
  drain(): Promise<void>;
  close(): Promise<void>;
  /** The upstreams and their state (for readiness and diagnostics). */
  readonly upstreams: readonly Upstream[];
  /** Settles when every upstream's first connection attempt has (the gateway serves before that). */
  started(): Promise<void>;
  /** Per upstream: ready or not, and why (the sidecar's readiness reports it). */
  readiness(): Array<{ name: string; state: string; ready: boolean; restarts: number; error?: string }>;
}

const DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024;

function checkConfig(upstreams: McpUpstreamConfig[], naming: NamingMode): void {
  if (naming !== 'prefixed' && naming !== 'own') throw new GatewayError('ERR_MCP_CONFIG', `naming must be "prefixed" or "own", not ${JSON.stringify(naming)}`);
  if (naming === 'own' && upstreams.length !== 1) {
    throw new GatewayError('ERR_MCP_CONFIG', `naming "own" keeps upstream names and needs exactly one upstream; with ${upstreams.length} (${upstreams.map((u) => u.name).join(', ')}) two could publish the same name. Use naming "prefixed" (<upstream>__<name>)`);
  }
  const seen = new Set<string>();
  for (const u of upstreams) {
    if (!UPSTREAM_NAME.test(u.name)) throw new GatewayError('ERR_MCP_CONFIG', `upstream name ${JSON.stringify(u.name)} must match ${UPSTREAM_NAME} (letters, digits, '-', single '_')`);
    if (seen.has(u.name)) throw new GatewayError('ERR_MCP_CONFIG', `duplicate upstream name ${u.name}`);
    seen.add(u.name);
    if (u.transport === 'http') {
      let url: URL;
      try {
        url = new URL(u.url);
      } catch {
        throw new GatewayError('ERR_MCP_CONFIG', `upstream ${u.name}: ${JSON.stringify(u.url)} is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new GatewayError('ERR_MCP_CONFIG', `upstream ${u.name}: URL scheme must be http or https`);
    } else if (u.transport === 'stdio') {
      if (typeof u.command !== 'string' || u.command === '') throw new GatewayError('ERR_MCP_CONFIG', `upstream ${u.name}: command is required`);
    } else {
      throw new GatewayError('ERR_MCP_CONFIG', `upstream ${(u as { name: string }).name}: transport must be stdio or http`);
    }
  }
}

export async function createMcpGateway(o: McpGatewayOptions): Promise<McpGateway> {
  const naming = o.naming ?? 'prefixed';
  checkConfig(o.upstreams, naming);
  const maxMessageBytes = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE;
  const redact = o.redact ?? new Redactor(configuredSecrets({ mcpUpstreams: o.upstreams }));
  const plain = o.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const log = (line: string) => plain(redact.text(line));
  let catalog: Catalog | null = null;
  let coreRef: GatewayCore | null = null;
  const hub = new Hub((v) => redact.deep(v));
  const onRequest = upstreamRequestRelay(() => coreRef!);
  const upstreams = o.upstreams.map(
    (cfg) =>
      new Upstream(cfg, {
        observer: o.observer,
        requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
        backoffMs: o.restartBackoffMs ?? 250,
        onToolsChanged: () => catalog?.invalidate(),
        onNotification: (u, n) => hub.relay(u, n),
        onRequest,
        relayRoots: o.relayRoots ?? false,
      }),
  );
  catalog = new Catalog(upstreams, namingFor(naming, o.upstreams.map((u) => u.name)), o.catalogMaxAgeMs ?? 30_000);
  const core: GatewayCore = {
    pep: o.pep,
    principal: o.principal,
    catalog,
    hub,
    observer: o.observer,
    callTimeoutMs: o.callTimeoutMs ?? 60_000,
    linked: o.linkedDecision ?? null,
    redact,
    inflight: new Set(),
    draining: false,
    inProcess: o.inProcess ?? [],
  };
  coreRef = core;
  const drifts = new DriftLedger(core);
  const visible = new VisibleSet(core, () => governedList(core, drifts));
  visible.watch(o.policyPollMs ?? 500);
  const builder = serverBuilder(core, drifts, (l) => visible.observe(l));
  const connection = () => builder.connection();
  const onerror = (e: Error) => log(`helm mcp gateway: ${e.message}`);
  const handler = createMcpHandler(builder.perRequest, { maxRequestBodySize: maxMessageBytes, onerror });
  hub.modern = handler.notify;
  const streamable = toNodeHandler(handler, { maxRequestBodySize: maxMessageBytes, onerror });
  const sessions = new HttpSessions(connection, { onerror, ...(o.sessionIdleMs ? { idleMs: o.sessionIdleMs } : {}), ...(o.sseRetryMs ? { retryMs: o.sseRetryMs } : {}) });
  const sse = new SseSessions(connection, maxMessageBytes, '/messages', onerror);
  const origins = originValidation(o.allowedOrigins ?? ['localhost', '127.0.0.1', '[::1]']);
  const stdioSessions = new Set<Promise<void>>();
  let closed = false;

  // Upstreams connect in parallel and in the background: the gateway serves at once, an upstream
  // that is still starting is waited for by the first list that needs it, and readiness reports
  // each one.
  const started = Promise.all(upstreams.map((u) => u.start())).then(() => undefined);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const ours = path === '/mcp' || path === '/sse' || path === '/messages' || path === '/mcp/v1/capabilities' || path === '/mcp/v1/execute';
    if (!ours) return false;
    if (!origins(req, res)) return true;
    if (closed || core.draining) {
      sendJson(res, 503, rpcError(-32000, 'the MCP gateway is shutting down'), { connection: 'close' });
      return true;
    }
    if (path === '/mcp') {
      const sid = req.headers[SESSION_HEADER];
      const sessionId = typeof sid === 'string' && sid !== '' ? sid : null;
      // A JSON-RPC POST is read and screened strictly (./screen.ts) before the SDK parses anything.
      if (method === 'POST' && isJsonContentType(req)) {
        const message = await readScreened(req, res, maxMessageBytes);
        if (message === undefined || !admitMessage(message, res, sessionId !== null)) return true;
        if (sessionId !== null) await sessions.handle(sessionId, req, res, message);
        else if (isInitialize(message)) await sessions.open(req, res, message);
        else await streamable(req, res, message);
      } else if (sessionId !== null && (method === 'GET' || method === 'DELETE')) {
        await sessions.handle(sessionId, req, res);
      } else if (method === 'GET' || method === 'DELETE') {
        bad(res, 400, null, -32000, 'MCP_SESSION_UNKNOWN', `${method} /mcp needs the ${SESSION_HEADER} header of an open session (the 2026-07-28 era has no sessions)`);
      } else await streamable(req, res);
    } else if (path === '/sse' && method === 'GET') {
      await sse.open(res);
    } else if (path === '/messages' && method === 'POST') {
      await sse.post(req, res, url.searchParams.get('sessionId'));
    } else if (path === '/mcp/v1/capabilities' && method === 'GET') {
      await capabilities(core, drifts, upstreams, res);
    } else if (path === '/mcp/v1/execute' && method === 'POST') {
      await execute(core, maxMessageBytes, req, res);
    } else {
      sendJson(res, 405, rpcError(-32000, `${method} is not allowed on ${path}`), { allow: path === '/sse' || path === '/mcp/v1/capabilities' ? 'GET' : 'POST' });
    }
    return true;
  }

  /** A 2025-era initialize (no per-request envelope): it opens a session. */
  function isInitialize(m: unknown): boolean {
    return typeof m === 'object' && m !== null && !Array.isArray(m) && (m as { method?: unknown }).method === 'initialize';
  }

  async function drain(): Promise<void> {
    core.draining = true;
    while (core.inflight.size > 0) await Promise.allSettled([...core.inflight]);
  }

  return {
    upstreams,
    handle,
    serveStdio(input, output) {
      if (closed) return Promise.reject(new GatewayError('ERR_MCP_CLOSED', 'the MCP gateway is closed'));
      const p = serveOverStdio(connection, input, output, maxMessageBytes, onerror);
      stdioSessions.add(p);
      return p.finally(() => stdioSessions.delete(p));
    },
    drain,
    started: () => started,
    readiness: () =>
      upstreams.map((u) => ({ name: u.name, state: u.state, ready: u.state === 'ready', restarts: u.restarts, ...(u.lastError ? { error: redact.text(u.lastError) } : {}) })),
    async close() {
      if (closed) return;
      await drain();
      closed = true;
      visible.close();
      await sessions.close();
      await sse.close();
      await handler.close();
      await Promise.allSettled([...upstreams.map((u) => u.close()), ...(o.inProcess ?? []).map((u) => u.close())]);
    },
  };
}
