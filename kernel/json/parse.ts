// A strict JSON parser for text the kernel is asked to judge. It is iterative (an explicit stack,
// no recursion), so no input can overflow the call stack, and it enforces size and depth limits
// while it reads, so every recursive walker that runs after it (ajv, JCS, CEL) sees bounded input.
// It refuses what JSON.parse silently accepts and two parsers could read differently: duplicate
// keys (first wins in one executor, last in another), lone surrogates (escaped or raw), numbers
// outside I-JSON (RFC 7493: integers beyond ±(2^53−1), overflow to infinity, underflow to zero).
// Pure: no I/O, no clock.

export type JsonErrorCode = 'syntax' | 'duplicate_key' | 'invalid_unicode' | 'number_range' | 'too_deep' | 'too_large';

export interface JsonInputError {
  readonly code: JsonErrorCode;
  /** What is wrong and how to fix it. */
  readonly message: string;
  /** JSON Pointer (RFC 6901) of the value being read, "" for the root; at most 256 characters. */
  readonly path: string;
  /** Offset in the text (UTF-16 units; bytes for invalid UTF-8 and too_large). */
  readonly offset: number;
}

export interface JsonLimits {
  /** Deepest nesting of objects and arrays (the root container is depth 1). */
  readonly maxDepth: number;
  /** Longest text: UTF-8 bytes for byte input, UTF-16 units for string input. */
  readonly maxLength: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 64, maxLength: 1024 * 1024 };

export type StrictJson = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: JsonInputError };

const MAX_PATH = 256;
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

type Frame = { readonly obj: Record<string, unknown>; readonly keys: Set<string>; key: string } | { readonly arr: unknown[] };

class Refusal {
  constructor(readonly error: JsonInputError) {}
}

function pointer(stack: readonly Frame[]): string {
  let p = '';
  const seg = (s: string) => `/${s.toWellFormed().replace(/~/g, '~0').replace(/\//g, '~1')}`;
  for (const f of stack) {
    p += 'arr' in f ? `/${f.arr.length}` : seg(f.key);
    if (p.length > MAX_PATH) return `${p.slice(0, MAX_PATH - 1)}…`;
  }
  return p;
}

/** Parses JSON text (a string, or UTF-8 bytes) under `limits`. Never throws. */
export function parseStrictJson(input: string | Uint8Array, limits: Partial<JsonLimits> = {}): StrictJson {
  const lim = { ...DEFAULT_JSON_LIMITS, ...limits };
  if (input.length > lim.maxLength) {
    return refuse('too_large', `the text has ${input.length} ${typeof input === 'string' ? 'characters' : 'bytes'}; the limit is ${lim.maxLength}`, '', lim.maxLength);
  }
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = decoder.decode(input);
    } catch {
      return refuse('invalid_unicode', 'the text is not valid UTF-8 (send UTF-8 without lone surrogates)', '', 0);
    }
    if (text.charCodeAt(0) === 0xfeff) return refuse('syntax', 'the text starts with a byte order mark; send JSON without one', '', 0);
  }
  try {
    return { ok: true, value: new Reader(text, lim.maxDepth).read() };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, error: e.error };
    throw e;
  }
}

function refuse(code: JsonErrorCode, message: string, path: string, offset: number): StrictJson {
  return { ok: false, error: { code, message, path, offset } };
}

