// Secret redaction: the sidecar knows the secrets it was configured with (the upstream API key, MCP
// upstream auth tokens and credential header values) and removes them from everything it passes on, logs or
// stores. The rule (docs/sidecar.md, "Secret redaction"):
//   1. every occurrence of a secret, and of each whitespace-separated part of it of 8 or more
//      characters (the token of "Bearer <token>"), is replaced by [REDACTED];
//   2. for a secret part of 16 or more characters, a token (a run of [A-Za-z0-9_+/=.*…-]) that
//      holds any 12 consecutive characters of it is replaced (truncated echoes: prefixes, suffixes);
//   3. a token that ends in the part's last 4 characters after a mask of 3 or more '*', '.' or '…',
//      and starts with a prefix of the part (possibly empty), is replaced (masked echoes such as
//      "sk-...abcd" or "sk-proj-****abcd").
// Values shorter than 8 characters are not treated as secrets (they would erase ordinary text).
export const REDACTED = '[REDACTED]';

const MIN_SECRET = 8;
const MIN_PARTIAL = 16;
const GRAM = 12;
/** Token characters: [A-Za-z0-9_+/=.*…-]. */
function isTokenChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 43 || c === 47 || c === 61 || c === 46 || c === 42 || c === 0x2026 || c === 45;
}

function isMask(c: number): boolean {
  return c === 42 || c === 46 || c === 0x2026;
}

/** From `i` on only sentence punctuation ('.', '…') up to the end of the token. */
function isTrailing(s: string, i: number): boolean {
  let j = i;
  while (j < s.length && (s.charCodeAt(j) === 46 || s.charCodeAt(j) === 0x2026)) j++;
  return j === s.length || !isTokenChar(s.charCodeAt(j));
}

/** The token around position i, without trailing sentence punctuation. */
function tokenAround(s: string, i: number): [number, number] {
  let a = i;
  while (a > 0 && isTokenChar(s.charCodeAt(a - 1))) a--;
  let b = i;
  while (b < s.length && isTokenChar(s.charCodeAt(b))) b++;
  while (b > i + GRAM && (s.charCodeAt(b - 1) === 46 || s.charCodeAt(b - 1) === 0x2026)) b--;
  return [a, b];
}

interface Part {
  readonly text: string;
  readonly grams: Set<string> | null;
}

export class Redactor {
  private parts: Part[] = [];

  constructor(secrets: Iterable<string | null | undefined> = []) {
    this.add(secrets);
  }

  /** Adds secrets (idempotent); values shorter than 8 characters are ignored. */
  add(secrets: Iterable<string | null | undefined>): void {
    const known = new Set(this.parts.map((p) => p.text));
    for (const s of secrets) {
      if (typeof s !== 'string') continue;
      for (const text of [s.trim(), ...s.split(/\s+/)]) {
        if (text.length < MIN_SECRET || known.has(text)) continue;
        known.add(text);
        let grams: Set<string> | null = null;
        if (text.length >= MIN_PARTIAL && /^[A-Za-z0-9_+/=.-]+$/.test(text)) {
          grams = new Set();
          for (let i = 0; i + GRAM <= text.length; i++) grams.add(text.slice(i, i + GRAM));
        }
        this.parts.push({ text, grams });
      }
    }
    // Longest first, so a whole value is replaced before a part of it.
    this.parts.sort((a, b) => b.text.length - a.text.length);
  }

  get active(): boolean {
    return this.parts.length > 0;
  }

  /**
   * The text with every secret (rule 1) and every echo of one (rules 2 and 3) replaced. Linear
   * scans with indexOf (no regular expression over the whole text: a single multi-megabyte token
   * must neither overflow the regex engine's stack nor cost a lookup per character).
   */
  text(s: string): string {
    if (this.parts.length === 0 || s.length < MIN_SECRET) return s;
    let out = s;
    for (const p of this.parts) if (out.includes(p.text)) out = out.split(p.text).join(REDACTED);
    const ranges: Array<[number, number]> = [];
    for (const p of this.parts) {
      if (p.grams === null) continue;
      for (const g of p.grams) {
        for (let i = out.indexOf(g); i !== -1; ) {
          const [a, b] = tokenAround(out, i);
          ranges.push([a, b]);
          i = out.indexOf(g, Math.max(b, i + 1));
        }
      }
      const tail = p.text.slice(-4);
      for (let i = out.indexOf(tail); i !== -1; i = out.indexOf(tail, i + 1)) {
        const end = i + 4;
        if (end < out.length && isTokenChar(out.charCodeAt(end)) && !isTrailing(out, end)) continue;
        let m = i;
        while (m > 0 && isMask(out.charCodeAt(m - 1))) m--;
        if (i - m < 3) continue;
        let a = m;
        while (a > 0 && isTokenChar(out.charCodeAt(a - 1))) a--;
        if (p.text.startsWith(out.slice(a, m))) ranges.push([a, end]);
      }
    }
    if (ranges.length === 0) return out;
    ranges.sort((x, y) => x[0] - y[0]);
    let res = '';
    let at = 0;
    for (const [a, b] of ranges) {
      if (b <= at) continue;
      res += a >= at ? `${out.slice(at, a)}${REDACTED}` : '';
      at = b;
    }
    return res + out.slice(at);
  }

  /** UTF-8 bytes redacted as text; the same buffer when nothing changed. */
  bytes(b: Buffer): Buffer {
    if (this.parts.length === 0) return b;
    const s = b.toString('utf8');
    const r = this.text(s);
    return r === s ? b : Buffer.from(r, 'utf8');
  }

  /** Every string (and object key) of a JSON-like value, redacted; the same value when unchanged. */
  deep<T>(v: T): T {
    if (this.parts.length === 0) return v;
    return this.walk(v) as T;
  }

  private walk(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) {
      let changed = false;
      const out = v.map((x) => {
        const y = this.walk(x);
        if (y !== x) changed = true;
        return y;
      });
      return changed ? out : v;
    }
    if (typeof v === 'object' && v !== null) {
      let changed = false;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const rk = this.text(k);
        const y = this.walk(x);
        if (y !== x || rk !== k) changed = true;
        out[rk] = y;
      }
      return changed ? out : v;
    }
    return v;
  }
}

/** Header names whose values are credentials (an `accept` or `user-agent` value is not a secret). */
const SECRET_HEADER = /auth|token|key|secret|cookie|session|passw|credential|signature/i;

/** The secrets of a sidecar configuration: the upstream key and the credential headers of MCP upstreams. */
export function configuredSecrets(o: { upstreamApiKey?: string | null; mcpUpstreams?: ReadonlyArray<object> }): string[] {
  const out: string[] = [];
  if (o.upstreamApiKey) out.push(o.upstreamApiKey);
  for (const u of o.mcpUpstreams ?? []) {
    const headers = (u as { headers?: unknown }).headers;
    if (typeof headers === 'object' && headers !== null) for (const [name, v] of Object.entries(headers)) if (typeof v === 'string' && SECRET_HEADER.test(name)) out.push(v);
  }
  return out;
}
