// Two agents, each behind its own real sidecar (helmctl serve from dist/), each using the real
// @a2a-js/sdk: agent A's SDK client calls agent B through A's sidecar (outbound) and B's sidecar
// (inbound) to B's SDK server. Every hop is decided and receipted; B's decision cites A's across
// logs; one pack of both logs verifies and replays with zero divergence.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signCard } from '../../kernel/a2a/card.js';
import { mintDelegation, type DecisionRef } from '../../kernel/a2a/delegation.js';
import type { RequestAuth } from '../../kernel/a2a/request-auth.js';
import type { DecodedNode } from '../../kernel/contracts/node.js';
import { testKey } from '../evidence/fixtures.js';
import { sidecarBundle } from '../sidecar/support.js';
import { client, message, startAgent, type TestAgent } from './agents.js';
import { a2aKey, helmError, signedCall, Volume, type Sidecar } from './pods.js';

const A = 'agent-a-pod';
const B = 'agent-b-pod';
const PRINCIPAL_A = 'agent:a';
const mallory = testKey('a2a-mallory');

let vol: Volume;
let agentB: TestAgent;
let forged: Server;
let sa: Sidecar;
let sb: Sidecar;

const body = (n: DecodedNode) => n.statement.predicate.body as Record<string, unknown>;
const decisions = (nodes: DecodedNode[], tool: string) => nodes.filter((n) => n.kind === 'decision' && body(n).tool === tool);
const last = <T>(xs: T[]): T => xs[xs.length - 1]!;

/** A2A JSON-RPC body as the SDK client sends it (v1.0 SendMessage). */
const rpc = (skill: string, said = 'hello', id = 1) => JSON.stringify({ jsonrpc: '2.0', id, method: 'SendMessage', params: { message: { messageId: `m-${id}-${said}`, role: 'ROLE_USER', parts: [{ text: said }] }, metadata: { 'helm.skill': skill } } });

/** A request to B's inbound surface signed as some caller would (the test holds the caller's key). */
const direct = (signer: ReturnType<typeof testKey>, text: string, auth: Partial<RequestAuth> = {}) => signedCall(`${sb.url}/a2a/in`, a2aKey(B).verifier.handle, signer, text, auth);
const errorOf = helmError;

beforeAll(async () => {
  vol = await Volume.create([A, B]);
  agentB = await startAgent('agent-b');
  const bBundle = sidecarBundle((d) => {
    d.a2a = {
      inbound: { callers: [{ id: 'agent-a', keys: [a2aKey(A).verifier.vkey], skills: ['summarize', 'report', 'flood'], tools: ['crm.lookup_customer'] }] },
      limits: { maxMessageBytes: 100_000 },
    };
  });
  sb = await vol.start(B, 'agent:b', bBundle, ['--a2a-agent-url', agentB.url]);
  // A server that serves agent B's card with a signature B's key never made.
  forged = createServer((_req, res) => {
    const card = signCard({ name: 'agent-b', description: 'forged', version: '1', supportedInterfaces: [{ url: 'http://127.0.0.1:9/rpc', protocolBinding: 'JSONRPC', protocolVersion: '1.0' }], skills: [{ id: 'summarize', name: 's', description: 'd', tags: [] }] }, { verifier: a2aKey(B).verifier, sign: (m) => mallory.sign(m) });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(card));
  });
  await new Promise<void>((r) => forged.listen(0, '127.0.0.1', r));
  const aBundle = sidecarBundle((d) => {
    d.a2a = {
      agents: {
        'agent-b': { url: `${sb.url}/a2a/in`, cardKeys: [a2aKey(B).verifier.vkey] },
        forged: { url: `http://127.0.0.1:${(forged.address() as AddressInfo).port}`, cardKeys: [a2aKey(B).verifier.vkey] },
      },
      outbound: [{ id: 'a-to-b', principals: { ids: [PRINCIPAL_A] }, agents: ['agent-b', 'forged'], skills: ['summarize', 'report', 'flood'], delegate: { skills: ['summarize'], tools: ['crm.lookup_customer'], maxBudget: 2, maxTtlSeconds: 600 } }],
      limits: { maxMessageBytes: 100_000 },
    };
  });
  sa = await vol.start(A, PRINCIPAL_A, aBundle, []);
}, 60_000);

afterAll(async () => {
  await vol?.cleanup();
  await agentB?.close();
  await new Promise<void>((r) => (forged ? forged.close(() => r()) : r()));
});

