// Line-oriented pack files: entries.jsonl (one entry per line) and hash lists (one base64 SHA-256
// per line). Every line, the last included, ends in "\n". Portable.
import { fromBase64, fromUtf8 } from '../crypto/bytes.js';

export class LineFormatError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/**
 * Splits entries.jsonl into line views. A missing final newline is reported, and the partial line
 * kept. More than `max` lines is `tooMany` (and no views are kept): a file of newlines must not
 * become millions of objects.
 */
export function splitLines(data: Uint8Array, max = Number.MAX_SAFE_INTEGER): { lines: Uint8Array[]; unterminated: boolean; tooMany: boolean } {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    if (nl < 0) break;
    if (lines.length >= max) return { lines: [], unterminated: false, tooMany: true };
    lines.push(data.subarray(start, nl));
    start = nl + 1;
  }
  const unterminated = start < data.length;
  if (unterminated) {
    if (lines.length >= max) return { lines: [], unterminated: false, tooMany: true };
    lines.push(data.subarray(start));
  }
  return { lines, unterminated, tooMany: false };
}

export function parseHashLines(data: Uint8Array, max: number): Uint8Array[] {
  let text: string;
  try {
    text = fromUtf8(data);
  } catch {
    throw new LineFormatError('not UTF-8');
  }
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new LineFormatError('the last line does not end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length > max) throw new LineFormatError(`${lines.length} hashes; at most ${max} are possible here`);
  return lines.map((l, i) => {
    let h: Uint8Array;
    try {
      h = fromBase64(l);
    } catch (e) {
      throw new LineFormatError(`line ${i + 1}: ${(e as Error).message}`, i + 1);
    }
    if (h.length !== 32) throw new LineFormatError(`line ${i + 1} is ${h.length} bytes, not a SHA-256 hash`, i + 1);
    return h;
  });
}
