// Response side of a streamed completion (stream: true). Content deltas go to the agent at once;
// tool-call deltas are held per (choice, tool index) until the call is complete (its choice's
// finish_reason, or the end of the stream), then judged together. The original deltas of an
// allowed call are released (renumbered so kept calls stay contiguous from 0), a refused call's
// deltas never leave the proxy and an explanation delta takes their place; the finish chunk
// follows, so the SDK's finalChatCompletion() reassembles the governed message. The response
// headers wait for the first byte worth sending, so a tool-call-only answer carries its
// X-Helm-* headers; a last chunk with empty choices carries the `helm` summary.
//
// A call whose id, type or name arrives in more than one delta is refused: clients differ in how
// they merge such fragments (replace or concatenate), so the proxy could not know which call the
// agent would reconstruct. A delta for a call already decided breaks the stream.
import type { ServerResponse } from 'node:http';
import { depthWithin } from '../../kernel/json/index.js';
import { MAX_BODY_DEPTH } from './body.js';
import { judgeCalls, type CallsContext, type ProposedCall } from './calls.js';
import { rejectUndeliverable, type DeniedCallMode } from './completion.js';
import { errorBody, ProxyError } from './errors.js';
import { explainAll } from './explain.js';
import type { CallDecision } from './gate.js';
import type { SseEvent } from './sse.js';
import { helmHeaders, summary } from './summary.js';
import { UpstreamFailure } from './upstream.js';

/** Bytes of tool-call deltas held at once before the stream counts as hostile. */
const MAX_HELD_BYTES = 4 * 1024 * 1024;

export interface StreamContext extends CallsContext {
  mode: DeniedCallMode;
  /** Tools removed from the request (reported in the headers and the summary). */
  removed: readonly CallDecision[];
  res: ServerResponse;
  /** Upstream response headers passed on to the agent (request ids, rate-limit figures). */
  passHeaders: Record<string, string>;
  /** Stops reading the upstream (the governed answer is complete or abandoned). */
  abortUpstream: (why: string) => void;
  /** Maps an upstream failure to the error the agent gets (and receipts it). */
  failure: (f: UpstreamFailure, pending: ProposedCall[]) => Promise<ProxyError>;
}

interface HeldCall {
  index: number;
  deltas: Record<string, unknown>[];
  id: unknown;
  type: unknown;
  name: unknown;
  args: string;
  problem: string | null;
}

interface ChoiceState {
  index: number;
  calls: Map<number, HeldCall>;
  decided: Set<number>;
  /** Next index handed to a released call. */
  nextIndex: number;
  contentSent: boolean;
  legacy: { name: unknown; args: string } | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

function malformed(why: string): UpstreamFailure {
  return new UpstreamFailure('malformed', `the upstream stream is malformed: ${why}`);
}

export class StreamGovernor {
  private headersSent = false;
  private preamble: string[] = [];
  private readonly choices = new Map<number, ChoiceState>();
  private base: Record<string, unknown> = {};
  private readonly decisions: CallDecision[] = [];
  private readonly delivered = new Set<CallDecision>();
  private held = 0;
  /** [DONE] was sent or the answer was abandoned: later upstream events are ignored. */
  finished = false;

  constructor(private readonly ctx: StreamContext) {}

  private write(frame: string): void {
    const res = this.ctx.res;
    if (res.destroyed || res.writableEnded) return;
    res.write(frame);
  }

