// GetTask and CancelTask (tasks/get, tasks/cancel) are governed on both sides
// (docs/spec/a2a.md §6): granted per method, and only for a task the same caller created through
// the sidecar (the skill judged is the task's); anyone else's task, or one never seen, is
// A2A_TASK_UNKNOWN.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { DecodedNode } from '../../kernel/contracts/node.js';
import { testKey } from '../evidence/fixtures.js';
import { sidecarBundle } from '../sidecar/support.js';
import { client, message, startAgent, type TestAgent } from './agents.js';
import { a2aKey, helmError, signedCall, Volume, type Sidecar } from './pods.js';

const A = 'tasks-a-pod';
const B = 'tasks-b-pod';
const other = testKey('a2a-tasks-other');

let vol: Volume;
let agentB: TestAgent;
let sa: Sidecar;
let sb: Sidecar;
let taskId: string;

const body = (n: DecodedNode) => n.statement.predicate.body as Record<string, unknown>;
const decisions = async (name: string, tool: string) => (await vol.nodes(name)).filter((n) => n.kind === 'decision' && body(n).tool === tool);
const last = <T>(xs: T[]): T => xs[xs.length - 1]!;

beforeAll(async () => {
  vol = await Volume.create([A, B]);
  agentB = await startAgent('agent-b');
  sb = await vol.start(B, 'agent:b', sidecarBundle((d) => {
    d.a2a = {
      inbound: {
        callers: [
          { id: 'agent-a', keys: [a2aKey(A).verifier.vkey], skills: ['report'], methods: ['SendMessage', 'SendStreamingMessage', 'GetTask'] },
          { id: 'agent-o', keys: [other.verifier.vkey], skills: ['report'], methods: ['SendMessage', 'GetTask', 'CancelTask'] },
        ],
      },
    };
  }), ['--a2a-agent-url', agentB.url]);
  sa = await vol.start(A, 'agent:a', sidecarBundle((d) => {
    d.a2a = {
      agents: { 'agent-b': { url: `${sb.url}/a2a/in`, cardKeys: [a2aKey(B).verifier.vkey] } },
      outbound: [{ id: 'a-to-b', principals: { ids: ['agent:a'] }, agents: ['agent-b'], skills: ['report'], methods: ['SendMessage', 'SendStreamingMessage', 'GetTask', 'CancelTask'] }],
    };
  }), []);
  const c = await client(`${sa.url}/a2a/out/agent-b/`);
  for await (const e of c.sendMessageStream(message('go', { 'helm.skill': 'report' }) as never)) {
    const p = (e as unknown as { payload: { $case: string; value: { id?: string } } }).payload;
    if (p.$case === 'task') taskId = p.value.id!;
  }
}, 60_000);

afterAll(async () => {
  await vol?.cleanup();
  await agentB?.close();
});

describe('GetTask and CancelTask through both sidecars', () => {
  test('the caller that created a task may get it: decided on both sides under the task’s skill', async () => {
    expect(taskId).toMatch(/.+/);
    const c = await client(`${sa.url}/a2a/out/agent-b/`);
    const t = (await c.getTask({ tenant: '', id: taskId, historyLength: undefined } as never)) as unknown as { id: string };
    expect(t.id).toBe(taskId);
    const sent = last(await decisions(A, 'a2a.send'));
    const got = last(await decisions(B, 'a2a.receive'));
    expect(body(sent)).toMatchObject({ verdict: 'ALLOW' });
    expect(body(got)).toMatchObject({ verdict: 'ALLOW' });
    expect(got.statement.predicate.parents).toContainEqual({ origin: sa.origin, index: sent.statement.predicate.index, hash: sent.entryHash });
  }, 30_000);

  test('a task the sidecar never saw is A2A_TASK_UNKNOWN; a method the callee does not grant is A2A_METHOD_NOT_ALLOWED', async () => {
    const c = await client(`${sa.url}/a2a/out/agent-b/`);
    await expect(c.getTask({ tenant: '', id: 'no-such-task', historyLength: undefined } as never)).rejects.toThrow(/A2A_TASK_UNKNOWN/);
    await expect(c.cancelTask({ tenant: '', id: taskId, metadata: undefined } as never)).rejects.toThrow(/A2A_METHOD_NOT_ALLOWED/);
    expect(body(last(await decisions(B, 'a2a.receive')))).toMatchObject({ verdict: 'DENY', reasonCode: 'A2A_METHOD_NOT_ALLOWED' });
  }, 30_000);

  test('a caller granted CancelTask may cancel its own task (created by a plain SendMessage): allowed and forwarded', async () => {
    const sent = await signedCall(`${sb.url}/a2a/in`, a2aKey(B).verifier.handle, other, JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'SendMessage', params: { message: { messageId: 'm-own', role: 'ROLE_USER', parts: [{ text: 'go' }] }, metadata: { 'helm.skill': 'report' } } }));
    expect(helmError(sent.json)).toBeNull();
    const own = ((sent.json.result as { task?: { id?: string } }).task?.id ?? (sent.json.result as { id?: string }).id)!;
    expect(own).toMatch(/.+/);
    const r = await signedCall(`${sb.url}/a2a/in`, a2aKey(B).verifier.handle, other, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'CancelTask', params: { id: own } }));
    // The agent answers for itself (a finished task cannot be cancelled); HELM allowed and forwarded it.
    expect(r.json.error === undefined || !String((r.json.error as { message: string }).message).startsWith('A2A_')).toBe(true);
    expect(body(last(await decisions(B, 'a2a.receive')))).toMatchObject({ verdict: 'ALLOW' });
  }, 30_000);

  test('another caller cannot get or cancel a task it did not create', async () => {
    for (const method of ['tasks/get', 'tasks/cancel']) {
      const r = await signedCall(`${sb.url}/a2a/in`, a2aKey(B).verifier.handle, other, JSON.stringify({ jsonrpc: '2.0', id: 7, method, params: { id: taskId } }));
      expect(helmError(r.json)?.data.helm.reasonCode).toBe('A2A_TASK_UNKNOWN');
    }
  }, 30_000);
});
