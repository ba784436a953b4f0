// Inbound A2A: the sidecar fronts this agent's A2A server at /a2a/in. It serves the agent's card
// (its interface rewritten to this route) signed with this sidecar's A2A key, and judges every
// JSON-RPC call: who is calling (the Ed25519 request signature, never a header it could set),
// freshness and replay, the skill against the caller's grant and the delegation token's scope,
// and message limits. The decision cites the caller's decision as a cross-log parent. An ALLOW is
// forwarded to the agent with HELM's metadata set by the sidecar alone (caller, verified token).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AGENT_CARD_PATH } from '@a2a-js/sdk';
import { signCard } from '../../kernel/a2a/card.js';
import { authenticateRequest, AUTH_HEADER, bodyDigest, readSignedRequest, SIGNATURE_HEADER, type SignedRequest } from '../../kernel/a2a/request-auth.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { A2A_RECEIVE, judgeA2a } from '../../kernel/guardian/a2a-evaluate.js';
import type { CompiledBundle } from '../../kernel/guardian/compile.js';
import { canonicalDecisionInput, formatInstant } from '../../kernel/guardian/decision-input.js';
import type { AppendedNode } from '../../kernel/proofgraph/graph-writer.js';
import { TASK_METHODS, type CompiledA2a } from '../../kernel/guardian/a2a-policy.js';
import { bundleInForce, callId, fetchJson, noteTasks, settleEffect, taskSeen, verdictOf, type A2aContext } from './context.js';
import { jsonAnswer, readBody, relay, rpcError } from './http.js';
import { decisionRef, forwardHeaders, tooLarge } from './outbound.js';
import { CALLER_KEY, DELEGATION_KEY, readRpc, TASK_KEY, withVerifiedMetadata } from './rpc.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** GET /a2a/in/.well-known/agent-card.json: the agent's card, re-pointed here and signed. */
export async function inboundCard(ctx: A2aContext, agentUrl: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const card = await ownCard(ctx, agentUrl);
  if (!card) return jsonAnswer(res, 502, { error: { code: 'agent_unavailable', message: `the agent's card could not be fetched from ${agentUrl}` } });
  const { signatures: _s, ...rest } = card;
  const interfaces = Array.isArray(card.supportedInterfaces) ? card.supportedInterfaces.filter(isObj) : [];
  const jsonrpc = interfaces.find((i) => i.protocolBinding === 'JSONRPC') ?? { protocolBinding: 'JSONRPC', protocolVersion: '1.0' };
  jsonAnswer(res, 200, signCard({ ...rest, supportedInterfaces: [{ ...jsonrpc, url: `http://${req.headers.host ?? 'localhost'}/a2a/in` }] }, ctx.key));
}

/** How long the agent's own card is kept before it is read again. */
const OWN_CARD_TTL_MS = 60_000;

/** The agent's own card: read once and kept for a minute (or until the agent fails to answer). */
async function ownCard(ctx: A2aContext, agentUrl: string): Promise<Record<string, unknown> | null> {
  const now = ctx.pep.now();
  const kept = ctx.ownCard;
  if (kept && now - kept.atMs < OWN_CARD_TTL_MS) return kept.card;
  const card = await fetchJson(`${agentUrl}/${AGENT_CARD_PATH}`, ctx.fetchTimeoutMs);
  ctx.ownCard = card ? { card, atMs: now } : null;
  return card;
}

/** What the sidecar observes with state: replay (nonce store) and calls made under the token. */
function observe(ctx: A2aContext, a2a: CompiledA2a | null, r: SignedRequest | null): { replayed: boolean; uses: number; jti: string | null; caller: string | null } {
  if (!a2a || !r) return { replayed: false, uses: 0, jti: null, caller: null };
  const trust = {
    caller: (h: string) => {
      const c = a2a.callerByKey.get(h);
      const key = c?.keys.find((k) => k.handle === h);
      return c && key ? { id: c.id, key } : null;
    },
    revoked: a2a.revoked,
    self: ctx.key.verifier.handle,
    nowMs: ctx.pep.now(),
    maxSkewMs: a2a.limits.maxSkewSeconds * 1000,
    suite: nodeSuite,
  };
  const v = authenticateRequest(r, trust, ctx.nonces);
  const jti = isObj(r.auth.delegation) && typeof r.auth.delegation.jti === 'string' ? r.auth.delegation.jti : null;
  // Reserved now, in the same tick, so concurrent calls under one token see each other's use;
  // given back when the call is not allowed.
  const uses = jti ? ctx.ledger.reserve(jti, expOf(r, ctx.pep.now()), ctx.pep.now()) : 0;
  return { replayed: !v.ok && v.code === 'A2A_REQUEST_REPLAYED', uses, jti, caller: v.ok ? v.caller : null };
}

/** How long a token's uses must be remembered: its exp (a day when it has none readable; it is denied then anyway). */
function expOf(r: SignedRequest, nowMs: number): number {
  const exp = isObj(r.auth.delegation) && typeof r.auth.delegation.exp === 'string' ? Date.parse(r.auth.delegation.exp) : NaN;
  return Number.isFinite(exp) ? exp : nowMs + 86_400_000;
}

