// Replay protection and delegation budgets survive a sidecar restart (docs/spec/a2a.md §3, §4):
// agent B's sidecar, a real `helmctl serve` child, accepts a signed request and spends a token's
// budget, is stopped and started again on the same volume, and still refuses the captured request
// as a replay and the used-up token as exhausted.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mintDelegation } from '../../kernel/a2a/delegation.js';
import { sidecarBundle } from '../sidecar/support.js';
import { startAgent, type TestAgent } from './agents.js';
import { a2aKey, helmError, signedCall, Volume, type Sidecar } from './pods.js';

const B = 'restart-b-pod';
let vol: Volume;
let agentB: TestAgent;
let sb: Sidecar;

const rpc = (said: string) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: `m-${said}`, role: 'ROLE_USER', parts: [{ text: said }] }, metadata: { 'helm.skill': 'summarize' } } });
const inbound = () => `${sb.url}/a2a/in`;
const aud = a2aKey(B).verifier.handle;

beforeAll(async () => {
  vol = await Volume.create([B]);
  agentB = await startAgent('agent-b');
  const bundle = sidecarBundle((d) => {
    d.a2a = { inbound: { callers: [{ id: 'agent-a', keys: [a2aKey('restart-a').verifier.vkey], skills: ['summarize'] }] } };
  });
  sb = await vol.start(B, 'agent:b', bundle, ['--a2a-agent-url', agentB.url]);
}, 60_000);

afterAll(async () => {
  await vol?.cleanup();
  await agentB?.close();
});

describe('A2A state across a restart of the callee’s sidecar', () => {
  test('a request captured before the restart is still A2A_REQUEST_REPLAYED after it; a used-up token stays used up', async () => {
    const now = Date.now();
    const token = mintDelegation({ signer: a2aKey('restart-a'), aud, sub: 'agent:a', scope: { skills: ['summarize'], tools: [], budget: 1 }, nowMs: now, ttlSeconds: 600, grant: { id: 'a-to-b', policyDigest: `sha256:${'11'.repeat(32)}` }, decision: { origin: 'helm.test/restart-a', index: 1, hash: `sha256:${'22'.repeat(32)}`, lamport: 2 }, parent: null, jti: new Uint8Array(16).fill(7) });
    const first = await signedCall(inbound(), aud, a2aKey('restart-a'), rpc('once'), { delegation: token });
    expect(helmError(first.json)).toBeNull();
    const plain = await signedCall(inbound(), aud, a2aKey('restart-a'), rpc('plain'));
    expect(helmError(plain.json)).toBeNull();

    sb = await vol.restart(sb);

    expect(helmError(await first.send(inbound()))?.data.helm.reasonCode).toBe('A2A_REQUEST_REPLAYED');
    expect(helmError(await plain.send(inbound()))?.data.helm.reasonCode).toBe('A2A_REQUEST_REPLAYED');
    const again = await signedCall(inbound(), aud, a2aKey('restart-a'), rpc('again'), { delegation: token });
    expect(helmError(again.json)?.data.helm.reasonCode).toBe('A2A_DELEGATION_BUDGET_EXHAUSTED');
    // A fresh request without the token still goes through: only what was used is refused.
    expect(helmError((await signedCall(inbound(), aud, a2aKey('restart-a'), rpc('fresh'))).json)).toBeNull();
  }, 60_000);
});
