// Governance of a response, typed: the X-Helm-* headers and `helm` body field of the OpenAI proxy,
// the `[HELM]` lines an agent reads in place of a call it did not receive, and the MCP gateway's
// `_meta` / JSON-RPC error data. Formats: docs/sidecar.md, sidecar/openai/summary.ts, docs/mcp-gateway.md.

export type Verdict = 'ALLOW' | 'DENY' | 'ESCALATE';
const VERDICTS: readonly string[] = ['ALLOW', 'DENY', 'ESCALATE'];

/** The approval ceremony an ESCALATE opened (GET /v1/approvals/{nonce} returns the same). */
export interface Challenge {
  nonce: string;
  decision: string;
  policyDigest?: string;
  approval: string;
  approvers: string[];
  quorum: number;
  notBefore: string;
  expiresAt: string;
}

/** One tool call's decision. Fields other than toolCallId, verdict and reasonCode are null when the source does not carry them (headers carry only those three). */
export interface CallGovernance {
  toolCallId: string | null;
  callId: string | null;
  tool: string | null;
  verdict: Verdict;
  reasonCode: string;
  /** Entry hash of the decision receipt (sha256:…), verifiable offline. */
  receiptId: string | null;
  intentId: string | null;
  delivered: boolean | null;
  detail: string | null;
  approval: Challenge | null;
  retryAfterMs: number | null;
}

export interface Governance {
  /** The strictest verdict of the response (X-Helm-Decision); null: no tool call was governed. */
  verdict: Verdict | null;
  reasonCode: string | null;
  receiptId: string | null;
  /** Nonce of the approval ceremony (X-Helm-Approval-Id). */
  approvalId: string | null;
  calls: CallGovernance[];
  /** Tools the proxy took out of the request's tools[] (name, verdict, reason). */
  toolsRemoved: Array<{ tool: string; verdict: Verdict; reasonCode: string }>;
  /** The header lists stop at 32 entries; the body field has them all. */
  truncated: boolean;
}