/** POST /a2a/in: one governed call from a remote agent. */
export async function inboundCall(ctx: A2aContext, agentUrl: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { bytes, over } = await readBody(req, ctx.maxBodyBytes);
  const call = readRpc(bytes);
  const path = (req.url ?? '/a2a/in').split('?', 1)[0]!;
  const digest = bodyDigest(nodeSuite, bytes);
  const read = readSignedRequest('POST', path, digest, req.headers[AUTH_HEADER], req.headers[SIGNATURE_HEADER]);
  const signed = read.ok ? read.request : null;
  const b = bundleInForce(ctx.pep);
  const seen = observe(ctx, b?.a2a ?? null, signed);
  // Write-ahead (docs/spec/a2a.md §3): the nonce and the use are on disk before the call is
  // decided, or the call is denied (a restart could otherwise forget them).
  const durable = await Promise.all([ctx.nonceJournal?.durable(), ctx.ledger.durable()]).then(
    () => true,
    () => false,
  );
  const request = {
    callId: callId(),
    surface: 'rest',
    // Recorded as the key the request claims; the evaluation authenticates it.
    principal: { id: signed?.auth.keyid ?? 'a2a:unsigned' },
    tool: A2A_RECEIVE,
    args: {
      skill: call?.skill ?? null,
      method: call?.method ?? '(not JSON-RPC)',
      message: { bytes: over ? ctx.maxBodyBytes + 1 : bytes.length, parts: call?.parts ?? 0 },
      request: signed ? { ...signed } : { method: 'POST', path, bodyDigest: digest, auth: null, signature: '' },
      task: taskSeen(ctx, 'in', seen.caller, call?.taskId ?? null),
    },
    context: { a2a: { self: ctx.key.verifier.handle, replayed: durable ? seen.replayed : null, delegationUses: durable ? seen.uses : null } },
  };
  // Only an authenticated caller's decision is cited: nobody else can name our parents.
  const causes = seen.caller !== null && signed?.auth.parent ? [signed.auth.parent] : [];
  const o = await ctx.pep.decide(request, { causes });
  const v = verdictOf(o);
  if (o.verdict !== 'ALLOW' || !o.decision || !call || !b || !signed) {
    if (seen.jti !== null) ctx.ledger.release(seen.jti);
    return rpcError(res, call?.id ?? null, v, o.recorded ? 200 : 503);
  }
  const token = signed.auth.delegation;

  const card = await ownCard(ctx, agentUrl);
  const interfaces = card && Array.isArray(card.supportedInterfaces) ? card.supportedInterfaces.filter(isObj) : [];
  const target = interfaces.find((i) => i.protocolBinding === 'JSONRPC')?.url;
  if (typeof target !== 'string') {
    await ctx.pep.recordEffect(o.decision.entryHash, { status: 'failed', error: 'the agent card names no JSON-RPC interface' });
    return rpcError(res, call.id, { ...v, detail: 'allowed, but the agent card names no JSON-RPC interface' }, 502);
  }
  // The task id the agent names on the tool calls it makes for this task (docs/spec/a2a.md §9).
  bindTask(ctx, b, request, o.decision, seen.caller!, seen.jti, expOf(signed, ctx.pep.now()));
  const body = withVerifiedMetadata(call.body, call.method === 'GetTask' ? null : { [CALLER_KEY]: seen.caller, [DELEGATION_KEY]: token ?? null, [TASK_KEY]: o.decision.entryHash });
  let up: Response;
  try {
    up = await fetch(target, { method: 'POST', body, headers: { 'content-type': 'application/json', ...forwardHeaders(req) }, signal: AbortSignal.timeout(ctx.fetchTimeoutMs) });
  } catch (e) {
    // The agent may have moved: read its card again next time.
    ctx.ownCard = null;
    await ctx.pep.recordEffect(o.decision.entryHash, { status: 'failed', error: `the agent did not answer: ${(e as Error).message}` });
    return rpcError(res, call.id, { ...v, detail: `allowed, but the agent did not answer: ${(e as Error).message}` }, 502);
  }
  await relay(up, res, call.id, noteTasks(ctx, 'in', seen.caller!, TASK_METHODS.includes(call.method) ? null : call.skill, tooLarge(b.a2a.limits.maxMessageBytes, v.decision)), { 'x-helm-decision': 'ALLOW', 'x-helm-reason-code': o.reasonCode, 'x-helm-decision-hash': o.decision.entryHash }, settleEffect(ctx, o.decision.entryHash));
}

/**
 * Records what the tool calls made for an accepted task may use: the effective scope the
 * Guardian allowed under (re-judged on the same input; the token's tools within the caller's
 * grant) and the token's whole budget, spent through the ledger. A task that cannot be re-judged
 * gets no binding, so calls naming it are denied A2A_TASK_UNKNOWN.
 */
function bindTask(ctx: A2aContext, b: { bundle: CompiledBundle }, request: Record<string, unknown>, decision: AppendedNode, caller: string, jti: string | null, expMs: number): void {
  const canon = canonicalDecisionInput({ ...request, time: formatInstant(ctx.pep.now()), policyDigest: b.bundle.contentHash, state: { budgets: {}, rates: {} } });
  if (!canon.ok) return;
  const input = { ...canon.input, context: { ...canon.input.context, a2a: { ...(canon.input.context.a2a as object), delegationUses: 0 } } };
  const j = judgeA2a(b.bundle, input);
  if (!j.ok || !j.effective) return;
  ctx.ledger.bind(decision.entryHash, { decision: decisionRef(decision), caller, jti, expMs, tools: [...j.effective.tools], budget: jti === null ? null : j.effective.budget });
}
