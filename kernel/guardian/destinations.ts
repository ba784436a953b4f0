// Destination scoping: host and URL arguments must name an allowlisted host, or, for URL patterns
// (`https://api.example.com/v1/`), an allowlisted scheme, host, port and path prefix. Parsing uses
// the WHATWG URL parser (a global in Node and browsers) and refuses anything ambiguous, such as
// credentials in a URL, a host argument that is not already in canonical form, raw backslashes,
// whitespace or control characters, or a path segment that decodes to a separator, because the
// executor's parser might read an ambiguous string differently from ours.
import type { DestinationScope, JsonValue } from './bundle-types.js';

/** host or *.host (subdomains only), lowercase ASCII, optional :port. */
export const HOST_PATTERN = /^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+(:[0-9]{1,5})?$/;
/** scheme://host-pattern/path-prefix; the path is plain (no %), normalised, segment characters of RFC 3986 pchar. */
const URL_PATTERN = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)(\/.*)$/;
const PATTERN_SEGMENT = /^[A-Za-z0-9._~!$&'()*+,;=:@-]+$/;
const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21' };

export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * The values at an RFC 6901 pointer, where a '*' segment fans out over the elements of an array or
 * the values of an object (so a destination cannot hide in a container of an unexpected kind).
 */
export function valuesAt(root: JsonValue, pointer: string): JsonValue[] {
  let current: JsonValue[] = [root];
  for (const seg of parsePointer(pointer)) {
    const next: JsonValue[] = [];
    for (const v of current) {
      if (seg === '*' && v !== null && typeof v === 'object') next.push(...(Array.isArray(v) ? v : Object.values(v)));
      else if (Array.isArray(v) && /^(0|[1-9][0-9]*)$/.test(seg) && Number(seg) < v.length) next.push(v[Number(seg)]!);
      else if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, seg)) next.push(v[seg]!);
    }
    current = next;
  }
  return current;
}

/** A destination list entry: a host pattern (any allowed scheme, any path) or a URL pattern. */
export interface DestinationPattern {
  /** null for a host pattern. */
  readonly scheme: string | null;
  /** exact host or `*.suffix`. */
  readonly host: string;
  /** explicit port, '' for the scheme's default. */
  readonly port: string;
  /** path-prefix segments of a URL pattern; null for a host pattern. */
  readonly path: readonly string[] | null;
}

function hostPart(s: string): { host: string; port: string } | null {
  if (!HOST_PATTERN.test(s)) return null;
  const colon = s.lastIndexOf(':');
  const port = colon >= 0 ? s.slice(colon + 1) : '';
  if (port !== '' && (Number(port) < 1 || Number(port) > 65535 || String(Number(port)) !== port)) return null;
  return { host: colon >= 0 ? s.slice(0, colon) : s, port };
}

/** Parses a list entry, or returns why it is malformed. */
export function parseDestinationPattern(p: string): DestinationPattern | string {
  const m = URL_PATTERN.exec(p);
  if (!m) {
    const h = hostPart(p);
    return h ? { scheme: null, ...h, path: null } : `${JSON.stringify(p)} is not host, *.host, host:port (lowercase ASCII) or scheme://host[:port]/path-prefix`;
  }
  const h = hostPart(m[2]!);
  if (!h) return `${JSON.stringify(p)}: ${JSON.stringify(m[2])} is not host, *.host or host:port (lowercase ASCII, no userinfo)`;
  const port = h.port === DEFAULT_PORTS[`${m[1]}:`] ? null : h.port;
  if (port === null) return `${JSON.stringify(p)}: write the default port of ${m[1]} without :${h.port}`;
  const segs = m[3]!.split('/').slice(1);
  if (segs.at(-1) === '') segs.pop();
  for (const seg of segs) {
    if (!PATTERN_SEGMENT.test(seg) || seg === '.' || seg === '..') return `${JSON.stringify(p)}: path segment ${JSON.stringify(seg)} must be non-empty plain text (no %, no . or ..)`;
  }
  return { scheme: m[1]!, ...h, path: segs };
}

