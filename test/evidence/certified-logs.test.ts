// A `root` line of the trust policy also trusts the log keys that root certified (purpose log trust
// events in the pack), for their origin only: one policy line covers a fleet of per-pod logs.
import { exportPack } from '../../kernel/evidence/export.js';
import { parseTrustPolicy } from '../../kernel/evidence/trust-policy.js';
import { verifyPackNode } from '../../kernel/evidence/verify-node.js';
import { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { buildStore, certifyLogEvent, makeKeys, policyFor, policyText, publishEvent, TestClock, tempDir, testKey, toolCall } from './fixtures.js';

const WRITERS = { 'pod-a': 'helm.test/ns/uid-a/b1', 'pod-b': 'helm.test/ns/uid-b/b1' };

describe('root-certified log keys', () => {
  it('a policy with only root and exporter lines accepts logs whose log keys the root certified', async () => {
    const store = await buildStore({ writers: WRITERS, certifyLogs: true, crossLog: true });
    try {
      const pack = await exportPack({ store: store.root, exporterKey: store.keys.exporter });
      const r = await verifyPackNode(pack.bytes, policyFor(store.keys, { logs: false }));
      expect(r.problems).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.logs.map((l) => l.logKey)).toEqual(Object.values(WRITERS).map((o) => store.keys.logs[o]!.log.verifier.handle));
      expect(r.keySources.some((k) => k.startsWith(`log key ${store.keys.logs['helm.test/ns/uid-a/b1']!.log.verifier.handle} for helm.test/ns/uid-a/b1: root key -> KEY_PUBLISH (log key) logs/pod-a/entries.jsonl`))).toBe(true);
      // Explicit log lines keep working alongside.
      expect((await verifyPackNode(pack.bytes, policyFor(store.keys))).ok).toBe(true);
    } finally {
      await store.cleanup();
    }
  });

  it('without a certification the checkpoints are untrusted', async () => {
    const store = await buildStore({ writers: WRITERS });
    try {
      const pack = await exportPack({ store: store.root, exporterKey: store.keys.exporter });
      const r = await verifyPackNode(pack.bytes, policyFor(store.keys, { logs: false }));
      expect(r.ok).toBe(false);
      expect(r.problems.some((p) => p.code === 'ERR_CHECKPOINT_UNTRUSTED')).toBe(true);
    } finally {
      await store.cleanup();
    }
  });

  it('a certification by another root, or for another origin, trusts nothing', async () => {
    const keys = makeKeys(['helm.test/ns/uid-a/b1']);
    const other = testKey('another-root');
    const { dir, cleanup } = await tempDir('helm-cert-');
    try {
      const clock = new TestClock();
      const k = keys.logs['helm.test/ns/uid-a/b1']!;
      // The log key of uid-a is certified by another root; a key certified for another origin is also recorded.
      const stranger = testKey('helm.test/ns/uid-z/b1');
      const strangerKeys = { ...keys, logs: { 'helm.test/ns/uid-z/b1': { log: stranger, node: k.node } } };
      const w = await ProofGraphWriter.open({
        root: dir,
        writerId: 'pod-a',
        origin: 'helm.test/ns/uid-a/b1',
        nodeKey: k.node,
        logKey: k.log,
        clock: clock.read,
        trustEvents: [publishEvent(keys, 'helm.test/ns/uid-a/b1'), certifyLogEvent(keys, 'helm.test/ns/uid-a/b1', other), certifyLogEvent(strangerKeys, 'helm.test/ns/uid-z/b1')],
      });
      await toolCall(w, clock, 'c1');
      await w.close();
      const pack = await exportPack({ store: dir, exporterKey: keys.exporter });
      const r = await verifyPackNode(pack.bytes, parseTrustPolicy(policyText(keys, { logs: false }), 'p'));
      expect(r.ok).toBe(false);
      expect(r.problems.some((p) => p.code === 'ERR_CHECKPOINT_UNTRUSTED')).toBe(true);
      expect(r.problems.some((p) => p.code === 'ERR_TRUST_EVENT_UNAUTHORISED')).toBe(true);
    } finally {
      await cleanup();
    }
  });
});
