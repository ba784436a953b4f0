// The Guardian's judgement of A2A calls (a2a.send, a2a.receive) as a pure function of bundle and
// DecisionInput, with hostile and edge inputs: what the sidecars rely on, and what replay re-runs.
import { describe, expect, test } from '@jest/globals';
import { toB64u } from '../../kernel/a2a/b64url.js';
import { signCard } from '../../kernel/a2a/card.js';
import { mintDelegation, type DecisionRef, type DelegationToken } from '../../kernel/a2a/delegation.js';
import { bodyDigest, readSignedRequest, signRequest, type RequestAuth } from '../../kernel/a2a/request-auth.js';
import { utf8 } from '../../kernel/crypto/bytes.js';
import { nodeSuite as suite } from '../../kernel/crypto/node.js';
import { compileBundle, evaluate, policyFromCompiled, type PolicyBundleDoc } from '../../kernel/guardian/index.js';
import type { A2aPolicyDoc } from '../../kernel/guardian/a2a-policy.js';
import { testKey } from '../evidence/fixtures.js';
import { compiled, exampleDoc, freshState } from '../guardian/helpers.js';

const me = testKey('a2a-me');
const remote = testKey('a2a-remote');
const upstream = testKey('a2a-upstream');
const T = Date.parse('2026-12-03T12:00:00.000Z');
const ref: DecisionRef = { origin: 'helm.test/x', index: 3, hash: `sha256:${'ab'.repeat(32)}`, lamport: 4 };

const section = (patch: Partial<A2aPolicyDoc> = {}): A2aPolicyDoc => ({
  agents: { remote: { url: 'http://remote.example/a2a/in', cardKeys: [remote.verifier.vkey] } },
  outbound: [{ id: 'out', principals: { ids: ['agent:me'] }, agents: ['remote'], skills: ['summarize'], delegate: { skills: ['summarize'], tools: ['crm.*'], maxBudget: 3, maxTtlSeconds: 600 } }],
  inbound: { callers: [{ id: 'remote', keys: [remote.verifier.vkey], skills: ['summarize'], tools: ['crm.lookup_customer'] }] },
  delegators: [upstream.verifier.vkey],
  ...patch,
});
const bundleWith = (a2a: A2aPolicyDoc): PolicyBundleDoc => ({ ...exampleDoc(), a2a });
const card = signCard({ name: 'remote', description: 'd', version: '1', skills: [{ id: 'summarize', name: 's', description: 'd', tags: [] }] }, remote);

function decide(doc: PolicyBundleDoc, tool: string, args: Record<string, unknown>, context: Record<string, unknown> = {}, principal = 'agent:me', at = T) {
  const b = compiled(doc);
  return evaluate(policyFromCompiled(b), { callId: 'c1', surface: 'rest', principal: { id: principal }, tool, args, context, time: new Date(at).toISOString(), policyDigest: b.contentHash });
}

const send = (o: Record<string, unknown> = {}) => ({ agent: 'remote', skill: 'summarize', method: 'SendMessage', message: { bytes: 100, parts: 1 }, card, delegation: null, ...o });
const token = (signer = upstream, aud = me.verifier.handle, scope = { skills: ['summarize'], tools: ['crm.lookup_customer'], budget: 1 }, nowMs = T): DelegationToken =>
  mintDelegation({ signer, aud, sub: 'agent:up', scope, nowMs, ttlSeconds: 600, grant: { id: 'g', policyDigest: `sha256:${'cd'.repeat(32)}` }, decision: ref, parent: null, jti: new Uint8Array(16).fill(1) });