export class GovernanceFormatError extends Error {
  readonly code = 'ERR_GOVERNANCE_MALFORMED';
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(h: HeaderSource, name: string): string | null {
  if (typeof (h as Headers).get === 'function') return (h as Headers).get(name);
  const rec = h as Record<string, string | string[] | undefined>;
  const key = Object.keys(rec).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : rec[key];
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
}

function verdictOf(v: unknown, field: string): Verdict {
  if (typeof v !== 'string' || !VERDICTS.includes(v)) throw new GovernanceFormatError(`${field}: ${JSON.stringify(v)} is not ALLOW, DENY or ESCALATE`);
  return v as Verdict;
}

/** `id=VERDICT:REASON, …` (ids URI-encoded; a trailing `...` when cut at 32). */
export function parseDecisionList(value: string): { entries: Array<{ key: string; verdict: Verdict; reasonCode: string }>; truncated: boolean } {
  const parts = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const truncated = parts.at(-1) === '...';
  const entries = (truncated ? parts.slice(0, -1) : parts).map((p) => {
    const m = /^([^=]*)=([A-Z]+):([A-Z0-9_]+)$/.exec(p);
    if (!m) throw new GovernanceFormatError(`X-Helm-Decisions: ${JSON.stringify(p)} is not id=VERDICT:REASON_CODE`);
    return { key: decodeURIComponent(m[1]!), verdict: verdictOf(m[2], 'X-Helm-Decisions'), reasonCode: m[3]! };
  });
  return { entries, truncated };
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function callFromView(v: Record<string, unknown>): CallGovernance {
  return {
    toolCallId: str(v.toolCallId),
    callId: str(v.callId),
    tool: str(v.tool),
    verdict: verdictOf(v.verdict, 'helm.decisions[].verdict'),
    reasonCode: String(v.reasonCode),
    receiptId: str(v.receiptId),
    intentId: str(v.intentId),
    delivered: typeof v.delivered === 'boolean' ? v.delivered : null,
    detail: str(v.detail),
    approval: typeof v.approval === 'object' && v.approval !== null ? (v.approval as Challenge) : null,
    retryAfterMs: typeof v.retryAfterMs === 'number' ? v.retryAfterMs : null,
  };
}

/** The `helm` field of a completion body, of an error object, or of a stream's last chunk. */
export function helmField(body: unknown): Record<string, unknown> | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as { helm?: unknown; error?: { helm?: unknown } };
  const h = b.helm ?? b.error?.helm;
  return typeof h === 'object' && h !== null ? (h as Record<string, unknown>) : null;
}

/**
 * The governance of one proxied chat completion, from its headers and (when given) its parsed
 * JSON body. The body's `helm` field is complete; headers alone give verdicts and reasons only.
 */
export function readGovernance(headers: HeaderSource, body?: unknown): Governance {
  const verdictText = header(headers, 'x-helm-decision');
  const list = header(headers, 'x-helm-decisions');
  const removed = header(headers, 'x-helm-tools-removed');
  const fromHeaders = list === null ? { entries: [], truncated: false } : parseDecisionList(list);
  const helm = helmField(body);
  const views = Array.isArray(helm?.decisions) ? (helm!.decisions as Record<string, unknown>[]) : null;
  const calls = views
    ? views.map(callFromView)
    : fromHeaders.entries.map((e) => ({ toolCallId: e.key, callId: null, tool: null, verdict: e.verdict, reasonCode: e.reasonCode, receiptId: null, intentId: null, delivered: null, detail: null, approval: null, retryAfterMs: null }));
  const removedViews = Array.isArray(helm?.toolsRemoved) ? (helm!.toolsRemoved as Record<string, unknown>[]) : null;
  const toolsRemoved = removedViews
    ? removedViews.map((v) => ({ tool: String(v.tool), verdict: verdictOf(v.verdict, 'helm.toolsRemoved[].verdict'), reasonCode: String(v.reasonCode) }))
    : removed === null
      ? []
      : parseDecisionList(removed).entries.map((e) => ({ tool: e.key, verdict: e.verdict, reasonCode: e.reasonCode }));
  return {
    verdict: verdictText === null ? null : verdictOf(verdictText, 'X-Helm-Decision'),
    reasonCode: header(headers, 'x-helm-reason-code'),
    receiptId: header(headers, 'x-helm-receipt-id'),
    approvalId: header(headers, 'x-helm-approval-id'),
    calls,
    toolsRemoved,
    truncated: views ? false : fromHeaders.truncated,
  };
}

/** One `[HELM]` line: what the agent read in place of a call it did not receive. */
export interface HelmNotice {
  tool: string;
  toolCallId: string | null;
  verdict: Verdict;
  reasonCode: string;
  /** refused: by the proxy (envelope, ids, limits); blocked: by policy; approval: needs approval. */
  kind: 'refused' | 'blocked' | 'approval';
  receiptId: string | null;
  approvalId: string | null;
  decision: string | null;
  text: string;
}

const Q = '"((?:[^"\\\\]|\\\\.)*)"';
const NOTICE = new RegExp(`^\\[HELM\\] The tool call ${Q}(?: \\(id ${Q}\\))? (needs approval ${Q} \\(\\d+ of \\d+ approvers\\) before it can run|needs an approval before it can run|was refused by the proxy|was blocked by policy): (ALLOW|DENY|ESCALATE) ([A-Z0-9_]+)\\.`);

function unescapeVisible(s: string): string {
  return s.replace(/\\u\{([0-9a-f]+)\}|\\(["\\])/g, (_m, hex: string | undefined, ch: string | undefined) => (hex !== undefined ? String.fromCodePoint(parseInt(hex, 16)) : ch!));
}

/** Every `[HELM]` line of a message's content (other lines are ignored). */
export function parseHelmContent(content: string): HelmNotice[] {
  const out: HelmNotice[] = [];
  for (const line of content.split('\n')) {
    const m = NOTICE.exec(line);
    if (!m) continue;
    const how = m[3]!;
    const receipt = / Receipt: (sha256:[0-9a-f]{64})\.$/.exec(line);
    const approval = / Approval id ([A-Za-z0-9_-]+), decision (sha256:[0-9a-f]{64});/.exec(line);
    out.push({
      tool: unescapeVisible(m[1]!),
      toolCallId: m[2] === undefined ? null : unescapeVisible(m[2]),
      verdict: verdictOf(m[5], '[HELM] verdict'),
      reasonCode: m[6]!,
      kind: how.startsWith('needs') ? 'approval' : how.includes('proxy') ? 'refused' : 'blocked',
      receiptId: receipt ? receipt[1]! : null,
      approvalId: approval ? approval[1]! : null,
      decision: approval ? approval[2]! : null,
      text: line,
    });
  }
  return out;
}

export const META_RECEIPT = 'helm.mindburn.org/receipt';
export const META_GOVERNANCE = 'helm.mindburn.org/governance';
export const RPC_DENIED = -32060;
export const RPC_APPROVAL_PENDING = -32061;
export const RPC_UNAVAILABLE = -32062;

export interface McpReceipts {
  callId: string;
  intent?: string;
  decision?: string;
  effect?: string;
  result?: string;
}

/** The governance of an MCP tools/call: from a result's `_meta`, or from a refusal's JSON-RPC error. */
export interface McpCallGovernance {
  verdict: Verdict;
  reasonCode: string;
  receipts: McpReceipts;
  /** The most specific receipt (result, effect, decision, intent). */
  receipt: string | null;
  refusal: null | { code: number; kind: 'denied' | 'approval-pending' | 'unavailable'; message: string; failure: string | null; challenge: Challenge | null; retryAfterMs: number | null };
}

const lastOf = (r: McpReceipts): string | null => r.result ?? r.effect ?? r.decision ?? r.intent ?? null;

/** A CallToolResult's `_meta` receipt (an executed call); null when it has none. */
export function mcpResultGovernance(result: { _meta?: Record<string, unknown>; [field: string]: unknown }): McpCallGovernance | null {
  const m = result._meta?.[META_RECEIPT] as (McpReceipts & { verdict?: unknown; reasonCode?: unknown }) | undefined;
  if (!m) return null;
  const { verdict, reasonCode, ...receipts } = m;
  return { verdict: verdictOf(verdict, `_meta["${META_RECEIPT}"].verdict`), reasonCode: String(reasonCode), receipts: receipts as McpReceipts, receipt: lastOf(receipts as McpReceipts), refusal: null };
}

/** A JSON-RPC error of the gateway (codes -32060..-32062); null for any other error. */
export function mcpErrorGovernance(error: { code: number; message: string; data?: unknown }): McpCallGovernance | null {
  const kind = error.code === RPC_DENIED ? 'denied' : error.code === RPC_APPROVAL_PENDING ? 'approval-pending' : error.code === RPC_UNAVAILABLE ? 'unavailable' : null;
  if (kind === null || typeof error.data !== 'object' || error.data === null) return null;
  const d = error.data as Record<string, unknown>;
  const receipts = (d.receipts ?? { callId: String(d.callId ?? '') }) as McpReceipts;
  return {
    verdict: verdictOf(d.verdict, 'error.data.verdict'),
    reasonCode: String(d.reasonCode),
    receipts,
    receipt: str(d.receipt) ?? lastOf(receipts),
    refusal: { code: error.code, kind, message: error.message, failure: str(d.failure), challenge: (d.challenge as Challenge | undefined) ?? null, retryAfterMs: typeof d.retryAfterMs === 'number' ? d.retryAfterMs : null },
  };
}

/** How the gateway governs a listed tool (tools/list `_meta`). */
export interface McpToolGovernance {
  upstream: string;
  upstreamTool: string;
  domain: string;
  sideEffect: string;
  approval: string | null;
  pinned: boolean;
  definitionHash: string;
  conditions: unknown;
}

export function mcpToolGovernance(tool: { _meta?: Record<string, unknown>; [field: string]: unknown }): McpToolGovernance | null {
  const g = tool._meta?.[META_GOVERNANCE];
  return typeof g === 'object' && g !== null ? (g as McpToolGovernance) : null;
}
