// The REST surface of the seeds: GET /mcp/v1/capabilities lists the tools this principal may call,
// with governance metadata; POST /mcp/v1/execute runs one governed call and answers with the
// verdict and its receipts (and the tool's result when it ran).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { governedCall } from './call.js';
import type { GatewayCore } from './core.js';
import type { DriftLedger } from './drift.js';
import { isJsonContentType, readBody, sendJson } from './http-io.js';
import { governedList, META_GOVERNANCE } from './list.js';
import { httpStatus, lastReceipt, refusalData, rpcCode } from './refusal.js';
import type { Upstream } from './upstream.js';

const EXECUTE_FIELDS = new Set(['tool', 'arguments', 'callId', 'idempotencyKey']);

export async function capabilities(core: GatewayCore, drifts: DriftLedger, upstreams: readonly Upstream[], res: ServerResponse): Promise<void> {
  const l = await governedList(core, drifts);
  const policy = core.pep.policy;
  sendJson(res, 200, {
    principal: core.principal.id,
    policy: policy.status === 'ready' ? { ready: true, policyDigest: policy.bundle.contentHash } : { ready: false, reasonCode: policy.reasonCode, policyDigest: policy.policyDigest },
    tools: l.tools.map(({ tool }) => {
      const { _meta, ...rest } = tool;
      return { ...rest, governance: (_meta as Record<string, unknown>)[META_GOVERNANCE] };
    }),
    upstreams: upstreams.map((u) => ({ name: u.name, transport: u.config.transport, state: u.state, restarts: u.restarts, ...(u.lastError ? { error: u.lastError } : {}) })),
  });
}

function badRequest(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { code: 'ERR_MCP_REST_REQUEST', message } });
}

export async function execute(core: GatewayCore, maxBytes: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!isJsonContentType(req)) return badRequest(res, 415, 'Content-Type must be application/json');
  const body = await readBody(req, maxBytes);
  if (!body.ok) return badRequest(res, body.status, body.message);
  let doc: unknown;
  try {
    doc = JSON.parse(body.text);
  } catch {
    return badRequest(res, 400, 'the body is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return badRequest(res, 400, 'the body must be an object {tool, arguments, callId?, idempotencyKey?}');
  const d = doc as Record<string, unknown>;
  const unknown = Object.keys(d).find((k) => !EXECUTE_FIELDS.has(k));
  if (unknown !== undefined) return badRequest(res, 400, `unknown field ${JSON.stringify(unknown)}`);
  if (typeof d.tool !== 'string' || d.tool.length === 0 || d.tool.length > 512) return badRequest(res, 400, 'tool must be a non-empty string');
  for (const k of ['callId', 'idempotencyKey'] as const) {
    if (d[k] !== undefined && (typeof d[k] !== 'string' || (d[k] as string).length === 0 || (d[k] as string).length > 256)) return badRequest(res, 400, `${k} must be a string of 1 to 256 characters`);
  }
  const out = await governedCall(core, {
    tool: d.tool,
    // Arguments that are not an object still reach the Guardian, which denies them with a receipt.
    args: d.arguments,
    method: 'rest/execute',
    ...(typeof d.callId === 'string' ? { callId: d.callId } : {}),
    ...(typeof d.idempotencyKey === 'string' ? { idempotencyKey: d.idempotencyKey } : {}),
  });
  if (!out.ok) {
    const r = out.refusal;
    sendJson(res, httpStatus(r), { ...refusalData(r), error: { code: rpcCode(r), message: r.message } }, r.retryAfterMs !== undefined ? { 'retry-after': String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))) } : {});
    return;
  }
  sendJson(res, 200, { verdict: 'ALLOW', reasonCode: out.reasonCode, callId: out.receipts.callId, receipt: lastReceipt(out.receipts), receipts: out.receipts, result: out.result });
}
