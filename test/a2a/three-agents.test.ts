// A chain of delegation across three governed agents, each behind its own real sidecar and each
// using the real @a2a-js/sdk: A delegates a task to B; B, while doing it, delegates part of it to
// C on behalf of A's token. Every link is no wider than its parent (B asking C for more than A
// gave B is denied), C verifies the whole chain back to A, each hop's decision cites the one
// before it across logs, and one pack of the three logs verifies and replays with 0 divergence.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { DecodedNode } from '../../kernel/contracts/node.js';
import { sidecarBundle } from '../sidecar/support.js';
import { client, message, startAgent, type TestAgent } from './agents.js';
import { a2aKey, Volume, type Sidecar } from './pods.js';

const A = 'chain-a-pod';
const B = 'chain-b-pod';
const C = 'chain-c-pod';

let vol: Volume;
let agentB: TestAgent;
let agentC: TestAgent;
let sa: Sidecar;
let sb: Sidecar;
let sc: Sidecar;
/** The scope B's agent asks to hand on to C for the next task. */
let onward: Record<string, unknown> = {};

const body = (n: DecodedNode) => n.statement.predicate.body as Record<string, unknown>;
const decisions = (nodes: DecodedNode[], tool: string) => nodes.filter((n) => n.kind === 'decision' && body(n).tool === tool);
const last = <T>(xs: T[]): T => xs[xs.length - 1]!;
const ref = (n: DecodedNode) => ({ origin: n.statement.predicate.origin, index: n.statement.predicate.index, hash: n.entryHash });

beforeAll(async () => {
  vol = await Volume.create([A, B, C]);
  agentC = await startAgent('agent-c');
  // B's agent does its task by asking C, on behalf of the token A gave it (as HELM handed it over).
  agentB = await startAgent('agent-b', async (meta, said) => {
    const c = await client(`${sb.url}/a2a/out/agent-c/`);
    try {
      const r = (await c.sendMessage(message(`translate: ${said}`, { 'helm.skill': 'translate', 'helm.delegate': onward, 'helm.onBehalfOf': meta['helm.delegation'] }) as never)) as unknown as { parts: Array<{ content: { value: string } }> };
      return `C said: ${r.parts[0]!.content.value}`;
    } catch (e) {
      return `C refused: ${(e as Error).message}`;
    }
  });
  sc = await vol.start(C, 'agent:c', sidecarBundle((d) => {
    // C knows B as a caller and trusts A as an upstream delegator of B's tokens.
    d.a2a = { inbound: { callers: [{ id: 'agent-b', keys: [a2aKey(B).verifier.vkey], skills: ['translate'], tools: ['crm.lookup_customer', 'kb.fetch_article'], requireDelegation: true }] }, delegators: [a2aKey(A).verifier.vkey] };
  }), ['--a2a-agent-url', agentC.url]);
  sb = await vol.start(B, 'agent:b', sidecarBundle((d) => {
    d.a2a = {
      agents: { 'agent-c': { url: `${sc.url}/a2a/in`, cardKeys: [a2aKey(C).verifier.vkey] } },
      // B's own grant would let it hand on mail.send; the token it acts under does not.
      outbound: [{ id: 'b-to-c', principals: { ids: ['agent:b'] }, agents: ['agent-c'], skills: ['translate'], delegate: { skills: ['translate'], tools: ['crm.lookup_customer', 'kb.fetch_article', 'mail.send'], maxBudget: 5, maxTtlSeconds: 600 } }],
      inbound: { callers: [{ id: 'agent-a', keys: [a2aKey(A).verifier.vkey], skills: ['summarize'], tools: ['crm.lookup_customer', 'kb.fetch_article'] }] },
    };
  }), ['--a2a-agent-url', agentB.url]);
  sa = await vol.start(A, 'agent:a', sidecarBundle((d) => {
    d.a2a = {
      agents: { 'agent-b': { url: `${sb.url}/a2a/in`, cardKeys: [a2aKey(B).verifier.vkey] } },
      outbound: [{ id: 'a-to-b', principals: { ids: ['agent:a'] }, agents: ['agent-b'], skills: ['summarize'], delegate: { skills: ['summarize', 'translate'], tools: ['crm.lookup_customer', 'kb.fetch_article'], maxBudget: 4, maxTtlSeconds: 600 } }],
    };
  }), []);
}, 90_000);

afterAll(async () => {
  await vol?.cleanup();
  await agentB?.close();
  await agentC?.close();
});

/** A asks B (delegating `scope`); B hands `next` on to C. */
async function run(scope: Record<string, unknown>, next: Record<string, unknown>): Promise<string> {
  onward = next;
  const c = await client(`${sa.url}/a2a/out/agent-b/`);
  const r = (await c.sendMessage(message('the account', { 'helm.skill': 'summarize', 'helm.delegate': { scope, ttlSeconds: 300 } }) as never)) as unknown as { parts: Array<{ content: { value: string } }> };
  return r.parts[0]!.content.value;
}

describe('A → B → C: chained delegation that only narrows', () => {
  test('each link narrows its parent; C verifies the chain back to A; every hop cites the one before it', async () => {
    const said = await run({ skills: ['summarize', 'translate'], tools: ['crm.lookup_customer', 'kb.fetch_article'], budget: 4 }, { scope: { skills: ['translate'], tools: ['crm.lookup_customer'], budget: 2 }, ttlSeconds: 120 });
    expect(said).toBe('summary of: the account; caller agent-a; C said: summary of: translate: the account; caller agent-b');
    const toC = last(agentC.seen)['helm.delegation'] as { iss: string; aud: string; scope: unknown; parent: { iss: string; aud: string; scope: unknown } };
    expect(toC).toMatchObject({ iss: a2aKey(B).verifier.handle, aud: a2aKey(C).verifier.handle, scope: { skills: ['translate'], tools: ['crm.lookup_customer'], budget: 2 } });
    expect(toC.parent).toMatchObject({ iss: a2aKey(A).verifier.handle, aud: a2aKey(B).verifier.handle, scope: { skills: ['summarize', 'translate'], tools: ['crm.lookup_customer', 'kb.fetch_article'], budget: 4 } });

    const aSend = last(decisions(await vol.nodes(A), 'a2a.send'));
    const bReceive = last(decisions(await vol.nodes(B), 'a2a.receive'));
    const bSend = last(decisions(await vol.nodes(B), 'a2a.send'));
    const cReceive = last(decisions(await vol.nodes(C), 'a2a.receive'));
    for (const n of [aSend, bReceive, bSend, cReceive]) expect(body(n)).toMatchObject({ verdict: 'ALLOW' });
    expect(bReceive.statement.predicate.parents).toContainEqual(ref(aSend));
    // B's onward call follows from the task it does: the receive decision, in B's own log.
    expect(bSend.statement.predicate.parents).toContainEqual({ hash: bReceive.entryHash });
    expect(cReceive.statement.predicate.parents).toContainEqual(ref(bSend));
    expect(cReceive.statement.predicate.lamport).toBeGreaterThan(bSend.statement.predicate.lamport);
    expect(bSend.statement.predicate.lamport).toBeGreaterThan(aSend.statement.predicate.lamport);
  }, 60_000);

  test('B asking C for more than A gave B (a tool B’s own grant allows, a tool A kept back, more budget) is A2A_DELEGATION_EXCEEDS_GRANT at B and never reaches C', async () => {
    const before = agentC.seen.length;
    const parent = { skills: ['summarize', 'translate'], tools: ['crm.lookup_customer'], budget: 2 };
    for (const scope of [
      { skills: ['translate'], tools: ['mail.send'], budget: 1 },
      { skills: ['translate'], tools: ['kb.fetch_article'], budget: 1 },
      { skills: ['translate'], tools: [], budget: 3 },
    ]) {
      expect(await run(parent, { scope, ttlSeconds: 60 })).toMatch(/C refused: .*A2A_DELEGATION_EXCEEDS_GRANT/);
    }
    expect(agentC.seen.length).toBe(before);
    expect(decisions(await vol.nodes(B), 'a2a.send').slice(-3).map((n) => body(n).reasonCode)).toEqual(Array(3).fill('A2A_DELEGATION_EXCEEDS_GRANT'));
  }, 60_000);

  test('one pack of the three logs verifies every cross-log link and replays with 0 divergence', async () => {
    await vol.stop();
    const pack = vol.path('pack.tar.gz');
    expect(await vol.helmctl(['export', '--store', vol.path('pg'), '--out', pack, '--key', vol.path('exporter.key')])).toMatchObject({ code: 0 });
    const v = await vol.helmctl(['verify', pack, '--trust-policy', vol.path('trust-policy.txt'), '--json']);
    expect(v.code).toBe(0);
    expect(v.out).not.toMatch(/W_LAMPORT_UNVERIFIED|ERR_NODE_PARENT/);
    const r = await vol.helmctl(['replay', pack, '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out) as { decisions: { diverged: number; results: Array<{ status: string; callId: string }> } };
    expect(rep.decisions.diverged).toBe(0);
    const a2a = rep.decisions.results.filter((x) => x.callId.startsWith('a2a-'));
    // 4 calls A→B and B's 4 onward calls (3 denied), C's 1 receive.
    expect(a2a.length).toBe(4 + 4 + 4 + 1);
    expect(a2a.every((x) => x.status === 'identical')).toBe(true);
  }, 60_000);
});
