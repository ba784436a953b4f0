// Upstream MCP server entries as configuration gives them (a JSON flag, a YAML/JSON file): checked
// field by field so a typo is reported with its place instead of becoming an upstream that
// silently never starts.
import { GatewayError } from './errors.js';
import type { McpUpstreamConfig } from './types.js';

const PROTOCOLS = ['auto', 'legacy', '2026-07-28'];

function strings(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new GatewayError('ERR_MCP_CONFIG', `${where} must be a list of strings`);
  return v as string[];
}

function stringMap(v: unknown, where: string): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) throw new GatewayError('ERR_MCP_CONFIG', `${where} must be a map of strings`);
  return v as Record<string, string>;
}

export function parseUpstreamConfig(v: unknown, where: string): McpUpstreamConfig {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new GatewayError('ERR_MCP_CONFIG', `${where}: an upstream must be an object`);
  const o = v as Record<string, unknown>;
  if (o.transport !== 'stdio' && o.transport !== 'http') throw new GatewayError('ERR_MCP_CONFIG', `${where}: transport must be stdio or http`);
  const allowed = o.transport === 'http' ? ['name', 'transport', 'url', 'headers', 'authFile', 'protocol', 'roots'] : ['name', 'transport', 'command', 'args', 'env', 'cwd', 'protocol', 'roots'];
  const extra = Object.keys(o).find((k) => !allowed.includes(k));
  if (extra !== undefined) throw new GatewayError('ERR_MCP_CONFIG', `${where}: unknown field ${JSON.stringify(extra)}`);
  if (typeof o.name !== 'string') throw new GatewayError('ERR_MCP_CONFIG', `${where}: name must be a string`);
  if (o.protocol !== undefined && !PROTOCOLS.includes(o.protocol as string)) throw new GatewayError('ERR_MCP_CONFIG', `${where}: protocol must be one of ${PROTOCOLS.join(', ')}`);
  const protocol = o.protocol as McpUpstreamConfig['protocol'];
  if (o.roots !== undefined && typeof o.roots !== 'boolean') throw new GatewayError('ERR_MCP_CONFIG', `${where}: roots must be true or false`);
  const roots = o.roots === true ? { roots: true } : {};
  if (o.transport === 'http') {
    if (typeof o.url !== 'string') throw new GatewayError('ERR_MCP_CONFIG', `${where}: url must be a string`);
    if (o.authFile !== undefined && typeof o.authFile !== 'string') throw new GatewayError('ERR_MCP_CONFIG', `${where}: authFile must be a string`);
    return {
      name: o.name,
      transport: 'http',
      url: o.url,
      ...(o.headers !== undefined ? { headers: stringMap(o.headers, `${where}.headers`) } : {}),
      ...(typeof o.authFile === 'string' ? { authFile: o.authFile } : {}),
      ...(protocol ? { protocol } : {}),
      ...roots,
    };
  }
  if (typeof o.command !== 'string') throw new GatewayError('ERR_MCP_CONFIG', `${where}: command must be a string`);
  if (o.cwd !== undefined && typeof o.cwd !== 'string') throw new GatewayError('ERR_MCP_CONFIG', `${where}: cwd must be a string`);
  return {
    name: o.name,
    transport: 'stdio',
    command: o.command,
    ...(o.args !== undefined ? { args: strings(o.args, `${where}.args`) } : {}),
    ...(o.env !== undefined ? { env: stringMap(o.env, `${where}.env`) } : {}),
    ...(typeof o.cwd === 'string' ? { cwd: o.cwd } : {}),
    ...(protocol ? { protocol } : {}),
    ...roots,
  };
}

/** A file's upstream list: a list of entries, or `{upstreams: [...]}`. */
export function parseUpstreamList(v: unknown, where: string): McpUpstreamConfig[] {
  const list = Array.isArray(v) ? v : typeof v === 'object' && v !== null && Array.isArray((v as { upstreams?: unknown }).upstreams) ? (v as { upstreams: unknown[] }).upstreams : null;
  if (list === null) throw new GatewayError('ERR_MCP_CONFIG', `${where} must hold a list of upstreams (or {upstreams: [...]})`);
  return list.map((e, i) => parseUpstreamConfig(e, `${where}[${i}]`));
}
