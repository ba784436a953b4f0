// Sampling, elicitation and roots for a 2026-07-28 client. That revision has no server-to-client
// requests: a tools/call that needs the client's input answers `resultType: "input_required"` with
// the embedded requests (`inputRequests`) and an opaque `requestState`; the client (the 2.x SDK's
// multi-round-trip driver) fulfils them and retries the same call with `inputResponses` and the
// state. The upstream behind the gateway is still mid-call, waiting for its own request to be
// answered, so the gateway keeps the call running and suspended here: an upstream request (already
// decided and attributed by ./upstream-requests.ts, exactly like the 2025 path) becomes an embedded
// input request, and the retry's response answers it. The state is a random handle, valid for one
// retry of the same tool with the same arguments; it selects a continuation and is never an
// authorisation (the call was decided when it began). An unknown, used or mismatched handle is a
// receipted DENY MCP_INPUT_STATE_UNKNOWN.
import { randomBytes } from 'node:crypto';
import {
  CLIENT_CAPABILITIES_META_KEY,
  inputRequired,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  specTypeSchemas,
  type InputRequiredResult,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { CallOutcome } from './call.js';
import type { ClientLink, Downstream } from './hub.js';

const envelope = (ctx: ServerContext) => (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;

/** A request of the 2026-07-28 era (only that era has the per-request envelope): no server-to-client requests. */
export function isModernRequest(ctx: ServerContext): boolean {
  return typeof envelope(ctx)[PROTOCOL_VERSION_META_KEY] === 'string';
}

/** What each embedded request needs the client to have declared, and the result it must answer. */
const KINDS: Record<string, { capability: string; result: 'CreateMessageResult' | 'ElicitResult' | 'ListRootsResult' }> = {
  'sampling/createMessage': { capability: 'sampling', result: 'CreateMessageResult' },
  'elicitation/create': { capability: 'elicitation', result: 'ElicitResult' },
  'roots/list': { capability: 'roots', result: 'ListRootsResult' },
};

interface PendingInput {
  readonly method: string;
  readonly params: Record<string, unknown>;
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
}

/** One tools/call of a 2026-07-28 client, running upstream across the client's retries. */
class Suspended {
  readonly inputs = new Map<string, PendingInput>();
  readonly abort = new AbortController();
  outcome!: Promise<CallOutcome>;
  settled = false;
  current: ServerContext;
  private seq = 0;
  private wake: (() => void) | null = null;
  expiry: NodeJS.Timeout | null = null;

  constructor(
    readonly tool: string,
    readonly argsText: string,
    ctx: ServerContext,
    private readonly capabilities: Record<string, unknown>,
  ) {
    this.current = ctx;
  }

  link(downstream: Downstream | null): ClientLink {
    return {
      downstream,
      notify: (n) => this.current.mcpReq.notify(n as never),
      request: (method, params, signal) => this.ask(method, params, signal),
    };
  }

  /** An upstream request the gateway decided to relay: it waits for the client's next retry. */
  private ask(method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>> {
    const kind = KINDS[method];
    if (!kind) return Promise.reject(new ProtocolError(ProtocolErrorCode.MethodNotFound, `${method} cannot be relayed to a 2026-07-28 client`));
    if (this.capabilities[kind.capability] === undefined) {
      return Promise.reject(new ProtocolError(ProtocolErrorCode.InvalidRequest, `the client did not declare the ${kind.capability} capability, so ${method} cannot be relayed to it`));
    }
    const key = `${method.split('/')[0]}-${++this.seq}`;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.inputs.delete(key);
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const done = () => signal.removeEventListener('abort', onAbort);
      this.inputs.set(key, {
        method,
        params,
        resolve: (v) => (done(), resolve(v)),
        reject: (e) => (done(), reject(e)),
      });
      this.wake?.();
    });
  }

  /** Answers the embedded requests the client responded to; the others stay pending (asked again). */
  answer(responses: Record<string, unknown> | undefined): void {
    for (const [key, p] of [...this.inputs]) {
      if (!responses || !Object.hasOwn(responses, key)) continue;
      this.inputs.delete(key);
      const kind = KINDS[p.method]!;
      const checked = specTypeSchemas[kind.result]['~standard'].validate(responses[key]);
      if ('issues' in checked && checked.issues) p.reject(new ProtocolError(ProtocolErrorCode.InvalidParams, `the client's answer to ${p.method} (${key}) is not a ${kind.result}`));
      else p.resolve(responses[key] as Record<string, unknown>);
    }
  }

  /** Until the call ends or needs the client's input. */
  next(): Promise<void> {
    if (this.settled || this.inputs.size > 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
      const wake = () => this.wake?.();
      this.outcome.then(wake, wake);
    });
  }
}

