// Outbound A2A: the agent's A2A client points at /a2a/out/<agent>. The sidecar serves the remote
// agent's card (its interface rewritten to this route), and judges every JSON-RPC call: the remote
// agent and skill, the method, the message size and parts, the remote card's signature against
// the bundle's card keys, and any delegation the agent asks to hand on. An ALLOW is forwarded
// byte for byte, signed with this agent's A2A key and carrying this decision as the callee's
// causal parent (and the delegation token minted under it); a stream is relayed event by event.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AGENT_CARD_PATH } from '@a2a-js/sdk';
import { toB64u } from '../../kernel/a2a/b64url.js';
import { verifyCard } from '../../kernel/a2a/card.js';
import { mintDelegation, type DecisionRef, type DelegationToken } from '../../kernel/a2a/delegation.js';
import { bodyDigest, signRequest, type RequestAuth } from '../../kernel/a2a/request-auth.js';
import { readScope } from '../../kernel/a2a/scope.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { A2A_SEND, judgeA2a } from '../../kernel/guardian/a2a-evaluate.js';
import { TASK_METHODS } from '../../kernel/guardian/a2a-policy.js';
import { canonicalDecisionInput, formatInstant } from '../../kernel/guardian/decision-input.js';
import type { AppendedNode } from '../../kernel/proofgraph/graph-writer.js';
import { bundleInForce, callId, fetchJson, noteTasks, settleEffect, taskSeen, verdictOf, type A2aContext } from './context.js';
import { jsonAnswer, readBody, relay, rpcError, type Verdict } from './http.js';
import { readRpc } from './rpc.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function decisionRef(n: AppendedNode): DecisionRef {
  return { origin: n.origin, index: n.index, hash: n.entryHash, lamport: n.lamport };
}

/** GET /a2a/out/<agent>/.well-known/agent-card.json: the remote card, its interface pointing here. */
export async function outboundCard(ctx: A2aContext, agent: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const b = bundleInForce(ctx.pep);
  const declared = b?.a2a.agents.get(agent);
  if (!b || !declared) return jsonAnswer(res, 404, { error: { code: 'A2A_AGENT_NOT_ALLOWED', message: `agent ${agent} is not declared in the bundle's a2a.agents` } });
  const card = await fetchJson(`${declared.url}/${AGENT_CARD_PATH}`, ctx.fetchTimeoutMs);
  if (!card) return jsonAnswer(res, 502, { error: { code: 'A2A_CARD_UNTRUSTED', message: `the card of agent ${agent} could not be fetched from ${declared.url}` } });
  const v = verifyCard(card, { keys: declared.cardKeys, revoked: b.a2a.revoked }, nodeSuite);
  const here = `http://${req.headers.host ?? 'localhost'}/a2a/out/${encodeURIComponent(agent)}`;
  const { signatures: _s, ...rest } = card;
  const interfaces = Array.isArray(card.supportedInterfaces) ? card.supportedInterfaces.filter(isObj) : [];
  const jsonrpc = interfaces.find((i) => i.protocolBinding === 'JSONRPC') ?? { protocolBinding: 'JSONRPC', protocolVersion: '1.0' };
  // The agent's client trusts its own sidecar; whether the remote card verified is said here and
  // decided again, with a receipt, on every call.
  jsonAnswer(res, 200, { ...rest, supportedInterfaces: [{ ...jsonrpc, url: here }] }, { 'x-helm-card-verified': v.ok ? 'true' : 'false', ...(v.ok ? {} : { 'x-helm-reason-code': v.code }) });
}

