// helmctl mcp --stdio: the governed MCP gateway for one desktop MCP client over stdin/stdout. The
// same PEP, bundle checks and receipts as `helmctl serve`; stdout carries only MCP messages, logs
// go to stderr.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { Pep } from '../../kernel/pep/pep.js';
import { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { readBundleFiles } from '../../sidecar/bundle/files.js';
import { checkStaticIdentity } from '../../sidecar/identity/static-check.js';
import type { SidecarConfig } from '../../sidecar/config/load.js';
import { HeartbeatTimer } from '../../sidecar/heartbeat.js';
import { jsonLogger } from '../../sidecar/log.js';
import { loadMaterials } from '../../sidecar/materials.js';
import { createMcpGateway } from '../../sidecar/mcp/gateway.js';
import type { McpUpstreamConfig } from '../../sidecar/mcp/types.js';
import { parseUpstreamConfig, parseUpstreamList } from '../../sidecar/mcp/upstream-config.js';
import { flag, nonNegativeInt, optional, parse, required, type Parsed } from '../args.js';
import { CliError, EXIT_OK, UsageError } from '../io.js';
import type { Command } from './command.js';

const list = (p: Parsed, name: string): string[] => {
  const v = p.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
};

async function upstreams(p: Parsed): Promise<McpUpstreamConfig[]> {
  const out: McpUpstreamConfig[] = [];
  for (const [i, text] of list(p, 'mcp-upstream').entries()) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new UsageError(`--mcp-upstream #${i + 1} is not JSON`);
    }
    out.push(parseUpstreamConfig(v, `--mcp-upstream #${i + 1}`));
  }
  for (const file of list(p, 'mcp-upstreams')) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new CliError(`cannot read ${file}: ${(e as Error).message}`, 'ERR_MCP_CONFIG');
    }
    out.push(...parseUpstreamList(parseYaml(text), file));
  }
  if (out.length === 0) throw new UsageError('name at least one upstream MCP server (--mcp-upstream JSON or --mcp-upstreams FILE)');
  return out;
}

function attributes(p: Parsed): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list(p, 'principal-attr')) {
    const i = a.indexOf('=');
    if (i <= 0) throw new UsageError(`--principal-attr ${JSON.stringify(a)} must be key=value`);
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

const OPTIONS = {
  stdio: { type: 'boolean' },
  'proofgraph-dir': { type: 'string' },
  'writer-id': { type: 'string' },
  origin: { type: 'string' },
  'node-key': { type: 'string' },
  'log-key': { type: 'string' },
  'trust-event': { type: 'string', multiple: true },
  bundle: { type: 'string' },
  'bundle-signature': { type: 'string' },
  'bundle-trust-root': { type: 'string', multiple: true },
  'bundle-revoked': { type: 'string', multiple: true },
  'principal-id': { type: 'string' },
  'principal-role': { type: 'string', multiple: true },
  'principal-attr': { type: 'string', multiple: true },
  'mcp-upstream': { type: 'string', multiple: true },
  'mcp-upstreams': { type: 'string', multiple: true },
  'call-timeout-ms': { type: 'string' },
  'max-message-bytes': { type: 'string' },
  'heartbeat-interval-ms': { type: 'string' },
} as const;

export const mcp: Command = {
  name: 'mcp',
  usage:
    'helmctl mcp --stdio --proofgraph-dir DIR --writer-id ID --node-key FILE --log-key FILE [--origin ORIGIN] [--trust-event FILE]... ' +
    '[--bundle FILE --bundle-signature FILE --bundle-trust-root KEY|FILE...] [--bundle-revoked HANDLE]... --principal-id ID [--principal-role ROLE]... [--principal-attr KEY=VALUE]... ' +
    '(--mcp-upstream JSON | --mcp-upstreams FILE)... [--call-timeout-ms N] [--max-message-bytes N] [--heartbeat-interval-ms N]',
  async run(argv, io) {
    const p = parse(argv, OPTIONS, { min: 0, max: 0 });
    if (!flag(p, 'stdio')) throw new UsageError('--stdio is required (the HTTP surfaces run inside helmctl serve)');
    const root = required(p, 'proofgraph-dir');
    const writerId = required(p, 'writer-id');
    const principal = { id: required(p, 'principal-id'), roles: list(p, 'principal-role'), attributes: attributes(p) };
    const bundlePath = optional(p, 'bundle');
    const sigPath = optional(p, 'bundle-signature');
    if ((bundlePath === undefined) !== (sigPath === undefined)) throw new UsageError('--bundle and --bundle-signature go together');
    const ups = await upstreams(p);
    const int = (name: string) => {
      const v = optional(p, name);
      return v === undefined ? undefined : nonNegativeInt(v, `--${name}`);
    };
    // The fields of the sidecar configuration that key and trust loading read.
    const materials = await loadMaterials({
      nodeKey: required(p, 'node-key'),
      logKey: required(p, 'log-key'),
      origin: optional(p, 'origin') ?? null,
      bundleTrustRoots: list(p, 'bundle-trust-root'),
      bundleRevoked: list(p, 'bundle-revoked'),
      trustEvents: list(p, 'trust-event'),
      upstreamApiKeyFile: null,
      upstreamApiKey: null,
    } as Partial<SidecarConfig> as SidecarConfig);
    // The same start-up check as helmctl serve: refuse a log no verifier could accept.
    await checkStaticIdentity({ suite: nodeSuite, nodeKey: materials.nodeKey, logKey: materials.logKey, origin: materials.origin, trustEvents: materials.trustEvents, logDir: join(root, writerId) });
    let policy = {};
    if (bundlePath !== undefined && sigPath !== undefined) {
      const read = await readBundleFiles({ bundle: bundlePath, signature: sigPath });
      // A bundle that does not read is still in force as a reason: every call is denied with it.
      if (!read.ok) io.stderr.write(`helmctl mcp: ${read.code}: ${read.message}; every call is denied\n`);
      else policy = read.source;
    }
    const heartbeatMs = int('heartbeat-interval-ms') ?? 60_000;
    const writer = await ProofGraphWriter.open({ root, writerId, origin: materials.origin, nodeKey: materials.nodeKey, logKey: materials.logKey, clock: Date.now, trustEvents: materials.trustEvents, heartbeatIntervalUs: heartbeatMs * 1000 });
    const pep = await Pep.open({ writer, logDir: join(root, writerId), trust: materials.trust, clock: Date.now, random: (n) => new Uint8Array(randomBytes(n)), policy });
    if (pep.policy.status !== 'ready') io.stderr.write(`helmctl mcp: no verified bundle in force (${pep.policy.reasonCode}): every call is denied\n`);
    const logger = jsonLogger('warn', (l) => void io.stderr.write(l));
    const heartbeat = new HeartbeatTimer(writer, heartbeatMs, logger);
    heartbeat.start();
    const callTimeoutMs = int('call-timeout-ms');
    const maxMessageBytes = int('max-message-bytes');
    const gateway = await createMcpGateway({
      pep,
      principal,
      upstreams: ups,
      ...(callTimeoutMs !== undefined ? { callTimeoutMs } : {}),
      ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}),
      log: (line) => void io.stderr.write(`${line}\n`),
    });
    for (const u of gateway.upstreams) if (u.state !== 'ready') io.stderr.write(`helmctl mcp: upstream ${u.name} is ${u.state}: ${u.lastError ?? ''} (its tools fail closed; retrying)\n`);
    const stop = new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await Promise.race([gateway.serveStdio(process.stdin, process.stdout), stop]);
    await gateway.close();
    await heartbeat.stop();
    await pep.close();
    await writer.close();
    return EXIT_OK;
  },
};