  private flushHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    const res = this.ctx.res;
    if (res.destroyed) return;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      ...this.ctx.passHeaders,
      ...helmHeaders(this.decisions, this.ctx.removed),
    });
    for (const f of this.preamble) res.write(f);
    this.preamble = [];
  }

  /** Sends a frame; frames that carry nothing for the agent wait with the headers. */
  private emit(data: string, meaningful: boolean): void {
    const frame = `data: ${data}\n\n`;
    if (this.headersSent) this.write(frame);
    else if (meaningful) {
      this.flushHeaders();
      this.write(frame);
    } else this.preamble.push(frame);
  }

  private chunk(choices: unknown[], extra: Record<string, unknown> = {}): string {
    return JSON.stringify({ ...this.base, choices, ...extra });
  }

  private state(index: number): ChoiceState {
    let s = this.choices.get(index);
    if (!s) {
      s = { index, calls: new Map(), decided: new Set(), nextIndex: 0, contentSent: false, legacy: null };
      this.choices.set(index, s);
    }
    return s;
  }

  /** One upstream event. Throws UpstreamFailure when the stream cannot be governed. */
  async event(ev: SseEvent): Promise<void> {
    if (this.finished) return;
    if (ev.event === 'error') throw new UpstreamFailure('status', `the upstream streamed an error: ${ev.data.slice(0, 500)}`);
    if (ev.data === '[DONE]') return this.done();
    let obj: unknown;
    try {
      obj = JSON.parse(ev.data);
    } catch {
      throw malformed('an event is not JSON');
    }
    if (!isObject(obj)) throw malformed('an event is not a JSON object');
    if (!depthWithin(obj, MAX_BODY_DEPTH)) throw malformed(`an event nests deeper than ${MAX_BODY_DEPTH} levels`);
    if (obj.error !== undefined && obj.error !== null) throw new UpstreamFailure('status', `the upstream streamed an error: ${JSON.stringify(obj.error).slice(0, 500)}`);
    if (!Array.isArray(obj.choices)) throw malformed('a chunk has no choices array');
    const { choices, usage: _usage, ...top } = obj;
    this.base = 'usage' in obj ? { ...top, usage: null } : top;

    let fast = true;
    let meaningful = false;
    for (const ch of choices) {
      if (!isObject(ch) || !Number.isSafeInteger(ch.index) || (ch.index as number) < 0) throw malformed('a choice has no index');
      const d = isObject(ch.delta) ? ch.delta : {};
      if (present(d.tool_calls) || present(d.function_call)) fast = false;
      if (present(ch.finish_reason)) {
        const s = this.choices.get(ch.index as number);
        if (s && (s.calls.size > s.decided.size || s.legacy)) fast = false;
      }
      if ((typeof d.content === 'string' && d.content.length > 0) || (typeof d.refusal === 'string' && d.refusal.length > 0)) {
        meaningful = true;
        if (typeof d.content === 'string' && d.content.length > 0) this.state(ch.index as number).contentSent = true;
      }
    }
    if (fast) {
      this.emit(/[\r\n]/.test(ev.data) ? JSON.stringify(obj) : ev.data, meaningful);
      return;
    }

    const pass: unknown[] = [];
    const finishing: Array<{ s: ChoiceState; ch: Record<string, unknown> }> = [];
    for (const ch of choices as Record<string, unknown>[]) {
      const s = this.state(ch.index as number);
      const d = isObject(ch.delta) ? ch.delta : {};
      const { tool_calls, function_call, ...rest } = d;
      if (present(tool_calls)) {
        if (!Array.isArray(tool_calls)) throw malformed('delta.tool_calls is not an array');
        for (const tc of tool_calls) this.hold(s, tc);
      }
      if (present(function_call)) this.holdLegacy(s, function_call);
      if (Object.keys(rest).length > 0 || present(ch.logprobs)) pass.push({ ...ch, delta: rest, finish_reason: null });
      if (present(ch.finish_reason)) finishing.push({ s, ch });
    }
    if (pass.length > 0) this.emit(this.chunk(pass, 'usage' in obj ? { usage: obj.usage } : {}), meaningful);
    for (const f of finishing) {
      if (this.finished) return;
      await this.settle(f.s, f.ch);
    }
  }

  private hold(s: ChoiceState, tc: unknown): void {
    if (!isObject(tc) || !Number.isSafeInteger(tc.index) || (tc.index as number) < 0) throw malformed('a tool call delta has no index');
    const index = tc.index as number;
    if (s.decided.has(index)) throw malformed(`tool call ${index} of choice ${s.index} changed after it was decided`);
    let c = s.calls.get(index);
    if (!c) {
      c = { index, deltas: [], id: undefined, type: undefined, name: undefined, args: '', problem: null };
      s.calls.set(index, c);
    }
    const fn = isObject(tc.function) ? tc.function : {};
    if (present(tc.id)) {
      if (present(c.id) && c.id !== tc.id) c.problem = 'the call id changes between deltas';
      c.id = tc.id;
    }
    if (present(tc.type)) {
      if (present(c.type) && c.type !== tc.type) c.problem = 'the call type changes between deltas';
      c.type = tc.type;
    }
    if (present(fn.name)) {
      if (present(c.name)) c.problem = 'the function name is split over several deltas';
      c.name = fn.name;
    }
    if (fn.arguments !== undefined && fn.arguments !== null) {
      if (typeof fn.arguments !== 'string') c.problem = 'an arguments fragment is not a string';
      else c.args += fn.arguments;
    }
    if (present(tc.custom)) c.problem = 'custom tool calls are not governed by this proxy';
    const size = JSON.stringify(tc).length;
    this.held += size;
    if (this.held > MAX_HELD_BYTES) throw malformed(`more than ${MAX_HELD_BYTES} bytes of tool calls are pending`);
    c.deltas.push(tc);
  }

  private holdLegacy(s: ChoiceState, f: unknown): void {
    const fc = isObject(f) ? f : {};
    s.legacy ??= { name: undefined, args: '' };
    if (present(fc.name)) s.legacy.name = fc.name;
    if (typeof fc.arguments === 'string') s.legacy.args += fc.arguments;
  }

  private proposals(s: ChoiceState): { calls: HeldCall[]; proposed: ProposedCall[] } {
    const calls = [...s.calls.values()].filter((c) => !s.decided.has(c.index)).sort((a, b) => a.index - b.index);
    const proposed = calls.map((c): ProposedCall => ({ id: c.id, type: c.type ?? 'function', name: c.name, arguments: c.args, ...(c.problem ? { problem: c.problem } : {}) }));
    if (s.legacy) proposed.push({ id: undefined, type: 'function', name: s.legacy.name, arguments: s.legacy.args, problem: 'a legacy function_call is not governed by this proxy' });
    return { calls, proposed };
  }

  /** Judges the held calls of a choice and releases or replaces them; `finish` is its finishing choice. */
  private async settle(s: ChoiceState, finish: Record<string, unknown> | null): Promise<void> {
    const { calls, proposed } = this.proposals(s);
    for (const c of calls) s.decided.add(c.index);
    s.legacy = null;
    const ds = proposed.length > 0 ? await judgeCalls(this.ctx, proposed) : [];
    this.decisions.push(...ds);
    for (const c of calls) this.held -= c.deltas.reduce((n, d) => n + JSON.stringify(d).length, 0);
    try {
      rejectUndeliverable(ds, this.ctx.mode);
    } catch (e) {
      return this.abandon(e as ProxyError);
    }
    const refused: CallDecision[] = [];
    ds.forEach((d, i) => {
      const c = calls[i];
      if (!c || d.verdict !== 'ALLOW') {
        refused.push(d);
        return;
      }
      this.delivered.add(d);
      const index = s.nextIndex++;
      // One delta with the canonical arguments: what was judged, not the model's fragments.
      const merged: Record<string, unknown> = Object.assign({}, ...c.deltas.map(({ function: _f, ...rest }) => rest));
      const fn = { name: c.name, arguments: d.arguments };
      this.emit(this.chunk([{ index: s.index, delta: { tool_calls: [{ ...merged, index, id: c.id, type: c.type ?? 'function', function: fn }] }, logprobs: null, finish_reason: null }]), true);
    });
    if (refused.length > 0) {
      const text = `${s.contentSent ? '\n\n' : ''}${explainAll(refused)}`;
      s.contentSent = true;
      this.emit(this.chunk([{ index: s.index, delta: { content: text }, logprobs: null, finish_reason: null }]), true);
    }
    if (finish) {
      const reason = finish.finish_reason === 'tool_calls' || finish.finish_reason === 'function_call' ? (s.nextIndex > 0 ? 'tool_calls' : 'stop') : finish.finish_reason;
      this.emit(this.chunk([{ ...finish, delta: {}, finish_reason: reason }]), true);
    }
  }

  private async done(): Promise<void> {
    for (const s of this.choices.values()) {
      if (this.finished) return;
      if (s.calls.size > s.decided.size || s.legacy) await this.settle(s, null);
    }
    if (this.finished) return;
    this.finished = true;
    this.flushHeaders();
    if (this.decisions.length > 0 || this.ctx.removed.length > 0) this.write(`data: ${this.chunk([], { helm: summary(this.decisions, this.ctx.removed, this.delivered) })}\n\n`);
    this.write('data: [DONE]\n\n');
    this.ctx.res.end();
  }

  /** The upstream ended; without [DONE] the stream broke off. */
  async end(): Promise<void> {
    if (!this.finished) await this.fail(new UpstreamFailure('broken', 'the upstream stream ended without [DONE]'));
  }

  /** Refuses (with receipts) every call still held and answers with an error. */
  async fail(f: UpstreamFailure): Promise<void> {
    if (this.finished) return;
    const pending: ProposedCall[] = [];
    for (const s of this.choices.values()) {
      const { calls, proposed } = this.proposals(s);
      for (const c of calls) s.decided.add(c.index);
      pending.push(...proposed);
    }
    const err = await this.ctx.failure(f, pending);
    this.abandon(err);
  }

  /** Ends the answer with `err`: a JSON error before the headers, an SSE error event after them. */
  private abandon(err: ProxyError): void {
    if (this.finished) return;
    this.finished = true;
    this.decisions.push(...err.decisions.filter((d) => !this.decisions.includes(d)));
    const helm = summary(this.decisions, this.ctx.removed, this.delivered);
    const res = this.ctx.res;
    this.ctx.abortUpstream(err.message);
    if (res.destroyed) return;
    if (!this.headersSent) {
      this.headersSent = true;
      const text = JSON.stringify(errorBody(err, helm));
      res.writeHead(err.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...this.ctx.passHeaders, ...helmHeaders(this.decisions, this.ctx.removed) });
      res.end(text);
      return;
    }
    this.write(`data: ${JSON.stringify(errorBody(err, helm))}\n\n`);
    res.end();
  }
}
