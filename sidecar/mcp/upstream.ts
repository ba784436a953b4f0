// One upstream MCP server behind the gateway, reached with the official client SDK (v2, which
// speaks both protocol eras). A stdio server that exits is restarted with exponential backoff; an
// HTTP server that stops answering is reported and reconnected on the same backoff. While an
// upstream is not ready its tools are absent from every list and its calls fail closed.
import { Client, StreamableHTTPClientTransport, type CallToolResult, type ServerCapabilities, type Tool } from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { Readable } from 'node:stream';
import { GatewayError } from './errors.js';
import type { McpObserver, McpUpstreamConfig } from './types.js';

export type UpstreamState = 'starting' | 'ready' | 'down' | 'closed';

export interface UpstreamOptions {
  observer?: McpObserver | undefined;
  /** Timeout of connect and tools/list requests. */
  requestTimeoutMs: number;
  onToolsChanged(): void;
  /** Notifications the upstream sends (log messages, resource updates, list changes): relayed to clients. */
  onNotification?(upstream: string, n: { method: string; params?: Record<string, unknown> }): void;
  /** Requests the upstream sends to the client (sampling, elicitation, roots): decided, then relayed. */
  /** Declare roots to upstreams and relay their roots/list (off by default: a client's roots can widen a server's scope). */
  relayRoots?: boolean;
  onRequest?(upstream: string, method: UpstreamRequestMethod, params: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>>;
  /** First restart delay; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

const STDERR_TAIL = 2048;

/** Server-to-client requests the gateway relays from an upstream to the client that caused them. */
export const UPSTREAM_REQUESTS = ['sampling/createMessage', 'elicitation/create', 'roots/list'] as const;
export type UpstreamRequestMethod = (typeof UPSTREAM_REQUESTS)[number];

/** Upstream notifications relayed to clients (tools/list_changed also refreshes the catalog). */
const RELAYED_NOTIFICATIONS = ['notifications/message', 'notifications/resources/updated', 'notifications/resources/list_changed', 'notifications/prompts/list_changed', 'notifications/tools/list_changed'] as const;

export class Upstream {
  state: UpstreamState = 'starting';
  lastError: string | null = null;
  private connections = 0;
  private client: Client | null = null;
  private connecting: Promise<void> | null = null;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private stderrTail = '';
  private pid: number | null = null;

  constructor(
    readonly config: McpUpstreamConfig,
    private readonly o: UpstreamOptions,
  ) {}

  /** Whether the gateway declares roots to this upstream and relays its roots/list (gateway option or the upstream's `roots`). */
  get relaysRoots(): boolean {
    return this.o.relayRoots === true || this.config.roots === true;
  }

  /** Tells the upstream that the client's roots changed (it may ask again). */
  rootsChanged(): void {
    if (this.relaysRoots && this.state === 'ready') void this.client?.sendRootsListChanged().catch(() => undefined);
  }

  /** Connections made after the first (restarts and reconnects). */
  get restarts(): number {
    return Math.max(0, this.connections - 1);
  }

  get name(): string {
    return this.config.name;
  }

  /** The child process of a stdio upstream (tests kill it to check the restart). */
  get processId(): number | null {
    return this.pid;
  }

  /** Connects once; resolves when ready or when the attempt failed (a retry is then scheduled). */
  start(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    if (this.state === 'ready') return Promise.resolve();
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private transport() {
    const c = this.config;
    if (c.transport === 'http') return new StreamableHTTPClientTransport(new URL(c.url), c.headers ? { requestInit: { headers: c.headers } } : {});
    // Only the SDK's safe default variables plus the configured ones: the sidecar's own secrets
    // (a provider API key) never reach an upstream server.
    const t = new StdioClientTransport({ command: c.command, args: c.args ?? [], env: { ...getDefaultEnvironment(), ...(c.env ?? {}) }, stderr: 'pipe', ...(c.cwd ? { cwd: c.cwd } : {}) });
    (t.stderr as Readable | null)?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-STDERR_TAIL);
    });
    return t;
  }