describe('a2a.send', () => {
  const doc = bundleWith(section());
  test('allowed, and each hostile variation denied with its code', () => {
    expect(decide(doc, 'a2a.send', send())).toMatchObject({ verdict: 'ALLOW', reasonCode: 'ALLOWED' });
    const cases: Array<[Record<string, unknown>, string, string?]> = [
      [send({ agent: 'elsewhere' }), 'A2A_AGENT_NOT_ALLOWED'],
      [send(), 'A2A_AGENT_NOT_ALLOWED', 'agent:other'],
      [send({ method: 'CancelTask' }), 'A2A_METHOD_NOT_ALLOWED'],
      [send({ card: { ...card, description: 'changed' } }), 'A2A_CARD_UNTRUSTED'],
      [send({ card: null }), 'A2A_CARD_UNTRUSTED'],
      [send({ skill: null }), 'A2A_SKILL_NOT_ALLOWED'],
      [send({ skill: 'translate' }), 'A2A_SKILL_NOT_ALLOWED'],
      [send({ message: { bytes: 65537, parts: 1 } }), 'A2A_MESSAGE_TOO_LARGE'],
      [send({ message: { bytes: 1, parts: 17 } }), 'A2A_MESSAGE_TOO_LARGE'],
      [send({ message: 'big' }), 'A2A_MESSAGE_TOO_LARGE'],
      [send({ delegation: 'all of it' }), 'A2A_DELEGATION_INVALID'],
      [send({ delegation: { scope: { skills: ['summarize'], tools: [], budget: 1 }, ttlSeconds: 0, onBehalfOf: null } }), 'A2A_DELEGATION_INVALID'],
      [send({ delegation: { scope: { skills: ['summarize'], tools: ['mail.send'], budget: 1 }, ttlSeconds: 60, onBehalfOf: null } }), 'A2A_DELEGATION_EXCEEDS_GRANT'],
      [send({ delegation: { scope: { skills: ['summarize'], tools: [], budget: 4 }, ttlSeconds: 60, onBehalfOf: null } }), 'A2A_DELEGATION_EXCEEDS_GRANT'],
      [send({ delegation: { scope: { skills: ['summarize'], tools: [], budget: 1 }, ttlSeconds: 601, onBehalfOf: null } }), 'A2A_DELEGATION_EXCEEDS_GRANT'],
    ];
    for (const [args, code, principal] of cases) expect([code, decide(doc, 'a2a.send', args, { a2a: { self: me.verifier.handle } }, principal).reasonCode]).toEqual([code, code]);
  });

  test('a revoked card key is A2A_CARD_KEY_REVOKED', () => {
    expect(decide(bundleWith(section({ revoked: [remote.verifier.handle] })), 'a2a.send', send()).reasonCode).toBe('A2A_CARD_KEY_REVOKED');
  });

  test('acting on behalf of a token: the new scope must lie within it as well as within the grant', () => {
    const within = { scope: { skills: ['summarize'], tools: ['crm.lookup_customer'], budget: 1 }, ttlSeconds: 60, onBehalfOf: token() };
    const ctx = { a2a: { self: me.verifier.handle } };
    expect(decide(doc, 'a2a.send', send({ delegation: within }), ctx)).toMatchObject({ verdict: 'ALLOW' });
    // The grant would allow crm.* and budget 3; the token this agent holds allows less.
    expect(decide(doc, 'a2a.send', send({ delegation: { ...within, scope: { skills: ['summarize'], tools: ['crm.update'], budget: 1 } } }), ctx).reasonCode).toBe('A2A_DELEGATION_EXCEEDS_GRANT');
    expect(decide(doc, 'a2a.send', send({ delegation: { ...within, scope: { skills: ['summarize'], tools: [], budget: 2 } } }), ctx).reasonCode).toBe('A2A_DELEGATION_EXCEEDS_GRANT');
    expect(decide(doc, 'a2a.send', send({ delegation: within }), ctx, 'agent:me', T + 601_000).reasonCode).toBe('A2A_DELEGATION_EXPIRED');
    expect(decide(doc, 'a2a.send', send({ delegation: { ...within, onBehalfOf: token(upstream, remote.verifier.handle) } }), ctx).reasonCode).toBe('A2A_DELEGATION_INVALID');
    expect(decide(doc, 'a2a.send', send({ delegation: within }), {}).reasonCode).toBe('A2A_DELEGATION_INVALID');
  });
});

