// An incremental parser for server-sent events (the WHATWG event-stream format): bytes in, events
// out. Lines end in LF, CRLF or CR; an event ends at a blank line; `data:` lines are joined with
// LF; comments and `id:`/`retry:` fields are dropped (the proxy re-emits data only).

export interface SseEvent {
  event: string | null;
  data: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private buf = '';
  /** Leading chars of `buf` known to hold no CR or LF. */
  private searched = 0;
  private data: string[] = [];
  private event: string | null = null;
  private sawField = false;

  /** Throws TypeError on bytes that are not UTF-8. */
  push(chunk: Uint8Array): SseEvent[] {
    this.buf += this.decoder.decode(chunk, { stream: true });
    return this.drain(false);
  }

  /** The events left at the end of the stream (an unterminated last event is dropped, as browsers do). */
  end(): SseEvent[] {
    this.buf += this.decoder.decode();
    return this.drain(true);
  }

  private drain(final: boolean): SseEvent[] {
    const out: SseEvent[] = [];
    let start = 0;
    // The next LF and CR, each searched for again only once passed, and never in the part of the
    // buffer an earlier push already searched: many short lines in a chunk, or one long line over
    // many chunks, must not rescan the buffer for every line or chunk (quadratic).
    let lf = this.buf.indexOf('\n', this.searched);
    let cr = this.buf.indexOf('\r', this.searched);
    for (;;) {
      if (lf !== -1 && lf < start) lf = this.buf.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = this.buf.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        // A CR at the very end may be the first half of a CRLF: wait for more bytes.
        if (cr === this.buf.length - 1 && !final) break;
        end = cr;
        next = this.buf[cr + 1] === '\n' ? cr + 2 : cr + 1;
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else break;
      this.line(this.buf.slice(start, end), out);
      start = next;
    }
    this.buf = this.buf.slice(start);
    // What is left holds no line end, but perhaps a final CR still waiting for its LF.
    this.searched = this.buf.endsWith('\r') ? this.buf.length - 1 : this.buf.length;
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.sawField && this.data.length > 0) out.push({ event: this.event, data: this.data.join('\n') });
      this.data = [];
      this.event = null;
      this.sawField = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.sawField = true;
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}
