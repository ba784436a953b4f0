import { ALG_COSIGNATURE_V1 } from '../../kernel/crypto/keys.js';
import { addSignatures } from '../../kernel/crypto/note.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { decodeNode, encodeNode, type Statement } from '../../kernel/contracts/node.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { parseTrustPolicy } from '../../kernel/evidence/trust-policy.js';
import { verifyPack, type VerifyReport } from '../../kernel/evidence/verify-core.js';
import { verifyPackNode } from '../../kernel/evidence/verify-node.js';
import { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { makeKeys, policyFor, policyText, publishEvent, TestClock, tempDir, testKey, toolCall } from './fixtures.js';
import { clone, loadSources, packFromSources, repack, rewriteLog } from './tamper.js';
import { A_ENTRIES, buildVariants, type VariantSet } from './variants.js';

const vs: VariantSet = await buildVariants();
afterAll(async () => {
  await vs.store.cleanup();
});

function matches(r: VerifyReport, e: NonNullable<VariantSet['variants'][number]['expect']>): boolean {
  return r.problems.some((p) => p.code === e.code && (e.file === undefined || p.file === e.file) && (e.index === undefined || p.index === e.index));
}

describe('verifyPack on a real store (ProofGraphWriter, two writers, cross-log parents)', () => {
  it('accepts the exported pack and reports logs, checkpoints and where each key came from', async () => {
    const r = await verifyPackNode(vs.valid, policyFor(vs.store.keys));
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([]);
    expect(r.logs.map((l) => [l.dir, l.from, l.size, l.entries])).toEqual([
      ['sidecar-a', 0, 25, 25],
      ['sidecar-b', 0, 26, 26],
    ]);
    expect(r.logs[0]!.kinds).toEqual({ heartbeat: 4, trust: 1, intent: 5, decision: 5, effect: 5, result: 5 });
    expect(r.logs[0]!.checkpoints).toEqual([2, 7, 14, 21, 25]);
    expect(r.logs[0]!.logKey).toBe(vs.store.keys.logs['helm.test/log-a']!.log.verifier.handle);
    expect(r.stats).toEqual({ entries: 51, signatures: 51 });
    expect(r.manifestSigners).toEqual([`exporter key ${vs.store.keys.exporter.verifier.handle} (trust policy test.policy line 7)`]);
    expect(r.keySources).toContain(`root key ${vs.store.keys.root.verifier.handle}: trust policy test.policy line 6`);
    expect(r.keySources.some((k) => k.startsWith(`node key ${vs.store.keys.logs['helm.test/log-a']!.node.verifier.handle} for helm.test/log-a (valid from index 0): root key -> KEY_PUBLISH logs/sidecar-a/entries.jsonl index 1`))).toBe(true);
  });

  it('trusts nothing from the pack: a policy without the root key rejects every node', async () => {
    const r = await verifyPack(vs.valid, policyFor(vs.store.keys, { root: false }), { suite: nodeSuite });
    expect(r.ok).toBe(false);
    expect(r.problems.filter((p) => p.code === 'ERR_TRUST_NO_ROOT')).toHaveLength(2);
    expect(r.problems.filter((p) => p.code === 'ERR_NODE_UNTRUSTED_SIGNER')).toHaveLength(51);
  });

  it('needs a manifest signature by a policy key', async () => {
    const r = await verifyPack(vs.valid, policyFor(vs.store.keys, { exporter: false }), { suite: nodeSuite });
    expect(r.firstProblem).toMatchObject({ code: 'ERR_MANIFEST_UNTRUSTED', file: 'MANIFEST.dsse.json' });
    expect(r.problems).toHaveLength(1);
  });
});

describe('each tampering is caught and named', () => {
  it.each(vs.variants.slice(1).map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const r = await verifyPackNode(v.bytes, policyFor(vs.store.keys));
    const e = v.expect!;
    const summary = `${v.name}: ${r.problems.map((p) => `${p.code}@${p.file}#${p.index ?? ''}`).join(', ')}`;
    expect({ summary, ok: r.ok, matched: matches(r, e) }).toEqual({ summary, ok: false, matched: true });
    expect(r.readable).toBe(e.readable ?? true);
    expect(r.firstProblem).not.toBeNull();
    if (e.file !== undefined) expect(r.firstProblem!.file).toBe(e.file);
    if (e.index !== undefined) expect(r.firstProblem!.index).toBe(e.index);
  });

  it('an edit that only breaks the parent link yields exactly that one problem', async () => {
    const v = vs.variants.find((x) => x.name.startsWith('parent link'))!;
    const r = await verifyPack(v.bytes, policyFor(vs.store.keys), { suite: nodeSuite });
    expect(r.problems.map((p) => [p.code, p.index])).toEqual([['ERR_NODE_PARENT_UNKNOWN', 3]]);
  });
});