  private async connect(): Promise<void> {
    const t0 = performance.now();
    const mode = this.config.protocol ?? 'auto';
    const client = new Client(
      { name: 'helm-mcp-gateway', version: '0.1.0' },
      {
        versionNegotiation: { mode: mode === 'auto' || mode === 'legacy' ? mode : { pin: mode } },
        // What the gateway can relay to its clients; each request is decided before it is relayed.
        capabilities: this.o.onRequest ? { sampling: {}, elicitation: {}, ...(this.relaysRoots ? { roots: { listChanged: true } } : {}) } : {},
      },
    );
    for (const method of RELAYED_NOTIFICATIONS) {
      client.setNotificationHandler(method, (n: { method: string; params?: Record<string, unknown> }) => {
        if (method === 'notifications/tools/list_changed') this.o.onToolsChanged();
        this.o.onNotification?.(this.name, { method: n.method, ...(n.params ? { params: n.params } : {}) });
      });
    }
    if (this.o.onRequest) {
      const relay = this.o.onRequest;
      for (const method of UPSTREAM_REQUESTS.filter((m) => m !== 'roots/list' || this.relaysRoots)) {
        client.setRequestHandler(method, (req: { params?: Record<string, unknown> }, ctx: { mcpReq: { signal: AbortSignal } }) => relay(this.name, method, req.params ?? {}, ctx.mcpReq.signal) as never);
      }
    }
    const transport = this.transport();
    try {
      await client.connect(transport, { timeout: this.o.requestTimeoutMs });
    } catch (e) {
      await client.close().catch(() => undefined);
      this.failed(`connect failed: ${message(e)}`, t0);
      return;
    }
    if (this.state === 'closed') {
      await client.close().catch(() => undefined);
      return;
    }
    this.connections += 1;
    this.client = client;
    this.pid = transport instanceof StdioClientTransport ? transport.pid : null;
    this.state = 'ready';
    this.lastError = null;
    this.attempt = 0;
    this.o.observer?.upstream({ upstream: this.name, seconds: (performance.now() - t0) / 1000, error: null });
    client.onclose = () => {
      if (this.client !== client || this.state === 'closed') return;
      this.failed(`connection closed${this.stderrTail ? `; stderr: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`, performance.now());
    };
    this.o.onToolsChanged();
  }

  private failed(error: string, t0: number): void {
    if (this.state === 'closed') return;
    this.state = 'down';
    this.lastError = error;
    this.o.observer?.upstream({ upstream: this.name, seconds: (performance.now() - t0) / 1000, error });
    this.o.onToolsChanged();
    if (this.timer) return;
    const base = this.o.backoffMs ?? 250;
    const delay = Math.min(this.o.maxBackoffMs ?? 30_000, base * 2 ** this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.start();
    }, delay);
    this.timer.unref();
  }

  private ready(): Client {
    if (this.state !== 'ready' || this.client === null) {
      throw new GatewayError('ERR_MCP_UPSTREAM_UNAVAILABLE', `upstream ${this.name} is ${this.state}${this.lastError ? `: ${this.lastError}` : ''}`);
    }
    return this.client;
  }

  async listTools(): Promise<Tool[]> {
    const client = this.ready();
    const t0 = performance.now();
    try {
      const r = await client.listTools(undefined, { cacheMode: 'refresh', timeout: this.o.requestTimeoutMs });
      this.o.observer?.upstream({ upstream: this.name, seconds: (performance.now() - t0) / 1000, error: null });
      return r.tools;
    } catch (e) {
      this.transportFailure(client, e, t0);
      throw new GatewayError('ERR_MCP_UPSTREAM_ERROR', `tools/list on upstream ${this.name} failed: ${message(e)}`);
    }
  }

  /** What the upstream offers (resources, prompts, completions, logging), once connected. */
  get capabilities(): ServerCapabilities | undefined {
    return this.state === 'ready' ? (this.client?.getServerCapabilities() ?? undefined) : undefined;
  }

  /**
   * Any other request on the ready connection (resources, prompts, completion, log level), with
   * the request timeout; a transport failure marks the upstream down like a failed call.
   */
  async request<T>(what: string, fn: (client: Client, timeout: number) => Promise<T>): Promise<T> {
    const client = this.ready();
    const t0 = performance.now();
    try {
      const r = await fn(client, this.o.requestTimeoutMs);
      this.o.observer?.upstream({ upstream: this.name, seconds: (performance.now() - t0) / 1000, error: null });
      return r;
    } catch (e) {
      this.o.observer?.upstream({ upstream: this.name, seconds: (performance.now() - t0) / 1000, error: message(e) });
      this.transportFailure(client, e, t0);
      throw e;
    }
  }

  /** Calls the upstream tool by its own (un-namespaced) name. Throws GatewayError on timeout or failure. */
  async callTool(tool: string, args: Record<string, unknown>, o: { timeoutMs: number; signal?: AbortSignal; definition?: Tool; onprogress?: (p: { progress: number; total?: number; message?: string }) => void }): Promise<CallToolResult> {
    const client = this.ready();
    const t0 = performance.now();
    try {
      const r = (await client.callTool(
        { name: tool, arguments: args },
        {
          timeout: o.timeoutMs,
          ...(o.signal ? { signal: o.signal } : {}),
          ...(o.definition ? { toolDefinition: o.definition } : {}),
          ...(o.onprogress ? { onprogress: o.onprogress, resetTimeoutOnProgress: false } : {}),
        },
      )) as CallToolResult;
      this.o.observer?.upstream({ upstream: this.name, seconds: (performance.now() - t0) / 1000, error: null });
      return r;
    } catch (e) {
      if (o.signal?.aborted) {
        // The client cancelled: the SDK told the upstream (notifications/cancelled, or the aborted
        // request of a 2026-07-28 upstream). Not a transport failure: the shared connection stays.
        this.o.observer?.upstream({ upstream: this.name, seconds: (performance.now() - t0) / 1000, error: 'cancelled' });
        throw new GatewayError('ERR_MCP_CANCELLED', `the client cancelled ${tool}; upstream ${this.name} was told to stop (${message(o.signal.reason)})`);
      }
      const timedOut = (e as { code?: unknown }).code === 'REQUEST_TIMEOUT' || (e as { code?: unknown }).code === -32001;
      this.o.observer?.upstream({ upstream: this.name, seconds: (performance.now() - t0) / 1000, error: timedOut ? 'timeout' : message(e) });
      if (timedOut) throw new GatewayError('ERR_MCP_UPSTREAM_TIMEOUT', `upstream ${this.name} did not answer ${tool} within ${o.timeoutMs} ms`);
      this.transportFailure(client, e, t0);
      throw new GatewayError('ERR_MCP_UPSTREAM_ERROR', `upstream ${this.name} failed on ${tool}: ${message(e)}`);
    }
  }

  /**
   * A JSON-RPC error answer leaves the connection usable; a failed fetch or closed pipe does not:
   * the upstream is then down until a reconnect succeeds.
   */
  private transportFailure(client: Client, e: unknown, t0: number): void {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return;
    if (this.client !== client) return;
    this.client = null;
    void client.close().catch(() => undefined);
    this.failed(message(e), t0);
  }

  async close(): Promise<void> {
    this.state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    await c?.close().catch(() => undefined);
  }
}

function message(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}