class Reader {
  private i = 0;
  private readonly stack: Frame[] = [];

  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
  ) {}

  private fail(code: JsonErrorCode, message: string): never {
    throw new Refusal({ code, message, path: pointer(this.stack), offset: this.i });
  }

  private ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  private expected(what: string): never {
    const at = this.i >= this.s.length ? 'the end of the text' : `${JSON.stringify(this.s[this.i])} at offset ${this.i}`;
    this.fail('syntax', `expected ${what}, found ${at}`);
  }

  private open(): void {
    if (this.stack.length >= this.maxDepth) this.fail('too_deep', `nesting deeper than ${this.maxDepth} levels; flatten the value`);
  }

  /** Reads `"key" :` of the object on top of the stack. */
  private member(f: Extract<Frame, { obj: unknown }>): void {
    this.ws();
    if (this.s.charCodeAt(this.i) !== 0x22) this.expected('a string key');
    const key = this.string();
    f.key = key;
    if (f.keys.has(key)) this.fail('duplicate_key', `the key ${JSON.stringify(key.toWellFormed())} appears more than once in the same object; send each key once`);
    f.keys.add(key);
    this.ws();
    if (this.s.charCodeAt(this.i) !== 0x3a) this.expected('":"');
    this.i++;
  }

  read(): unknown {
    const s = this.s;
    const stack = this.stack;
    let value: unknown;
    for (;;) {
      // A value starts here.
      this.ws();
      const c = s.charCodeAt(this.i);
      if (c === 0x7b) {
        this.open();
        this.i++;
        const f = { obj: {} as Record<string, unknown>, keys: new Set<string>(), key: '' };
        this.ws();
        if (s.charCodeAt(this.i) === 0x7d) {
          this.i++;
          value = f.obj;
        } else {
          stack.push(f);
          this.member(f);
          continue;
        }
      } else if (c === 0x5b) {
        this.open();
        this.i++;
        const f = { arr: [] as unknown[] };
        this.ws();
        if (s.charCodeAt(this.i) === 0x5d) {
          this.i++;
          value = f.arr;
        } else {
          stack.push(f);
          continue;
        }
      } else value = this.scalar(c);

      // A value is complete: hand it to its container, closing containers as they end.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) {
          this.ws();
          if (this.i !== s.length) this.expected('the end of the text');
          return value;
        }
        if ('arr' in top) top.arr.push(value);
        else Object.defineProperty(top.obj, top.key, { value, writable: true, enumerable: true, configurable: true });
        this.ws();
        const d = s.charCodeAt(this.i);
        if (d === 0x2c) {
          this.i++;
          if (!('arr' in top)) this.member(top);
          break;
        }
        if (d === ('arr' in top ? 0x5d : 0x7d)) {
          this.i++;
          stack.pop();
          value = 'arr' in top ? top.arr : top.obj;
          continue;
        }
        this.expected('arr' in top ? '"," or "]"' : '"," or "}"');
      }
    }
  }

  private scalar(c: number): unknown {
    const s = this.s;
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.expected('a JSON value');
  }

  private number(): number {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) this.expected('a number');
    const token = m[0];
    const v = Number(token);
    if (!Number.isFinite(v)) this.fail('number_range', `the number ${token.slice(0, 40)} overflows a double (I-JSON, RFC 7493); send it as a string`);
    if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(v)) {
      this.fail('number_range', `the integer ${token.slice(0, 40)} is beyond ±(2^53−1) and would lose precision (I-JSON, RFC 7493); send it as a string`);
    }
    if (v === 0 && /[1-9]/.test(token.replace(/[eE].*$/, ''))) this.fail('number_range', `the number ${token.slice(0, 40)} underflows to zero (I-JSON, RFC 7493); send it as a string`);
    this.i += token.length;
    return v === 0 ? 0 : v;
  }

  private string(): string {
    const s = this.s;
    let i = this.i + 1;
    let out = '';
    let from = i;
    for (;;) {
      if (i >= s.length) {
        this.i = i;
        this.fail('syntax', 'unterminated string');
      }
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) {
        this.i = i;
        this.fail('syntax', `control character U+${c.toString(16).padStart(4, '0')} in a string must be escaped`);
      }
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += s.slice(from, i);
      const e = s.charCodeAt(i + 1);
      const simple = ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        i += 2;
      } else if (e === 0x75 && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        this.i = i;
        this.fail('syntax', 'invalid escape sequence in a string');
      }
      from = i;
    }
    out += s.slice(from, i);
    if (!out.isWellFormed()) {
      this.i = i;
      this.fail('invalid_unicode', 'a string contains a lone surrogate (escaped like \\ud800 or raw); send well-formed Unicode');
    }
    this.i = i + 1;
    return out;
  }
}

const ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };
