// The inbound surface's own housekeeping (docs/spec/a2a.md §8): it reads its agent's card once
// (not once per call), and a JSON answer is relayed only after its effect is on the log.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sidecarBundle } from '../sidecar/support.js';
import { startAgent, type TestAgent } from './agents.js';
import { a2aKey, helmError, signedCall, Volume, type Sidecar } from './pods.js';

const B = 'inbound-b-pod';
const CALLER = 'inbound-a';
let vol: Volume;
let agentB: TestAgent;
let sb: Sidecar;

const rpc = (said: string) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: `m-${said}`, role: 'ROLE_USER', parts: [{ text: said }] }, metadata: { 'helm.skill': 'summarize' } } });
const call = (said: string) => signedCall(`${sb.url}/a2a/in`, a2aKey(B).verifier.handle, a2aKey(CALLER), rpc(said));

beforeAll(async () => {
  vol = await Volume.create([B]);
  agentB = await startAgent('agent-b');
  sb = await vol.start(B, 'agent:b', sidecarBundle((d) => {
    d.a2a = { inbound: { callers: [{ id: 'agent-a', keys: [a2aKey(CALLER).verifier.vkey], skills: ['summarize'] }] } };
  }), ['--a2a-agent-url', agentB.url]);
}, 60_000);

afterAll(async () => {
  await vol?.cleanup();
  await agentB?.close();
});

describe('inbound A2A surface', () => {
  test('the agent card is fetched once for many calls and card requests', async () => {
    const before = agentB.cardFetches();
    for (const said of ['one', 'two', 'three']) expect(helmError((await call(said)).json)).toBeNull();
    for (let i = 0; i < 3; i++) expect((await fetch(`${sb.url}/a2a/in/.well-known/agent-card.json`)).status).toBe(200);
    expect(agentB.cardFetches() - before).toBeLessThanOrEqual(1);
  }, 30_000);

  test('a JSON answer is relayed after its effect is durable: the answer names the effect, already on the log', async () => {
    const signed = await call('effect first');
    expect(helmError(signed.json)).toBeNull();
    const effect = signed.headers.get('x-helm-effect-hash');
    expect(effect).toMatch(/^sha256:[0-9a-f]{64}$/);
    const node = (await vol.nodes(B)).find((n) => n.entryHash === effect);
    expect(node?.kind).toBe('effect');
    expect(node!.statement.predicate.body).toMatchObject({ status: 'executed' });
    expect(node!.statement.predicate.parents).toContainEqual({ hash: signed.headers.get('x-helm-decision-hash') });
  }, 30_000);
});
