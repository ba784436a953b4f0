// What connects upstream messages to the clients of the gateway: the client connections that can
// receive notifications (stateful Streamable HTTP sessions, legacy SSE sessions, stdio), and the
// tools/calls in flight on each upstream. An upstream's server-to-client request (sampling,
// elicitation, roots) or log message carries nothing that names the call it belongs to, so it is
// attributed to the one call in flight on that upstream; with none, or several, it is refused
// (MCP_REQUEST_UNATTRIBUTED) rather than guessed. Notifications are redacted before they leave.
import type { HashRef } from '../../kernel/contracts/node.js';

export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One client connection that can receive notifications outside a request. */
export interface Downstream {
  /** Sends a notification on the connection (its standalone stream). */
  notify(n: { method: string; params?: Record<string, unknown> }): Promise<void>;
  /** logging/setLevel of this client; null: not set (every level is sent). */
  level: LogLevel | null;
  /** Resource URIs this client subscribed to. */
  readonly subscriptions: Set<string>;
}

/** A tools/call in flight on an upstream, with the way back to the client that made it. */
export interface InflightCall {
  readonly upstream: string;
  readonly callId: string;
  readonly decision: HashRef;
  readonly client: ClientLink;
}

/** The request context of the client's tools/call: related notifications and requests go there. */
export interface ClientLink {
  notify(n: { method: string; params?: Record<string, unknown> }): Promise<void>;
  request(method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>>;
  readonly downstream: Downstream | null;
}

export function levelAllows(threshold: LogLevel | null, level: unknown): boolean {
  if (threshold === null) return true;
  const i = LOG_LEVELS.indexOf(level as LogLevel);
  return i === -1 || i >= LOG_LEVELS.indexOf(threshold);
}

/**
 * The level to ask a shared upstream for when `requester` sets `level`: the most verbose level any
 * connected client needs, so one client's setLevel never takes messages from another; a client
 * that set no level needs everything (debug). The hub filters per client (levelAllows).
 */
export function upstreamLogLevel(level: LogLevel, requester: Downstream | null, downstreams: Iterable<Downstream>): LogLevel {
  let i = LOG_LEVELS.indexOf(level);
  for (const d of downstreams) if (d !== requester) i = Math.min(i, d.level === null ? 0 : LOG_LEVELS.indexOf(d.level));
  return LOG_LEVELS[i]!;
}

/** The 2026-07-28 side: list changes and resource updates go to open subscriptions/listen streams. */
export interface ModernNotifier {
  toolsChanged(): void;
  promptsChanged(): void;
  resourcesChanged(): void;
  resourceUpdated(uri: string): void;
}

export class Hub {
  readonly downstreams = new Set<Downstream>();
  modern: ModernNotifier | null = null;
  private readonly calls = new Map<string, Set<InflightCall>>();

  constructor(private readonly redact: <T>(v: T) => T) {}

  /** Registers a call in flight; the returned function ends it. */
  begin(call: InflightCall): () => void {
    let set = this.calls.get(call.upstream);
    if (!set) this.calls.set(call.upstream, (set = new Set()));
    set.add(call);
    return () => {
      set.delete(call);
      if (set.size === 0 && this.calls.get(call.upstream) === set) this.calls.delete(call.upstream);
    };
  }

  /** The one call in flight on this upstream, or null (none, or more than one: ambiguous). */
  causer(upstream: string): InflightCall | null {
    const set = this.calls.get(upstream);
    if (!set || set.size !== 1) return null;
    return set.values().next().value ?? null;
  }

  /** How many tools/calls are in flight on this upstream. */
  inflightOn(upstream: string): number {
    return this.calls.get(upstream)?.size ?? 0;
  }

  /** The gateway's own tools/list_changed (the visible set changed: ./visible-set.ts), to every client that can hear it. */
  toolsChanged(): void {
    for (const d of this.downstreams) void d.notify({ method: 'notifications/tools/list_changed' }).catch(() => undefined);
    this.modern?.toolsChanged();
  }

  /** Relays an upstream notification: to the call it belongs to, or to every client that asked for it. */
  relay(upstream: string, n: { method: string; params?: Record<string, unknown> }): void {
    const out = this.redact(n);
    const send = (d: { notify: Downstream['notify'] }) => void d.notify(out).catch(() => undefined);
    if (n.method === 'notifications/message') {
      const call = this.causer(upstream);
      if (call) {
        if (levelAllows(call.client.downstream?.level ?? null, n.params?.level)) send(call.client);
        return;
      }
      for (const d of this.downstreams) if (levelAllows(d.level, n.params?.level)) send(d);
      return;
    }
    if (n.method === 'notifications/resources/updated') {
      const uri = n.params?.uri;
      if (typeof uri !== 'string') return;
      for (const d of this.downstreams) if (d.subscriptions.has(uri)) send(d);
      this.modern?.resourceUpdated(uri);
      return;
    }
    for (const d of this.downstreams) send(d);
    if (n.method === 'notifications/tools/list_changed') this.modern?.toolsChanged();
    else if (n.method === 'notifications/prompts/list_changed') this.modern?.promptsChanged();
    else if (n.method === 'notifications/resources/list_changed') this.modern?.resourcesChanged();
  }
}
