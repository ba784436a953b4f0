// The REST surface of the seeds: GET /mcp/v1/capabilities lists the tools this principal may call,
// with governance metadata; POST /mcp/v1/execute runs one governed call and answers with the
// verdict and its receipts (and the tool's result when it ran).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { governedCall } from './call.js';
import type { GatewayCore } from './core.js';
import type { DriftLedger } from './drift.js';
import { refusalCodeOf } from '../../kernel/json/codes.js';
import { parseStrictJson } from '../../kernel/json/index.js';
import { isJsonContentType, readBodyBytes, sendJson } from './http-io.js';
import { inProcessTools } from './in-process.js';
import { governedList, META_GOVERNANCE } from './list.js';
import { httpStatus, lastReceipt, refusalData, refusalMessage, rpcCode } from './refusal.js';
import { judgedArguments, type ScreenRefusal } from './screen.js';
import type { Upstream } from './upstream.js';

const EXECUTE_FIELDS = new Set(['tool', 'arguments', 'callId', 'idempotencyKey']);

export async function capabilities(core: GatewayCore, drifts: DriftLedger, upstreams: readonly Upstream[], res: ServerResponse): Promise<void> {
  const l = await governedList(core, drifts);
  const policy = core.pep.policy;
  sendJson(res, 200, {
    principal: core.principal.id,
    policy: policy.status === 'ready' ? { ready: true, policyDigest: policy.bundle.contentHash } : { ready: false, reasonCode: policy.reasonCode, policyDigest: policy.policyDigest },
    tools: [...l.tools.map(({ tool }) => tool), ...inProcessTools(core)].map((tool) => {
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
  const body = await readBodyBytes(req, maxBytes);
  if (!body.ok) return badRequest(res, body.status, body.message);
  // Strict JSON: what the body says is unambiguous, or the call is refused with a receipt.
  let doc: unknown;
  let screened: ScreenRefusal | null = null;
  const strict = parseStrictJson(body.bytes, { maxLength: maxBytes, maxDepth: 128 });
  if (strict.ok) doc = strict.value;
  else {
    const code = refusalCodeOf(strict.error.code);
    try {
      // Only to find the tool it names (V8's JSON.parse does not recurse); nothing else is read.
      const lenient = JSON.parse(new TextDecoder('utf-8').decode(body.bytes)) as unknown;
      const tool = typeof lenient === 'object' && lenient !== null ? (lenient as Record<string, unknown>).tool : undefined;
      if (code === null || typeof tool !== 'string') throw new Error('no tool');
      doc = { tool, arguments: {} };
      screened = { reasonCode: code, detail: `the body is refused: ${strict.error.message} (at ${strict.error.path || '/'})` };
    } catch {
      return badRequest(res, 400, `the body is not strict JSON: ${strict.error.message} (at ${strict.error.path || '/'})`);
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return badRequest(res, 400, 'the body must be an object {tool, arguments, callId?, idempotencyKey?}');
  const d = doc as Record<string, unknown>;
  const unknown = Object.keys(d).find((k) => !EXECUTE_FIELDS.has(k));
  if (unknown !== undefined) return badRequest(res, 400, `unknown field ${JSON.stringify(unknown)}`);
  if (typeof d.tool !== 'string' || d.tool.length === 0 || d.tool.length > 512) return badRequest(res, 400, 'tool must be a non-empty string');
  for (const k of ['callId', 'idempotencyKey'] as const) {
    if (d[k] !== undefined && (typeof d[k] !== 'string' || (d[k] as string).length === 0 || (d[k] as string).length > 256)) return badRequest(res, 400, `${k} must be a string of 1 to 256 characters`);
  }
  const judged = screened ? { refusal: screened } : judgedArguments(undefined, d.arguments);
  const out = await governedCall(core, {
    tool: d.tool,
    // Arguments that are not an object still reach the Guardian, which denies them with a receipt;
    // allowed ones reach the upstream in canonical form (what was judged).
    args: 'refusal' in judged ? `refused by the MCP gateway: ${judged.refusal.detail}` : judged.args,
    ...('refusal' in judged ? { refusal: judged.refusal } : {}),
    method: 'rest/execute',
    ...(typeof d.callId === 'string' ? { callId: d.callId } : {}),
    ...(typeof d.idempotencyKey === 'string' ? { idempotencyKey: d.idempotencyKey } : {}),
  });
  if (!out.ok) {
    const r = out.refusal;
    sendJson(res, httpStatus(r), { ...refusalData(r), error: { code: rpcCode(r), message: refusalMessage(r) } }, r.retryAfterMs !== undefined ? { 'retry-after': String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))) } : {});
    return;
  }
  sendJson(res, 200, { verdict: 'ALLOW', reasonCode: out.reasonCode, callId: out.receipts.callId, receipt: lastReceipt(out.receipts), receipts: out.receipts, result: out.result });
}