describe('witness quorum', () => {
  it('fails without the required cosignature and passes once the witness cosigns every checkpoint', async () => {
    const { keys } = vs.store;
    const text = policyText(keys).replace('quorum none', 'quorum w1');
    const policy = parseTrustPolicy(text, 'quorum.policy');
    const before = await verifyPack(vs.valid, policy, { suite: nodeSuite });
    expect(before.problems.every((p) => p.code === 'ERR_QUORUM_NOT_MET')).toBe(true);
    expect(before.problems).toHaveLength(10);
    const cosigned = repack(
      vs.valid,
      (files) => {
        for (const [p, d] of files) {
          if (p.endsWith('.note')) files.set(p, new TextEncoder().encode(addSignatures(new TextDecoder().decode(d), [keys.witness], 1795000000n)));
        }
      },
      { resign: keys.exporter },
    );
    expect(keys.witness.verifier.alg).toBe(ALG_COSIGNATURE_V1);
    const after = await verifyPack(cosigned, policy, { suite: nodeSuite });
    expect(after.problems).toEqual([]);
    expect(after.logs.map((l) => l.witnesses)).toEqual([['w1'], ['w1']]);
  });
});

describe('completeness', () => {
  it('a clean restart after a long pause is explained by the shutdown heartbeat', async () => {
    const keys = makeKeys(['helm.test/restart']);
    const k = keys.logs['helm.test/restart']!;
    const { dir, cleanup } = await tempDir('helm-restart-');
    try {
      const clock = new TestClock();
      const open = () => ProofGraphWriter.open({ root: dir, writerId: 'w', origin: 'helm.test/restart', nodeKey: k.node, logKey: k.log, clock: clock.read, trustEvents: [publishEvent(keys, 'helm.test/restart')], heartbeatIntervalUs: 1_000_000 });
      let w = await open();
      await toolCall(w, clock, 'c1');
      await w.close();
      clock.advance(3_600_000);
      w = await open();
      await toolCall(w, clock, 'c2');
      await w.close();
      const pack = await exportPack({ store: dir, exporterKey: keys.exporter });
      const r = await verifyPack(pack.bytes, policyFor(keys), { suite: nodeSuite });
      expect(r.problems).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it('a gap node covering a silence explains it; without it the silence is a problem', async () => {
    const { keys } = vs.store;
    const kA = keys.logs['helm.test/log-a']!;
    const srcA = (await loadSources(vs.store.root)).find((s) => s.dir === 'sidecar-a')!;
    const shift = (withGap: boolean) =>
      rewriteLog(srcA, kA, (ns) => {
        const t11 = ns[11]!.statement.predicate.time;
        for (const n of ns.slice(12)) {
          n.statement.predicate.time = new Date(Date.parse(n.statement.predicate.time) + 600_000).toISOString();
        }
        if (!withGap) return;
        const at12 = ns[12]!.statement.predicate;
        const gap: Statement = {
          ...clone(ns[12]!.statement),
          predicateType: 'https://helm.mindburn.org/proofgraph/gap/v1',
          predicate: { ...clone(at12), parents: [], body: { from: t11, to: at12.time, reason: 'store_unavailable', deniedCalls: 3 } },
        };
        ns.splice(12, 0, { kind: 'gap', subjectName: 'gap/helm.test/log-a', statement: gap });
        ns.forEach((n, i) => {
          n.statement.predicate.index = i;
        });
        for (const n of ns.slice(13)) n.statement.predicate.lamport += 1;
      });
    const without = await verifyPack(packFromSources([shift(false)], keys.exporter), policyFor(keys), { suite: nodeSuite });
    expect(without.problems.map((p) => [p.code, p.file, p.index])).toEqual([['ERR_COMPLETENESS_SILENCE', A_ENTRIES, 12]]);
    const withGap = await verifyPack(packFromSources([shift(true)], keys.exporter), policyFor(keys), { suite: nodeSuite });
    expect(withGap.problems).toEqual([]);
    expect(withGap.logs[0]!.kinds.gap).toBe(1);
  });
});

describe('key rotation and revocation by log position', () => {
  it('accepts nodes signed by the new key after a rotation and rejects the old key after it', async () => {
    const { keys } = vs.store;
    const kA = keys.logs['helm.test/log-a']!;
    const srcA = (await loadSources(vs.store.root)).find((s) => s.dir === 'sidecar-a')!;
    const next = testKey('node-helm-test-log-a-2');
    const { signKeyEvent } = await import('../../kernel/trust/events.js');
    const rotate = signKeyEvent(nodeSuite, { event: 'KEY_ROTATE', purpose: 'node', origin: 'helm.test/log-a', key: kA.node.verifier.vkey, newKey: next.verifier.vkey, fromIndex: 15, issuedAt: '2026-11-22T00:00:00.000Z' }, [keys.root, kA.node, next]);
    // A second trust node (index 2) records the rotation; nodes from index 15 on are signed by `signer`.
    const rotated = (signer: 'new' | 'old') =>
      rewriteLog(srcA, kA, (ns) => {
        const t = clone(ns[1]!.statement);
        (t.predicate.body as { event: unknown }).event = rotate;
        ns.splice(2, 0, { kind: 'trust', subjectName: 'log/helm.test/log-a', statement: t });
        ns.forEach((n, i) => {
          n.statement.predicate.index = i;
          if (i >= 2) n.statement.predicate.lamport += 1;
          if (i >= 15) n.signers = [signer === 'new' ? next : kA.node];
        });
      });
    const good = await verifyPack(packFromSources([rotated('new')], keys.exporter), policyFor(keys), { suite: nodeSuite });
    expect(good.problems).toEqual([]);
    const bad = await verifyPack(packFromSources([rotated('old')], keys.exporter), policyFor(keys), { suite: nodeSuite });
    expect(bad.firstProblem).toMatchObject({ code: 'ERR_NODE_UNTRUSTED_SIGNER', index: 15 });
    expect(bad.problems.every((p) => p.code === 'ERR_NODE_UNTRUSTED_SIGNER' && p.index! >= 15)).toBe(true);
  });
});

describe('windowed packs (--from): entries before the window come with inclusion proofs', () => {
  it('verifies, and refuses a prior entry that is not in the log', async () => {
    const { keys } = vs.store;
    const times = (await loadSources(vs.store.root))[0]!.entries.map((e) => decodeNode(nodeSuite, e).statement.predicate.time);
    const pack = await exportPack({ store: vs.store.root, exporterKey: keys.exporter, from: times[12]!, to: times[20]! });
    const ok = await verifyPack(pack.bytes, policyFor(keys), { suite: nodeSuite });
    expect(ok.problems).toEqual([]);
    expect(ok.logs.map((l) => [l.dir, l.from, l.size, l.prior])).toEqual([['sidecar-a', 12, 21, [1, 10, 11]]]);
    // Swap the prior trust node for another root-signed event the log never recorded.
    const rogue = testKey('rogue-node');
    const { signKeyEvent } = await import('../../kernel/trust/events.js');
    const ev = signKeyEvent(nodeSuite, { event: 'KEY_PUBLISH', purpose: 'node', origin: 'helm.test/log-a', key: rogue.verifier.vkey, fromIndex: 0, issuedAt: '2026-11-22T00:00:00.000Z' }, [keys.root, rogue]);
    const forged = repack(
      pack.bytes,
      (files) => {
        const kA = keys.logs['helm.test/log-a']!;
        const d = decodeNode(nodeSuite, files.get('logs/sidecar-a/prior/1.entry')!);
        const st = clone(d.statement);
        (st.predicate.body as { event: unknown }).event = ev;
        files.set('logs/sidecar-a/prior/1.entry', encodeNode(nodeSuite, { kind: 'trust', subjectName: st.subject[0].name, predicate: st.predicate }, [{ keyid: kA.node.verifier.handle, signer: kA.node }]).entry);
      },
      { resign: keys.exporter },
    );
    const bad = await verifyPack(forged, policyFor(keys), { suite: nodeSuite });
    expect(bad.firstProblem).toMatchObject({ code: 'ERR_PRIOR_INCLUSION', file: 'logs/sidecar-a/prior/1.entry', index: 1 });
  });
});
