// Typed values from the three places a setting can come from. Flags and environment variables are
// text; config-file values are YAML/JSON and must already have the right type (a quoted "8080"
// where a number belongs is a mistake worth reporting, not guessing about).
import { ConfigError } from './errors.js';
import type { KeySpec } from './keys.js';
import { parseUpstreamList } from '../mcp/upstream-config.js';
import type { McpUpstreamConfig } from '../mcp/types.js';

export interface ToolRoute {
  connector?: string;
  sandbox?: string;
}

export type ToolRoutes = Record<string, ToolRoute>;

export type Value = string | number | boolean | string[] | ToolRoutes | McpUpstreamConfig[] | null;

export interface HostPort {
  host: string;
  port: number;
}

/** "host:port", "[v6]:port" or ":port" (all interfaces). */
export function parseListen(s: string, where: string): HostPort {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError('ERR_CONFIG_VALUE', `${JSON.stringify(s)} is not host:port (port 0-65535)`, where);
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!);
  return { host, port };
}

function fromText(spec: KeySpec, text: string, where: string): Value {
  switch (spec.type) {
    case 'int': {
      if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new ConfigError('ERR_CONFIG_TYPE', `expected a non-negative integer, got ${JSON.stringify(text)}`, where);
      return Number(text);
    }
    case 'bool': {
      if (/^(true|1|yes|on)$/i.test(text)) return true;
      if (/^(false|0|no|off)$/i.test(text)) return false;
      throw new ConfigError('ERR_CONFIG_TYPE', `expected true or false, got ${JSON.stringify(text)}`, where);
    }
    case 'list':
      return text
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');
    default:
      return text;
  }
}

const ROUTE_FIELD = /^[A-Za-z0-9._:-]{1,128}$/;

/** A mapping tool -> {connector?, sandbox?}, checked strictly (it decides what the kernel is told). */
export function checkRoutes(v: unknown, where: string): ToolRoutes {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError('ERR_CONFIG_TYPE', 'expected a mapping of tool names to {connector, sandbox}', where);
  const out: ToolRoutes = {};
  for (const [tool, r] of Object.entries(v)) {
    if (tool === '' || tool.length > 512) throw new ConfigError('ERR_CONFIG_VALUE', `tool name ${JSON.stringify(tool.slice(0, 40))} must be 1 to 512 characters`, where);
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new ConfigError('ERR_CONFIG_TYPE', `route of ${tool} must be a mapping {connector, sandbox}`, where);
    const route: ToolRoute = {};
    for (const [f, x] of Object.entries(r)) {
      if (f !== 'connector' && f !== 'sandbox') throw new ConfigError('ERR_CONFIG_UNKNOWN_KEY', `route of ${tool} has unknown field ${JSON.stringify(f)} (connector, sandbox)`, where);
      if (typeof x !== 'string' || !ROUTE_FIELD.test(x)) throw new ConfigError('ERR_CONFIG_VALUE', `${f} of ${tool} must be a name of 1 to 128 characters [A-Za-z0-9._:-]`, where);
      route[f] = x;
    }
    out[tool] = route;
  }
  return out;
}

/** TOOL=connector:NAME[,sandbox:NAME] */
function routeFlag(text: string, where: string): [string, ToolRoute] {
  const eq = text.lastIndexOf('=');
  if (eq <= 0) throw new ConfigError('ERR_CONFIG_VALUE', `${JSON.stringify(text)} is not TOOL=connector:NAME[,sandbox:NAME]`, where);
  const fields: Record<string, string> = {};
  for (const part of text.slice(eq + 1).split(',')) {
    const colon = part.indexOf(':');
    if (colon <= 0) throw new ConfigError('ERR_CONFIG_VALUE', `${JSON.stringify(part)} is not connector:NAME or sandbox:NAME`, where);
    fields[part.slice(0, colon).trim()] = part.slice(colon + 1).trim();
  }
  const tool = text.slice(0, eq);
  return [tool, checkRoutes({ [tool]: fields }, where)[tool]!];
}

