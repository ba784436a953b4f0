import { nodeSuite } from '../../kernel/crypto/node.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { verifyPackNode } from '../../kernel/evidence/verify-node.js';
import { makeKeys, policyFor, publishEvent, tempDir, TestClock, toolCall } from '../evidence/fixtures.js';
import { join } from 'node:path';

const ORIGIN = 'helm.test/graph-writer';

async function setup() {
  const keys = makeKeys([ORIGIN]);
  const t = await tempDir('helm-graph-');
  const clock = new TestClock();
  const open = () =>
    ProofGraphWriter.open({ root: t.dir, writerId: 'w1', origin: ORIGIN, nodeKey: keys.logs[ORIGIN]!.node, logKey: keys.logs[ORIGIN]!.log, clock: clock.read, trustEvents: [publishEvent(keys, ORIGIN)], checkpointEvery: 5 });
  return { keys, t, clock, open };
}

const decodedLog = async (dir: string) => (await readLog(dir)).entries.map((e) => decodeNode(nodeSuite, e));

describe('ProofGraphWriter', () => {
  it('opens with a start heartbeat and the trust event, chains prev and Lamport, links a tool call causally', async () => {
    const { t, clock, open } = await setup();
    try {
      const w = await open();
      const [intent, decision, effect, result] = await toolCall(w, clock, 'c1');
      expect([intent!.lamport, decision!.lamport, effect!.lamport, result!.lamport]).toEqual([3, 4, 5, 6]);
      await w.close();
      const nodes = await decodedLog(join(t.dir, 'w1'));
      expect(nodes.map((n) => n.kind)).toEqual(['heartbeat', 'trust', 'intent', 'decision', 'effect', 'result', 'heartbeat']);
      expect((nodes[0]!.statement.predicate.body as { reason: string }).reason).toBe('start');
      expect((nodes[6]!.statement.predicate.body as { reason: string }).reason).toBe('shutdown');
      nodes.forEach((n, i) => {
        expect(n.statement.predicate.index).toBe(i);
        expect(n.statement.predicate.prev).toBe(i === 0 ? null : nodes[i - 1]!.entryHash);
      });
      expect(nodes[3]!.statement.predicate.parents).toEqual([{ hash: nodes[2]!.entryHash }]);
    } finally {
      await t.cleanup();
    }
  });

  it('after a clean close, reopening adds no gap and does not repeat the trust event', async () => {
    const { t, clock, open } = await setup();
    try {
      await (await open()).close();
      clock.advance(3_600_000);
      await (await open()).close();
      const kinds = (await decodedLog(join(t.dir, 'w1'))).map((n) => `${n.kind}:${(n.statement.predicate.body as { reason?: string }).reason ?? ''}`);
      expect(kinds).toEqual(['heartbeat:start', 'trust:', 'heartbeat:shutdown', 'heartbeat:start', 'heartbeat:shutdown']);
    } finally {
      await t.cleanup();
    }
  });

  it('a clock that steps back never makes a node older than its predecessor', async () => {
    const { t, clock, open } = await setup();
    try {
      const w = await open();
      clock.advance(10_000);
      const a = await w.heartbeat('periodic');
      clock.advance(-5_000);
      const b = await w.heartbeat('periodic');
      expect(b.time).toBe(a.time);
      await w.close();
    } finally {
      await t.cleanup();
    }
  });

  it('refuses unknown parents, cross-log parents without a lamport, and a log key equal to the node key', async () => {
    const { keys, t, clock, open } = await setup();
    try {
      const w = await open();
      await expect(w.append('intent', { surface: 'cli', callId: 'x', tool: 't', principal: 'p', argsDigest: `sha256:${'0'.repeat(64)}` }, { parents: [{ hash: `sha256:${'1'.repeat(64)}` }] })).rejects.toMatchObject({ code: 'ERR_PARENT_UNKNOWN' });
      await expect(w.append('intent', { surface: 'cli', callId: 'x', tool: 't', principal: 'p', argsDigest: `sha256:${'0'.repeat(64)}` }, { parents: [{ origin: 'helm.test/other', index: 3, hash: `sha256:${'1'.repeat(64)}` }] })).rejects.toMatchObject({ code: 'ERR_PARENT_LAMPORT' });
      await expect(w.append('decision', { verdict: 'MAYBE' })).rejects.toMatchObject({ code: 'ERR_SCHEMA' });
      expect(w.size).toBe(2);
      await w.close();
      await expect(
        ProofGraphWriter.open({ root: t.dir, writerId: 'w2', origin: ORIGIN, nodeKey: keys.logs[ORIGIN]!.log, logKey: keys.logs[ORIGIN]!.log, clock: clock.read }),
      ).rejects.toMatchObject({ code: 'ERR_LOG_KEY' });
    } finally {
      await t.cleanup();
    }
  });

  it('a store it wrote exports and verifies against the trust policy', async () => {
    const { keys, t, clock, open } = await setup();
    try {
      const w = await open();
      for (let i = 0; i < 4; i++) await toolCall(w, clock, `c${i}`, i === 2 ? 'DENY' : 'ALLOW');
      await w.close();
      const pack = await exportPack({ store: t.dir, exporterKey: keys.exporter });
      const report = await verifyPackNode(pack.bytes, policyFor(keys), { workers: 0 });
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.logs[0]!.entries).toBe(2 + 16 + 1);
    } finally {
      await t.cleanup();
    }
  });

  it('knows the Lamport values of a bounded window of latest entries only; the snapshot and a restart keep the same window', async () => {
    const { keys, t, clock } = await setup();
    const open = () =>
      ProofGraphWriter.open({ root: t.dir, writerId: 'w1', origin: ORIGIN, nodeKey: keys.logs[ORIGIN]!.node, logKey: keys.logs[ORIGIN]!.log, clock: clock.read, trustEvents: [publishEvent(keys, ORIGIN)], checkpointEvery: 5, parentWindow: 12 });
    try {
      const w = await open();
      const calls: Array<Awaited<ReturnType<typeof toolCall>>> = [];
      for (let i = 0; i < 10; i++) calls.push(await toolCall(w, clock, `c${i}`));
      // Memory stays bounded however long the log grows (before: one entry per node, for ever).
      expect(w.knownParents).toBe(12);
      const intentBody = { surface: 'mcp', callId: 'late', tool: 'files.read', principal: 'agent-1', argsDigest: `sha256:${'0'.repeat(64)}` };
      await expect(w.append('intent', intentBody, { parents: [{ hash: calls[0]![1]!.entryHash }] })).rejects.toMatchObject({ code: 'ERR_PARENT_UNKNOWN', message: expect.stringMatching(/latest 12 entries/) });
      const recent = await w.append('intent', intentBody, { parents: [{ hash: calls[9]![1]!.entryHash }] });
      expect(recent.lamport).toBeGreaterThan(calls[9]![3]!.lamport);
      await w.close();
      const again = await open();
      expect(again.knownParents).toBe(12);
      await again.close();
      // Only the index is bounded: the log keeps every node.
      const nodes = await decodedLog(join(t.dir, 'w1'));
      expect(nodes.length).toBeGreaterThan(40);
    } finally {
      await t.cleanup();
    }
  });
});
