// Destination scoping: host and URL arguments must name an allowlisted host. Parsing uses the
// WHATWG URL parser (a global in Node and browsers) and refuses anything ambiguous, such as
// credentials in a URL or a host argument that is not already in canonical form, because the
// executor's parser might read an ambiguous string differently from ours.
import type { DestinationScope, JsonValue } from './bundle-types.js';

/** host or *.host (subdomains only), lowercase ASCII, optional :port. */
export const HOST_PATTERN = /^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+(:[0-9]{1,5})?$/;
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

function hostMatches(host: string, port: string, pattern: string): boolean {
  const colon = pattern.lastIndexOf(':');
  const pHost = colon >= 0 ? pattern.slice(0, colon) : pattern;
  const pPort = colon >= 0 ? pattern.slice(colon + 1) : '';
  if (pPort !== port) return false;
  if (pHost.startsWith('*.')) {
    const suffix = pHost.slice(1);
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return host === pHost;
}

export type DestinationCheck = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** Host and explicit port (empty for the scheme's default) of one destination value. */
function hostOf(value: string, scope: DestinationScope): { host: string; port: string } | string {
  if (scope.kind === 'host') {
    let u: URL;
    try {
      u = new URL(`https://${value}`);
    } catch {
      return `${JSON.stringify(value)} is not a host`;
    }
    if (u.host !== value || u.username || u.password || u.pathname !== '/' || u.search || u.hash) return `${JSON.stringify(value)} is not a canonical host[:port]`;
    return { host: u.hostname, port: u.port };
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return `${JSON.stringify(value)} is not an absolute URL`;
  }
  const schemes = scope.schemes ?? ['https'];
  if (!schemes.includes(u.protocol.slice(0, -1))) return `scheme ${u.protocol.slice(0, -1)} is not allowed (allowed: ${schemes.join(', ')})`;
  if (u.username || u.password) return 'URLs with credentials are refused';
  if (!u.hostname) return `${JSON.stringify(value)} has no host`;
  const port = u.port === DEFAULT_PORTS[u.protocol] ? '' : u.port;
  return { host: u.hostname, port };
}

/** Every value at scope.arg must be a string whose host matches one of the allowed lists. */
export function checkDestinations(args: JsonValue, scope: DestinationScope, lists: Readonly<Record<string, readonly string[]>>): DestinationCheck {
  const patterns = scope.allow.flatMap((name) => lists[name] ?? []);
  for (const v of valuesAt(args, scope.arg).flatMap((x) => (Array.isArray(x) ? x : [x]))) {
    if (typeof v !== 'string') return { ok: false, message: `destination at ${scope.arg} is not a string` };
    const h = hostOf(v, scope);
    if (typeof h === 'string') return { ok: false, message: `destination at ${scope.arg}: ${h}` };
    if (!patterns.some((p) => hostMatches(h.host, h.port, p))) {
      return { ok: false, message: `destination host ${h.host}${h.port ? `:${h.port}` : ''} at ${scope.arg} is not in ${scope.allow.join(', ')}` };
    }
  }
  return { ok: true };
}