function hostMatches(host: string, port: string, p: DestinationPattern): boolean {
  if (p.port !== port) return false;
  if (p.host.startsWith('*.')) {
    const suffix = p.host.slice(1);
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return host === p.host;
}

/** A parsed destination value: scheme and path are null for a `kind: host` value. */
interface Destination {
  readonly scheme: string | null;
  readonly host: string;
  readonly port: string;
  /** Decoded path segments, or why the path cannot be compared (URL patterns then never match). */
  readonly path: readonly string[] | string | null;
}

function matches(d: Destination, p: DestinationPattern): boolean {
  if (!hostMatches(d.host, d.port, p)) return false;
  if (p.path === null) return true;
  if (d.scheme !== p.scheme || typeof d.path === 'string' || d.path === null) return false;
  const path = d.path;
  return p.path.length <= path.length && p.path.every((s, i) => path[i] === s);
}

export type DestinationCheck = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** Characters parsers disagree on: WHATWG drops tabs/newlines and reads \ as / in http(s) URLs. */
const AMBIGUOUS = /[\p{Cc}\p{Cf}\s\\]/u;

/**
 * The URL path as decoded segments. The WHATWG parser has already resolved `.`/`..` (also as
 * %2e); a segment that still decodes to a separator, a control character, a dot segment or
 * another escape could be resolved differently by the server, so it is refused.
 */
function pathSegments(pathname: string): readonly string[] | string {
  const raw = pathname.split('/').slice(1);
  if (raw.at(-1) === '') raw.pop();
  const out: string[] = [];
  for (const seg of raw) {
    let d: string;
    try {
      d = decodeURIComponent(seg);
    } catch {
      return `path segment ${JSON.stringify(seg)} has malformed percent-encoding`;
    }
    if (/[/\\\p{Cc}]/u.test(d) || d === '.' || d === '..' || /%[0-9A-Fa-f]{2}/.test(d) || d === '') return `path segment ${JSON.stringify(seg)} decodes to a separator, dot segment, control character or another escape`;
    out.push(d);
  }
  return out;
}

/** Scheme, host, explicit port (empty for the scheme's default) and path of one destination value. */
function destinationOf(value: string, scope: DestinationScope): Destination | string {
  if (scope.kind === 'host') {
    let u: URL;
    try {
      u = new URL(`https://${value}`);
    } catch {
      return `${JSON.stringify(value)} is not a host`;
    }
    if (u.host !== value || u.username || u.password || u.pathname !== '/' || u.search || u.hash) return `${JSON.stringify(value)} is not a canonical host[:port]`;
    return { scheme: null, host: u.hostname, port: u.port, path: null };
  }
  if (AMBIGUOUS.test(value)) return `${JSON.stringify(value)} contains whitespace, a control character or a backslash`;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return `${JSON.stringify(value)} is not an absolute URL`;
  }
  const scheme = u.protocol.slice(0, -1);
  const schemes = scope.schemes ?? ['https'];
  if (!schemes.includes(scheme)) return `scheme ${scheme} is not allowed (allowed: ${schemes.join(', ')})`;
  if (u.username || u.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(value)) return 'URLs with credentials (userinfo) are refused';
  if (!u.hostname) return `${JSON.stringify(value)} has no host`;
  const port = u.port === DEFAULT_PORTS[u.protocol] ? '' : u.port;
  return { scheme, host: u.hostname, port, path: pathSegments(u.pathname) };
}

/** Every value at scope.arg must be a string whose destination matches one of the allowed lists. */
export function checkDestinations(args: JsonValue, scope: DestinationScope, lists: Readonly<Record<string, readonly string[]>>): DestinationCheck {
  const patterns = scope.allow.flatMap((name) => lists[name] ?? []).flatMap((p) => {
    const parsed = parseDestinationPattern(p);
    return typeof parsed === 'string' ? [] : [parsed];
  });
  for (const v of valuesAt(args, scope.arg).flatMap((x) => (Array.isArray(x) ? x : [x]))) {
    if (typeof v !== 'string') return { ok: false, message: `destination at ${scope.arg} is not a string` };
    const d = destinationOf(v, scope);
    if (typeof d === 'string') return { ok: false, message: `destination at ${scope.arg}: ${d}` };
    if (!patterns.some((p) => matches(d, p))) {
      const where = `${d.scheme ? `${d.scheme}://` : ''}${d.host}${d.port ? `:${d.port}` : ''}${Array.isArray(d.path) ? `/${d.path.join('/')}` : ''}`;
      const why = typeof d.path === 'string' ? ` (${d.path})` : '';
      return { ok: false, message: `destination ${where} at ${scope.arg} is not in ${scope.allow.join(', ')}${why}` };
    }
  }
  return { ok: true };
}

/** True when every destination `p` admits is admitted by some pattern of `base` (overlays narrow). */
export function patternCovered(p: string, base: readonly string[]): boolean {
  const n = parseDestinationPattern(p);
  if (typeof n === 'string') return false;
  return base.some((b) => {
    const o = parseDestinationPattern(b);
    if (typeof o === 'string' || o.port !== n.port) return false;
    const hostOk = o.host === n.host || (o.host.startsWith('*.') && n.host.replace(/^\*/, '').endsWith(o.host.slice(1)) && n.host.replace(/^\*/, '').length > o.host.slice(1).length);
    if (!hostOk) return false;
    if (o.path === null) return true;
    return n.path !== null && n.scheme === o.scheme && o.path.length <= n.path.length && o.path.every((s, i) => n.path![i] === s);
  });
}