describe('a2a.receive', () => {
  const body = utf8('{"jsonrpc":"2.0"}');
  const signed = (o: Partial<RequestAuth> = {}, key = remote) => {
    const auth: RequestAuth = { keyid: key.verifier.handle, aud: me.verifier.handle, ts: new Date(T).toISOString(), nonce: toB64u(new Uint8Array(16).fill(7)), parent: ref, delegation: null, ...o };
    const h = signRequest(key, 'POST', '/a2a/in', bodyDigest(suite, body), auth);
    const r = readSignedRequest('POST', '/a2a/in', bodyDigest(suite, body), h['helm-a2a-auth'], h['helm-a2a-signature']);
    if (!r.ok) throw new Error(r.message);
    return r.request as unknown as Record<string, unknown>;
  };
  const receive = (request: Record<string, unknown>, skill = 'summarize') => ({ skill, method: 'SendMessage', message: { bytes: 10, parts: 1 }, request });
  const fresh = { a2a: { self: me.verifier.handle, replayed: false, delegationUses: 0 } };
  const doc = bundleWith(section());

  test('allowed, and the stateful observations fail closed when absent', () => {
    expect(decide(doc, 'a2a.receive', receive(signed()), fresh)).toMatchObject({ verdict: 'ALLOW' });
    expect(decide(doc, 'a2a.receive', receive(signed()), { a2a: { self: me.verifier.handle } }).reasonCode).toBe('A2A_REQUEST_REPLAYED');
    expect(decide(doc, 'a2a.receive', receive(signed()), { a2a: { ...fresh.a2a, replayed: 'no' } }).reasonCode).toBe('A2A_REQUEST_REPLAYED');
    expect(decide(doc, 'a2a.receive', receive(signed()), {}).reasonCode).toBe('A2A_REQUEST_SIGNATURE_INVALID');
    expect(decide(doc, 'a2a.receive', receive(signed(), 'translate'), fresh).reasonCode).toBe('A2A_SKILL_NOT_ALLOWED');
    expect(decide(doc, 'a2a.receive', receive({ ...signed(), path: '/elsewhere' }), fresh).reasonCode).toBe('A2A_REQUEST_SIGNATURE_INVALID');
    expect(decide(doc, 'a2a.receive', receive(signed({}, upstream)), fresh).reasonCode).toBe('A2A_CALLER_UNKNOWN');
    expect(decide(doc, 'a2a.receive', receive(signed()), fresh, 'x', T + 301_000).reasonCode).toBe('A2A_REQUEST_STALE');
  });

  test('a delegation chain from a trusted upstream through the caller: scope, budget, requirement', () => {
    const up = token(upstream, remote.verifier.handle, { skills: ['summarize'], tools: ['crm.lookup_customer'], budget: 2 });
    const leaf = mintDelegation({ signer: remote, aud: me.verifier.handle, sub: 'agent:remote', scope: { skills: ['summarize'], tools: [], budget: 1 }, nowMs: T, ttlSeconds: 60, grant: { id: 'g', policyDigest: `sha256:${'cd'.repeat(32)}` }, decision: ref, parent: up, jti: new Uint8Array(16).fill(2) });
    expect(decide(doc, 'a2a.receive', receive(signed({ delegation: leaf })), fresh)).toMatchObject({ verdict: 'ALLOW' });
    expect(decide(doc, 'a2a.receive', receive(signed({ delegation: leaf })), { a2a: { ...fresh.a2a, delegationUses: 1 } }).reasonCode).toBe('A2A_DELEGATION_BUDGET_EXHAUSTED');
    const wider = mintDelegation({ signer: remote, aud: me.verifier.handle, sub: 'agent:remote', scope: { skills: ['summarize'], tools: [], budget: 5 }, nowMs: T, ttlSeconds: 60, grant: { id: 'g', policyDigest: `sha256:${'cd'.repeat(32)}` }, decision: ref, parent: up, jti: new Uint8Array(16).fill(3) });
    expect(decide(doc, 'a2a.receive', receive(signed({ delegation: wider })), fresh).reasonCode).toBe('A2A_DELEGATION_EXCEEDS_GRANT');
    const required = bundleWith(section({ inbound: { callers: [{ id: 'remote', keys: [remote.verifier.vkey], skills: ['summarize'], requireDelegation: true }] } }));
    expect(decide(required, 'a2a.receive', receive(signed()), fresh).reasonCode).toBe('A2A_DELEGATION_REQUIRED');
    // Without the upstream among the trusted delegators, the chain does not verify.
    expect(decide(bundleWith(section({ delegators: [] })), 'a2a.receive', receive(signed({ delegation: leaf })), fresh).reasonCode).toBe('A2A_DELEGATION_INVALID');
  });
});

