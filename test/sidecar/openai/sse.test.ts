// The SSE parser: line endings of every kind, fields split across chunks, comments, multi-line
// data, and bytes that are not UTF-8.
import { SseParser } from '../../../sidecar/openai/sse.js';

const bytes = (s: string) => new TextEncoder().encode(s);

function parseAll(parts: Array<string | Uint8Array>): Array<{ event: string | null; data: string }> {
  const p = new SseParser();
  const out = parts.flatMap((x) => p.push(typeof x === 'string' ? bytes(x) : x));
  return [...out, ...p.end()];
}

describe('SseParser', () => {
  it('parses LF, CRLF and CR line endings alike', () => {
    for (const nl of ['\n', '\r\n', '\r']) {
      expect(parseAll([`data: a${nl}${nl}data: b${nl}${nl}`])).toEqual([
        { event: null, data: 'a' },
        { event: null, data: 'b' },
      ]);
    }
  });

  it('reassembles events split at any byte, including inside CRLF and a UTF-8 sequence', () => {
    const text = bytes('event: chunk\r\ndata: {"x":"h\u00e9llo \u{1f600}"}\r\n\r\n: comment\r\ndata: [DONE]\r\n\r\n');
    const whole = parseAll([text]);
    expect(whole).toEqual([
      { event: 'chunk', data: '{"x":"h\u00e9llo \u{1f600}"}' },
      { event: null, data: '[DONE]' },
    ]);
    for (let cut = 1; cut < text.length; cut++) expect(parseAll([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
  });

  it('gives the same events for mixed line endings however the stream is cut (the incremental search keeps its place)', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    const ends = ['\n', '\r\n', '\r'];
    let text = '';
    for (let i = 0; i < 300; i++) {
      const end = ends[rnd(3)]!; // one kind per event: a CR line end then an LF blank line would be one CRLF
      const nl = () => end;
      text += `${rnd(4) === 0 ? `event: e${i}${nl()}` : ''}data: ${'x'.repeat(rnd(40))}${i}${nl()}${rnd(3) === 0 ? `data: more${nl()}` : ''}${nl()}`;
    }
    const all = bytes(text);
    const whole = parseAll([all]);
    expect(whole).toHaveLength(300);
    for (let round = 0; round < 20; round++) {
      const parts: Uint8Array[] = [];
      for (let at = 0; at < all.length; ) {
        const n = 1 + rnd(round < 10 ? 8 : 600);
        parts.push(all.slice(at, at + n));
        at += n;
      }
      expect(parseAll(parts)).toEqual(whole);
    }
  });

  it('joins multi-line data with LF, strips one leading space, drops comments and unknown fields', () => {
    expect(parseAll(['data:one\ndata:  two\nid: 7\nretry: 10\n: note\n\n'])).toEqual([{ event: null, data: 'one\n two' }]);
  });

  it('drops an event without data and an unterminated last event', () => {
    expect(parseAll(['event: ping\n\ndata: partial'])).toEqual([]);
  });

  it('throws on bytes that are not UTF-8', () => {
    const p = new SseParser();
    expect(() => p.push(new Uint8Array([0x64, 0x61, 0x74, 0x61, 0x3a, 0xff, 0x0a, 0x0a]))).toThrow(/not valid/);
  });
});
