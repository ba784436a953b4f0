// Mounts the governed MCP gateway (sidecar/mcp) as a surface: /mcp (Streamable HTTP, both protocol
// eras), /sse + /messages (legacy SSE) and the REST routes /mcp/v1/capabilities and /mcp/v1/execute.
import { readFile } from 'node:fs/promises';
import type { Pep } from '../../kernel/pep/index.js';
import type { Principal } from '../config/load.js';
import { redactingLogger, type Logger } from '../log.js';
import { createMcpGateway } from '../mcp/gateway.js';
import type { LinkedDecision } from '../mcp/core.js';
import type { InProcessUpstream } from '../mcp/in-process.js';
import type { McpObserver, McpUpstreamConfig } from '../mcp/types.js';
import type { SidecarMetrics } from '../observe/metrics.js';
import { configuredSecrets, Redactor } from '../redact.js';
import type { GovernedSurface } from './handler.js';
import { forTask } from '../a2a/task.js';

const MCP_PATHS = /^\/(mcp(\/.*)?|sse|messages)$/;

/** The sidecar's metrics, seen through the gateway's observer contract. */
function mcpObserver(metrics: SidecarMetrics, log: Logger | undefined): McpObserver {
  return {
    decision: (e) => metrics.decision({ surface: 'mcp', tool: e.tool, verdict: e.verdict as 'ALLOW' | 'DENY' | 'ESCALATE', reasonCode: e.reasonCode, seconds: e.seconds, recorded: e.recorded }),
    // Upstream MCP servers get their own route label, /v1/mcp/<name>, inside the bounded label set.
    upstream: (e) => {
      metrics.upstream({ route: `/v1/mcp/${e.upstream}`, seconds: e.seconds, status: null, error: e.error });
      if (e.error !== null) log?.warn('MCP upstream request failed', { upstream: e.upstream, error: e.error, seconds: e.seconds });
    },
  };
}

/**
 * Turns each http upstream's authFile (the operator mounts the GuardianSidecar's authSecretRef there,
 * into the sidecar only) into an Authorization header. A file that cannot be read stops the start:
 * the upstream would otherwise be called without its credentials.
 */
export async function resolveUpstreamAuth(upstreams: readonly McpUpstreamConfig[], read: (path: string) => Promise<string> = (p) => readFile(p, 'utf8')): Promise<McpUpstreamConfig[]> {
  return Promise.all(
    upstreams.map(async (u) => {
      if (u.transport !== 'http' || u.authFile === undefined) return u;
      const { authFile, ...rest } = u;
      let token: string;
      try {
        token = (await read(authFile)).trim();
      } catch (e) {
        throw new Error(`MCP upstream ${u.name}: cannot read authFile ${authFile}: ${(e as Error).message}`);
      }
      if (token === '') throw new Error(`MCP upstream ${u.name}: authFile ${authFile} is empty`);
      return { ...rest, headers: { ...rest.headers, authorization: `Bearer ${token}` } };
    }),
  );
}

/** One out-of-band gateway report (often several lines: an error dump) as one JSON log line. */
function logLine(log: Logger): (line: string) => void {
  return (line) => log.warn('mcp gateway report', { report: line.replace(/^helm mcp gateway: /, '') });
}

/** The gateway's link to proxy decisions: open ALLOWs only (the gateway claims the one it uses). */
export function linkedDecisionOf(pep: Pep): LinkedDecision {
  return (q) => pep.allowedDecisionFor(q);
}

export async function mcpSurface(o: { pep: Pep; principal: Principal; upstreams: McpUpstreamConfig[]; metrics: SidecarMetrics; redact?: Redactor; log?: Logger; inProcess?: InProcessUpstream[] }): Promise<GovernedSurface & { close(): Promise<void>; upstreams(): Array<Record<string, unknown>> }> {
  const upstreams = await resolveUpstreamAuth(o.upstreams);
  // The auth tokens read from files are secrets too (header values include them).
  const redact = o.redact ?? new Redactor();
  redact.add(configuredSecrets({ mcpUpstreams: upstreams }));
  const gateway = await createMcpGateway({
    pep: o.pep,
    // The configured identity, never one from the request.
    principal: { id: o.principal.id, roles: [...o.principal.roles], attributes: { ...o.principal.attributes } },
    upstreams,
    redact,
    // The SDK's reports (rejected inbound requests, transport errors) become JSON log lines.
    ...(o.log ? { log: logLine(o.log) } : {}),
    observer: mcpObserver(o.metrics, o.log ? redactingLogger(o.log, redact) : undefined),
    // A call the OpenAI proxy allowed and the agent executes here continues that causal chain.
    linkedDecision: linkedDecisionOf(o.pep),
    ...(o.inProcess ? { inProcess: o.inProcess } : {}),
  });
  return {
    name: 'mcp',
    matches: (path) => MCP_PATHS.test(path),
    handle: async (req, res) => {
      // Calls made for a delegated A2A task are judged within the delegation (docs/spec/a2a.md §9).
      if (!(await forTask(o.pep, req, () => gateway.handle(req, res))) && !res.headersSent) {
        const body = JSON.stringify({ error: { code: 'not_found', message: `no MCP route ${req.url}` } });
        res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      }
    },
    drain: () => gateway.drain(),
    close: () => gateway.close(),
    upstreams: () => gateway.readiness(),
  };
}