describe('bundle lint of the a2a section', () => {
  test('unknown agents, bad keys, shared caller keys and reserved tool names are errors', () => {
    const errs = (doc: unknown) => {
      const c = compileBundle(doc, suite);
      return c.ok ? [] : c.errors.map((e) => e.path);
    };
    expect(errs(bundleWith(section({ outbound: [{ id: 'o', principals: { ids: ['x'] }, agents: ['ghost'], skills: ['s'] }] })))).toEqual(['/a2a/outbound/0/agents']);
    const bad = `${remote.verifier.vkey.slice(0, -4)}AAA=`;
    expect(errs(bundleWith(section({ agents: { remote: { url: 'http://r/a2a/in', cardKeys: [bad] } } })))).toContain('/a2a/agents/remote/cardKeys/0');
    expect(errs(bundleWith(section({ inbound: { callers: [{ id: 'a', keys: [remote.verifier.vkey], skills: [] }, { id: 'b', keys: [remote.verifier.vkey], skills: [] }] } })))).toEqual(['/a2a/inbound/callers/1/keys']);
    const reserved = { ...bundleWith(section()), tools: { ...exampleDoc().tools, 'a2a.send': exampleDoc().tools['crm.lookup_customer']! } };
    expect(errs(reserved)).toContain('/tools/a2a.send');
    expect(errs({ ...bundleWith(section()), a2a: { ...section(), extra: true } })).toEqual(['/a2a']);
  });
});

describe('a tool call made for a delegated task (context.a2a.task, docs/spec/a2a.md §9)', () => {
  const doc = bundleWith(section());
  const lookup = { customerId: 'cus_12345678' };
  const support = (task: unknown) => {
    const b = compiled(doc);
    return evaluate(policyFromCompiled(b), { callId: 'c1', surface: 'openai', principal: { id: 'agent:me', roles: ['support'] }, tool: 'crm.lookup_customer', args: lookup, connector: 'crm-api', context: { a2a: { task } }, time: new Date(T).toISOString(), policyDigest: b.contentHash, state: freshState(b, 'agent:me', 'crm.lookup_customer', new Date(T).toISOString()) });
  };
  const bound = (o: Record<string, unknown> = {}) => ({ id: ref.hash, decision: ref, caller: 'remote', jti: 'j1', tools: ['crm.*'], budget: 2, uses: 1, ...o });

  test('within the delegated tools and budget, the bundle decides; otherwise the task’s code', () => {
    expect(support(bound())).toMatchObject({ verdict: 'ALLOW' });
    expect(support(bound({ budget: null, jti: null }))).toMatchObject({ verdict: 'ALLOW' });
    const cases: Array<[unknown, string]> = [
      [bound({ tools: ['kb.*'] }), 'A2A_TOOL_NOT_DELEGATED'],
      [bound({ tools: [] }), 'A2A_TOOL_NOT_DELEGATED'],
      [bound({ uses: 2 }), 'A2A_DELEGATION_BUDGET_EXHAUSTED'],
      [bound({ uses: -1 }), 'A2A_DELEGATION_BUDGET_EXHAUSTED'],
      [bound({ uses: 'zero' }), 'A2A_DELEGATION_BUDGET_EXHAUSTED'],
      [bound({ tools: 'crm.*' }), 'A2A_TASK_UNKNOWN'],
      [{ id: 'sha256:unknown', decision: null }, 'A2A_TASK_UNKNOWN'],
      [null, 'A2A_TASK_UNKNOWN'],
      ['sha256:x', 'A2A_TASK_UNKNOWN'],
    ];
    for (const [task, code] of cases) expect([task, support(task).reasonCode]).toEqual([task, code]);
  });

  test('the bundle still has its say: a task binding never allows what the bundle denies', () => {
    const b = compiled(doc);
    const d = evaluate(policyFromCompiled(b), { callId: 'c2', surface: 'openai', principal: { id: 'agent:me', roles: ['support'] }, tool: 'crm.lookup_customer', args: lookup, connector: null, context: { a2a: { task: bound() } }, time: new Date(T).toISOString(), policyDigest: b.contentHash });
    expect(d.verdict).toBe('DENY');
    expect(d.reasonCode).not.toMatch(/^A2A_/);
  });
});