export type Round = { readonly done: CallOutcome } | { readonly inputRequired: InputRequiredResult };

/** The suspended calls of every 2026-07-28 client of the gateway, by the handle their client holds. */
export class InputRounds {
  private readonly byHandle = new Map<string, Suspended>();

  /** @param retryWithinMs how long a client has to retry before its call is abandoned (aborted). */
  constructor(private readonly retryWithinMs: number) {}

  /**
   * One round of a 2026-07-28 tools/call: starts it (no requestState) or resumes it, and answers
   * when it ends or needs the client's input. `refuse` turns an unusable state into the receipted
   * refusal of this request.
   */
  async round(
    ctx: ServerContext,
    tool: string,
    argsText: string,
    downstream: Downstream | null,
    start: (client: ClientLink, signal: AbortSignal) => Promise<CallOutcome>,
    refuse: (detail: string) => Promise<CallOutcome>,
  ): Promise<Round> {
    const state = ctx.mcpReq.requestState();
    let s: Suspended;
    if (state !== undefined) {
      const found = typeof state === 'string' ? this.byHandle.get(state) : undefined;
      if (!found) return { done: await refuse('requestState names no suspended call of this gateway (unknown, already used, or expired); send the call again without requestState') };
      if (found.tool !== tool || found.argsText !== argsText) return { done: await refuse(`requestState belongs to a call of ${found.tool} with other arguments; a retry repeats the call it continues`) };
      this.byHandle.delete(state as string);
      if (found.expiry) clearTimeout(found.expiry);
      found.current = ctx;
      found.answer(ctx.mcpReq.inputResponses);
      s = found;
    } else {
      const caps = envelope(ctx)[CLIENT_CAPABILITIES_META_KEY];
      s = new Suspended(tool, argsText, ctx, typeof caps === 'object' && caps !== null ? (caps as Record<string, unknown>) : {});
      s.outcome = start(s.link(downstream), s.abort.signal);
      const settle = () => void (s.settled = true);
      s.outcome.then(settle, settle);
    }
    // A client that gives up on this round (closes the request, cancels it) gives up on the call.
    const cancel = () => s.abort.abort(ctx.mcpReq.signal.reason);
    ctx.mcpReq.signal.addEventListener('abort', cancel, { once: true });
    try {
      await s.next();
    } finally {
      ctx.mcpReq.signal.removeEventListener('abort', cancel);
    }
    if (s.settled || s.inputs.size === 0) return { done: await s.outcome };
    const handle = randomBytes(24).toString('base64url');
    this.byHandle.set(handle, s);
    s.expiry = setTimeout(() => {
      if (this.byHandle.get(handle) !== s) return;
      this.byHandle.delete(handle);
      s.abort.abort(new Error(`the client did not retry within ${this.retryWithinMs} ms`));
    }, this.retryWithinMs);
    s.expiry.unref();
    const inputRequests = Object.fromEntries([...s.inputs].map(([k, p]) => [k, { method: p.method, params: p.params }]));
    return { inputRequired: inputRequired({ inputRequests: inputRequests as never, requestState: handle }) };
  }
}