/** A flag value as parseArgs gives it (repeatable flags: every occurrence, each maybe comma-separated). */
export function fromFlag(spec: KeySpec, raw: string | boolean | string[], where: string): Value {
  if (spec.type === 'bool') return raw === true;
  if (spec.type === 'routes') {
    const out: ToolRoutes = {};
    for (const text of Array.isArray(raw) ? raw : [String(raw)]) {
      const [tool, route] = routeFlag(text, where);
      if (Object.hasOwn(out, tool)) throw new ConfigError('ERR_CONFIG_CONFLICT', `two routes for ${tool}`, where);
      out[tool] = route;
    }
    return out;
  }
  if (spec.type === 'list') return (Array.isArray(raw) ? raw : [String(raw)]).flatMap((x) => fromText(spec, x, where) as string[]);
  if (spec.type === 'mcp-upstreams') return mcpUpstreamsJson(String(raw), where);
  return fromText(spec, String(raw), where);
}

function mcpUpstreamsJson(text: string, where: string): McpUpstreamConfig[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('ERR_CONFIG_TYPE', `expected a JSON list of MCP upstreams: ${(e as Error).message}`, where);
  }
  return mcpUpstreams(v, where);
}

function mcpUpstreams(v: unknown, where: string): McpUpstreamConfig[] {
  try {
    return parseUpstreamList(v, where);
  } catch (e) {
    throw new ConfigError('ERR_CONFIG_VALUE', (e as Error).message, where);
  }
}

export function fromEnv(spec: KeySpec, text: string, where: string): Value {
  if (spec.type === 'mcp-upstreams') return mcpUpstreamsJson(text, where);
  if (spec.type === 'routes') {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new ConfigError('ERR_CONFIG_TYPE', `expected JSON {tool: {connector, sandbox}}: ${(e as Error).message}`, where);
    }
    return checkRoutes(v, where);
  }
  return fromText(spec, text, where);
}

export function fromFile(spec: KeySpec, v: unknown, where: string): Value {
  const type = (want: string) => new ConfigError('ERR_CONFIG_TYPE', `expected ${want}, got ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}`, where);
  switch (spec.type) {
    case 'int':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw type('a non-negative integer');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw type('true or false');
      return v;
    case 'list':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw type('a list of strings');
      return v as string[];
    case 'routes':
      return checkRoutes(v, where);
    case 'mcp-upstreams':
      return mcpUpstreams(v, where);
    default:
      if (typeof v !== 'string') throw type('a string');
      return v;
  }
}

/** Range, enum and syntax checks that do not depend on other keys. */
export function checkValue(spec: KeySpec, v: Value, where: string): void {
  if (v === null) return;
  if (spec.type === 'int' && typeof v === 'number') {
    if (spec.min !== undefined && v < spec.min) throw new ConfigError('ERR_CONFIG_VALUE', `${v} is below the minimum ${spec.min}`, where);
    if (spec.max !== undefined && v > spec.max) throw new ConfigError('ERR_CONFIG_VALUE', `${v} is above the maximum ${spec.max}`, where);
  }
  if (spec.type === 'enum' && !spec.values!.includes(v as string)) throw new ConfigError('ERR_CONFIG_VALUE', `${JSON.stringify(v)} is not one of ${spec.values!.join(', ')}`, where);
  if (spec.type === 'listen') parseListen(v as string, where);
  if (spec.type === 'url') {
    let u: URL;
    try {
      u = new URL(v as string);
    } catch {
      throw new ConfigError('ERR_CONFIG_VALUE', `${JSON.stringify(v)} is not a URL`, where);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError('ERR_CONFIG_VALUE', `${JSON.stringify(v)} must be an http or https URL`, where);
    if (u.username || u.password) throw new ConfigError('ERR_CONFIG_VALUE', 'credentials do not belong in the URL: use the API key file', where);
  }
  if (spec.type === 'string' && typeof v === 'string' && v.length === 0) throw new ConfigError('ERR_CONFIG_VALUE', 'must not be empty', where);
}