/** POST /a2a/out/<agent>: one governed JSON-RPC call to a remote agent. */
export async function outboundCall(ctx: A2aContext, agent: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { bytes, over } = await readBody(req, ctx.maxBodyBytes);
  const call = readRpc(bytes);
  const b = bundleInForce(ctx.pep);
  const declared = b?.a2a.agents.get(agent);
  const card = declared ? await fetchJson(`${declared.url}/${AGENT_CARD_PATH}`, ctx.fetchTimeoutMs) : null;
  const delegate = call?.delegate ?? null;
  const delegation = delegate === null ? null : isObj(delegate) ? { scope: delegate.scope ?? null, ttlSeconds: delegate.ttlSeconds ?? null, onBehalfOf: call?.onBehalfOf ?? null } : delegate;
  const request = {
    callId: callId(),
    surface: 'rest',
    principal: { id: ctx.principal.id, roles: [...ctx.principal.roles], attributes: { ...ctx.principal.attributes } },
    tool: A2A_SEND,
    args: {
      agent,
      skill: call?.skill ?? null,
      method: call?.method ?? '(not JSON-RPC)',
      message: { bytes: over ? ctx.maxBodyBytes + 1 : bytes.length, parts: call?.parts ?? 0 },
      card,
      delegation,
      task: taskSeen(ctx, 'out', agent, call?.taskId ?? null),
    },
    context: { a2a: { self: ctx.key.verifier.handle } },
  };
  // Acting on behalf of a token this agent received: the call follows from the task it came with.
  const jti = isObj(call?.onBehalfOf) ? call.onBehalfOf.jti : undefined;
  const task = typeof jti === 'string' ? ctx.ledger.taskOf(jti) : undefined;
  const o = await ctx.pep.decide(request, task ? { follows: [task.decision.hash] } : {});
  const v = verdictOf(o);
  if (o.verdict !== 'ALLOW' || !o.decision || !b || !declared || !call || !card) return rpcError(res, call?.id ?? null, v, o.recorded ? 200 : 503);

  // What the evaluation allowed under: the card signer (the audience) and the grant.
  const kid = verifyCard(card, { keys: declared.cardKeys, revoked: b.a2a.revoked }, nodeSuite);
  let token: DelegationToken | null = null;
  if (isObj(delegation)) {
    const canon = canonicalDecisionInput({ ...request, time: formatInstant(ctx.pep.now()), policyDigest: b.bundle.contentHash, state: { budgets: {}, rates: {} } });
    const j = canon.ok ? judgeA2a(b.bundle, canon.input) : null;
    const scope = readScope(delegation.scope, 'scope');
    if (!kid.ok || !j?.ok || !j.grant || typeof scope === 'string') return blocked(ctx, res, call.id, o.decision.entryHash, v, 'the delegation could not be minted under the grant that allowed it');
    token = mintDelegation({
      signer: ctx.key,
      aud: kid.kid,
      sub: ctx.principal.id,
      scope,
      nowMs: ctx.pep.now(),
      ttlSeconds: delegation.ttlSeconds as number,
      grant: { id: j.grant.id, policyDigest: b.bundle.contentHash },
      decision: decisionRef(o.decision),
      parent: isObj(delegation.onBehalfOf) ? (delegation.onBehalfOf as unknown as DelegationToken) : null,
      jti: ctx.random(16),
    });
  }
  if (!kid.ok) return blocked(ctx, res, call.id, o.decision.entryHash, v, 'the card no longer verifies');
  const target = new URL(declared.url);
  const auth: RequestAuth = { keyid: ctx.key.verifier.handle, aud: kid.kid, ts: formatInstant(ctx.pep.now()), nonce: toB64u(ctx.random(16)), parent: decisionRef(o.decision), delegation: token };
  const signed = signRequest(ctx.key, 'POST', target.pathname, bodyDigest(nodeSuite, bytes), auth);
  let up: Response;
  try {
    up = await fetch(target, { method: 'POST', body: bytes, headers: { 'content-type': 'application/json', ...forwardHeaders(req), ...signed }, signal: AbortSignal.timeout(ctx.fetchTimeoutMs) });
  } catch (e) {
    await ctx.pep.recordEffect(o.decision.entryHash, { status: 'failed', error: `the remote agent did not answer: ${(e as Error).message}` });
    return rpcError(res, call.id, { ...v, detail: `allowed, but the remote agent did not answer: ${(e as Error).message}` }, 502);
  }
  await relay(up, res, call.id, noteTasks(ctx, 'out', agent, TASK_METHODS.includes(call.method) ? null : call.skill, tooLarge(b.a2a.limits.maxMessageBytes, v.decision)), { 'x-helm-decision': 'ALLOW', 'x-helm-reason-code': o.reasonCode, 'x-helm-decision-hash': o.decision.entryHash }, settleEffect(ctx, o.decision.entryHash));
}

/** Relay check: an answer event larger than the message limit cuts the answer (receipted as a failed effect). */
export function tooLarge(max: number, decision: string | null): (event: string) => Verdict | null {
  return (event) => (Buffer.byteLength(event) > max ? { verdict: 'DENY', reasonCode: 'A2A_MESSAGE_TOO_LARGE', decision, detail: `an answer event of ${Buffer.byteLength(event)} bytes exceeds a2a.limits.maxMessageBytes ${max}` } : null);
}

/** A2A protocol headers the agent's client sends that the remote server needs. */
export function forwardHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of ['a2a-version', 'a2a-extensions', 'accept']) {
    const v = req.headers[h];
    if (typeof v === 'string') out[h] = v;
  }
  return out;
}

async function blocked(ctx: A2aContext, res: ServerResponse, id: string | number | null, decision: `sha256:${string}`, v: Verdict, why: string): Promise<void> {
  await ctx.pep.recordEffect(decision, { status: 'blocked', error: why });
  ctx.log.warn('A2A call allowed but not forwarded', { decision, why });
  rpcError(res, id, { ...v, detail: `allowed, but not forwarded: ${why}` }, 500);
}