describe('A2A between two governed agents', () => {
  test('an allowed delegation goes through; B decides under A’s token and its decision cites A’s across logs', async () => {
    const c = await client(`${sa.url}/a2a/out/agent-b/`);
    const r = (await c.sendMessage(message('the quarterly numbers', { 'helm.skill': 'summarize', 'helm.delegate': { scope: { skills: ['summarize'], tools: ['crm.lookup_customer'], budget: 1 }, ttlSeconds: 300 } }) as never)) as unknown as { parts: Array<{ content: { value: string } }> };
    expect(r.parts[0]!.content.value).toBe('summary of: the quarterly numbers; caller agent-a');
    const token = last(agentB.seen)['helm.delegation'] as Record<string, unknown>;
    expect(token).toMatchObject({ iss: a2aKey(A).verifier.handle, aud: a2aKey(B).verifier.handle, sub: PRINCIPAL_A, scope: { skills: ['summarize'], tools: ['crm.lookup_customer'], budget: 1 }, grant: { id: 'a-to-b' } });

    const sent = last(decisions(await vol.nodes(A), 'a2a.send'));
    expect(body(sent)).toMatchObject({ verdict: 'ALLOW', reasonCode: 'ALLOWED' });
    const got = last(decisions(await vol.nodes(B), 'a2a.receive'));
    expect(body(got)).toMatchObject({ verdict: 'ALLOW', reasonCode: 'ALLOWED' });
    expect(got.statement.predicate.parents).toContainEqual({ origin: sa.origin, index: sent.statement.predicate.index, hash: sent.entryHash });
    expect(token.decision).toEqual({ origin: sa.origin, index: sent.statement.predicate.index, hash: sent.entryHash, lamport: sent.statement.predicate.lamport } satisfies DecisionRef);
    expect(got.statement.predicate.lamport).toBeGreaterThan(sent.statement.predicate.lamport);
  }, 30_000);

  test('the token’s calls budget is spent: presenting it again is A2A_DELEGATION_BUDGET_EXHAUSTED', async () => {
    const token = JSON.parse(JSON.stringify(agentB.seen.find((m) => m['helm.delegation'])!['helm.delegation'])) as never;
    const r = await direct(a2aKey(A), rpc('summarize', 'again'), { delegation: token });
    expect(errorOf(r.json)?.data.helm.reasonCode).toBe('A2A_DELEGATION_BUDGET_EXHAUSTED');
  }, 30_000);

  test('a delegation asking for more than the delegator holds is denied A2A_DELEGATION_EXCEEDS_GRANT and never reaches B', async () => {
    const c = await client(`${sa.url}/a2a/out/agent-b/`);
    const before = agentB.seen.length;
    for (const scope of [{ skills: ['summarize', 'report'], tools: [], budget: 1 }, { skills: ['summarize'], tools: ['mail.send'], budget: 1 }, { skills: ['summarize'], tools: [], budget: 3 }]) {
      await expect(c.sendMessage(message('x', { 'helm.skill': 'summarize', 'helm.delegate': { scope, ttlSeconds: 60 } }) as never)).rejects.toThrow(/A2A_DELEGATION_EXCEEDS_GRANT/);
    }
    await expect(c.sendMessage(message('x', { 'helm.skill': 'summarize', 'helm.delegate': { scope: { skills: ['summarize'], tools: [], budget: 1 }, ttlSeconds: 601 } }) as never)).rejects.toThrow(/A2A_DELEGATION_EXCEEDS_GRANT/);
    expect(agentB.seen.length).toBe(before);
    const denied = decisions(await vol.nodes(A), 'a2a.send').slice(-4);
    expect(denied.map((n) => body(n).reasonCode)).toEqual(Array(4).fill('A2A_DELEGATION_EXCEEDS_GRANT'));
  }, 30_000);

  test('a forged agent card is refused A2A_CARD_UNTRUSTED with a receipt', async () => {
    const c = await client(`${sa.url}/a2a/out/forged/`);
    await expect(c.sendMessage(message('x', { 'helm.skill': 'summarize' }) as never)).rejects.toThrow(/A2A_CARD_UNTRUSTED/);
    expect(body(last(decisions(await vol.nodes(A), 'a2a.send')))).toMatchObject({ verdict: 'DENY', reasonCode: 'A2A_CARD_UNTRUSTED' });
  }, 30_000);

  test('an expired delegation token is refused A2A_DELEGATION_EXPIRED', async () => {
    const past = Date.now() - 3_600_000;
    const ref: DecisionRef = { origin: sa.origin, index: 1, hash: `sha256:${'00'.repeat(32)}`, lamport: 2 };
    const token = mintDelegation({ signer: a2aKey(A), aud: a2aKey(B).verifier.handle, sub: PRINCIPAL_A, scope: { skills: ['summarize'], tools: [], budget: 1 }, nowMs: past, ttlSeconds: 60, grant: { id: 'a-to-b', policyDigest: `sha256:${'11'.repeat(32)}` }, decision: ref, parent: null, jti: new Uint8Array(16).fill(9) });
    const r = await direct(a2aKey(A), rpc('summarize'), { delegation: token });
    expect(errorOf(r.json)?.data.helm.reasonCode).toBe('A2A_DELEGATION_EXPIRED');
    expect(body(last(decisions(await vol.nodes(B), 'a2a.receive')))).toMatchObject({ verdict: 'DENY', reasonCode: 'A2A_DELEGATION_EXPIRED' });
  }, 30_000);

  test('a replayed request is refused A2A_REQUEST_REPLAYED; the first one went through', async () => {
    const r = await direct(a2aKey(A), rpc('summarize', 'once'));
    expect(errorOf(r.json)).toBeNull();
    const again = await r.send();
    expect(errorOf(again)?.data.helm.reasonCode).toBe('A2A_REQUEST_REPLAYED');
    const [first, second] = decisions(await vol.nodes(B), 'a2a.receive').slice(-2);
    expect([body(first!).verdict, body(second!).reasonCode]).toEqual(['ALLOW', 'A2A_REQUEST_REPLAYED']);
  }, 30_000);

  test('an unknown caller, and an unsigned one, are refused A2A_CALLER_UNKNOWN', async () => {
    const r = await direct(mallory, rpc('summarize'));
    expect(errorOf(r.json)?.data.helm.reasonCode).toBe('A2A_CALLER_UNKNOWN');
    const unsigned = (await (await fetch(`${sb.url}/a2a/in`, { method: 'POST', body: rpc('summarize', 'anon'), headers: { 'content-type': 'application/json', 'helm-caller': 'agent-a' } })).json()) as Record<string, unknown>;
    expect(errorOf(unsigned)?.data.helm.reasonCode).toBe('A2A_CALLER_UNKNOWN');
    expect(decisions(await vol.nodes(B), 'a2a.receive').slice(-2).map((n) => body(n).reasonCode)).toEqual(['A2A_CALLER_UNKNOWN', 'A2A_CALLER_UNKNOWN']);
  }, 30_000);

  test('a streamed task is governed: decided on both sides, relayed event by event, cut when an event breaks the limit', async () => {
    const c = await client(`${sa.url}/a2a/out/agent-b/`);
    const kinds: string[] = [];
    for await (const e of c.sendMessageStream(message('go', { 'helm.skill': 'report' }) as never)) kinds.push((e as unknown as { payload: { $case: string } }).payload.$case);
    expect(kinds).toEqual(['task', 'statusUpdate', 'artifactUpdate', 'artifactUpdate', 'statusUpdate']);
    const sent = last(decisions(await vol.nodes(A), 'a2a.send'));
    expect(body(sent)).toMatchObject({ verdict: 'ALLOW' });
    const effect = (await vol.nodes(A)).find((n) => n.kind === 'effect' && n.statement.predicate.parents.some((p) => p.hash === sent.entryHash));
    expect(body(effect!)).toMatchObject({ status: 'executed' });

    const flood = async () => {
      for await (const _ of c.sendMessageStream(message('go', { 'helm.skill': 'flood' }) as never)) void _;
    };
    await expect(flood()).rejects.toThrow(/A2A_MESSAGE_TOO_LARGE/);
    const cut = last(decisions(await vol.nodes(A), 'a2a.send'));
    const failed = (await vol.nodes(A)).find((n) => n.kind === 'effect' && n.statement.predicate.parents.some((p) => p.hash === cut.entryHash));
    expect(body(failed!)).toMatchObject({ status: 'failed' });
  }, 30_000);

  test('one pack of both logs verifies with the cross-log links, and helmctl replay re-decides every A2A decision identically', async () => {
    await vol.stop();
    const pack = vol.path('pack.tar.gz');
    const ex = await vol.helmctl(['export', '--store', vol.path('pg'), '--out', pack, '--key', vol.path('exporter.key')]);
    expect(ex).toMatchObject({ code: 0 });
    const v = await vol.helmctl(['verify', pack, '--trust-policy', vol.path('trust-policy.txt'), '--json']);
    expect(v.code).toBe(0);
    expect(v.out).not.toMatch(/W_LAMPORT_UNVERIFIED|ERR_NODE_PARENT/);
    const r = await vol.helmctl(['replay', pack, '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out) as { decisions: { diverged: number; results: Array<{ status: string; callId: string }> }; chains: unknown[] };
    expect(rep.decisions.diverged).toBe(0);
    const a2a = rep.decisions.results.filter((x) => x.callId.startsWith('a2a-'));
    expect(a2a.length).toBeGreaterThanOrEqual(15);
    expect(a2a.every((x) => x.status === 'identical')).toBe(true);
  }, 60_000);
});
