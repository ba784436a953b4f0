// Admission: the checks made before any engine sees the module. The sha256 is injected so the
// kernel stays free of node: imports (the sidecar passes node:crypto, a browser @noble).
import { toHex } from '../crypto/bytes.js';
import { jcs } from '../crypto/jcs.js';
import { COMPUTE_CODES, type ComputeJob, type ComputeRefusal, type ComputeRequest } from './types.js';

export type Sha256 = (data: Uint8Array) => Uint8Array;

/** Upper bounds a profile may ask for; beyond them the request is malformed, not generous. */
export const LIMIT_CEILINGS = { gas: Number.MAX_SAFE_INTEGER, wallMs: 600_000, memoryPages: 65_536, outputBytes: 64 * 1024 * 1024 } as const;
const GRANT_KEYS = new Set(['preopens', 'env', 'clock', 'random']);
/** Grant names that ask for the network: refused as a forbidden capability, never offered. */
const NETWORK_GRANTS = new Set(['sockets', 'socket', 'network', 'net', 'tcp', 'udp', 'http']);

function refuse(reasonCode: ComputeRefusal['reasonCode'], message: string): ComputeRefusal {
  return { ok: false, reasonCode, message };
}

function checkLimits(request: ComputeRequest): ComputeRefusal | null {
  const limits = request.limits as unknown as Record<string, unknown> | undefined;
  if (!limits || typeof limits !== 'object') return refuse(COMPUTE_CODES.request, 'limits: missing; set gas, wallMs, memoryPages and outputBytes');
  for (const [name, max] of Object.entries(LIMIT_CEILINGS)) {
    const v = limits[name];
    const min = name === 'outputBytes' ? 0 : 1;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      return refuse(COMPUTE_CODES.request, `limits.${name}: ${String(v)} is not an integer in [${min}, ${max}]`);
    }
  }
  return null;
}

function checkGrants(request: ComputeRequest): ComputeRefusal | null {
  const grants = request.grants as unknown as Record<string, unknown> | undefined;
  if (!grants || typeof grants !== 'object') return refuse(COMPUTE_CODES.request, 'grants: missing; give {preopens: [], env: {}, clock: false, random: false} to grant nothing');
  for (const key of Object.keys(grants)) {
    if (NETWORK_GRANTS.has(key.toLowerCase())) return refuse(COMPUTE_CODES.capability, `grants.${key}: sockets and network access are never granted to a sandboxed module`);
    if (!GRANT_KEYS.has(key)) return refuse(COMPUTE_CODES.request, `grants.${key}: unknown grant; the grants are preopens, env, clock and random`);
  }
  if (typeof grants.clock !== 'boolean' || typeof grants.random !== 'boolean') return refuse(COMPUTE_CODES.request, 'grants.clock and grants.random: must be booleans');
  const env = grants.env as Record<string, unknown> | undefined;
  if (!env || typeof env !== 'object' || Array.isArray(env)) return refuse(COMPUTE_CODES.request, 'grants.env: must be an object of strings');
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof v !== 'string' || v.includes('\0')) return refuse(COMPUTE_CODES.request, `grants.env.${k}: names are [A-Za-z_][A-Za-z0-9_]* and values strings without NUL`);
  }
  const preopens = grants.preopens as unknown;
  if (!Array.isArray(preopens)) return refuse(COMPUTE_CODES.request, 'grants.preopens: must be a list (empty for no filesystem)');
  const seen = new Set<string>();
  for (const [i, p] of (preopens as Array<Record<string, unknown>>).entries()) {
    const where = `grants.preopens[${i}]`;
    if (typeof p?.guestPath !== 'string' || !/^\/[A-Za-z0-9._\-/]*$/.test(p.guestPath) || p.guestPath.split('/').includes('..')) return refuse(COMPUTE_CODES.request, `${where}.guestPath: an absolute guest path without ".."`);
    if (typeof p.hostPath !== 'string' || !p.hostPath.startsWith('/') || p.hostPath.split('/').includes('..')) return refuse(COMPUTE_CODES.request, `${where}.hostPath: an absolute host path without ".."`);
    if (p.mode !== 'ro' && p.mode !== 'rw') return refuse(COMPUTE_CODES.request, `${where}.mode: "ro" or "rw" (each directory states its mode)`);
    if (seen.has(p.guestPath)) return refuse(COMPUTE_CODES.request, `${where}.guestPath: ${p.guestPath} is granted twice`);
    seen.add(p.guestPath);
  }
  return null;
}

function encodeInput(request: ComputeRequest): Uint8Array | ComputeRefusal {
  const input = request.input as unknown as Record<string, unknown> | undefined;
  if (input && input.bytes instanceof Uint8Array) return input.bytes;
  if (input && 'json' in input) {
    try {
      return jcs(input.json);
    } catch (e) {
      return refuse(COMPUTE_CODES.request, `input.json: not canonicalizable JSON (${(e as Error).message})`);
    }
  }
  return refuse(COMPUTE_CODES.request, 'input: give {bytes: Uint8Array} or {json: value}');
}

/** Checks the request and the module's pinned hash; returns the job for the engine or a refusal. */
export function admitCompute(request: ComputeRequest, sha256: Sha256): ComputeJob | ComputeRefusal {
  const bytes = request.module?.bytes;
  const pinned = request.module?.sha256;
  if (!(bytes instanceof Uint8Array) || typeof pinned !== 'string' || !/^[0-9a-f]{64}$/.test(pinned)) {
    return refuse(COMPUTE_CODES.request, 'module: give {bytes: Uint8Array, sha256: 64 lowercase hex}');
  }
  const actual = toHex(sha256(bytes));
  if (actual !== pinned) return refuse(COMPUTE_CODES.moduleMismatch, `module.sha256: the bytes hash to ${actual}, not the pinned ${pinned}; re-pin only after reviewing the new module`);
  const bad = checkLimits(request) ?? checkGrants(request);
  if (bad) return bad;
  const stdin = encodeInput(request);
  if (!(stdin instanceof Uint8Array)) return stdin;
  const args = request.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string' || a.includes('\0'))) return refuse(COMPUTE_CODES.request, 'args: a list of strings without NUL');
  return { moduleSha256: pinned, moduleBytes: bytes, stdin, args: ['tool', ...args], limits: request.limits, grants: request.grants };
}
