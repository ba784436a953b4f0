// Policy replay of a pack: every decision re-evaluated from its recorded input under its pinned
// bundle. A faithful pack replays identically; a pack whose bundle was swapped, whose input is
// missing, or whose decision an insider re-signed with another verdict names each divergence.
import { nodeSuite } from '../../kernel/crypto/node.js';
import { fromUtf8, toHex, utf8 } from '../../kernel/crypto/bytes.js';
import { jcs } from '../../kernel/crypto/jcs.js';
import { assemblePack } from '../../kernel/evidence/assemble.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { gzipDeterministic } from '../../kernel/evidence/gzip-node.js';
import { replayPack } from '../../kernel/evidence/replay.js';
import { parseTrustPolicy } from '../../kernel/evidence/trust-policy.js';
import { verifyPack } from '../../kernel/evidence/verify-core.js';
import { planWindow } from '../../kernel/evidence/window.js';
import { compileBundle } from '../../kernel/guardian/index.js';
import { guardianReplayer, readBlobs, signApproval } from '../../kernel/pep/index.js';
import { loadSources, repack, rewriteLog, unpack } from '../evidence/tamper.js';
import { approvers, Lab, lookup, pepBundle, refund, ticket, type Harness } from './support.js';

const lab = await Lab.create();
afterAll(() => lab.cleanup());
const replayer = guardianReplayer({ suite: nodeSuite });

async function scenario(h: Harness): Promise<void> {
  await h.pep.decide(lookup());
  await h.pep.decide(ticket({ ticketId: 7, status: 'solved' }));
  await h.pep.decide(refund(5000));
  const e = await h.pep.decide(refund(20000, { idempotencyKey: 'r-1' }));
  h.clock.advance(61_000);
  await h.pep.approve(signApproval(e.challenge!, approvers.alice));
  await h.pep.approve(signApproval(e.challenge!, approvers.carol));
  h.clock.advance(30_000);
  await h.pep.decide(refund(20000, { idempotencyKey: 'r-1' }));
  await h.pep.decide(refund(20000, { idempotencyKey: 'r-1' }));
}

const h = await lab.harness('replay-a');
await scenario(h);
await lab.close();
const { bytes: pack } = await exportPack({ store: lab.root, exporterKey: lab.keys.exporter });
const policy = parseTrustPolicy(lab.policyText(), 'lab.policy');
const bundleHex = (h.pep.policy.status === 'ready' ? h.pep.policy.bundle.contentHash : '').slice(7);

describe('policy replay of a PEP pack', () => {
  it('replays every decision identically, including the approved retry and the duplicate', async () => {
    const r = replayPack(pack, { suite: nodeSuite, decisions: replayer });
    expect(r.problems).toEqual([]);
    expect(r.decisions).toMatchObject({ decisions: 6, identical: 6, diverged: 0, skipped: 0 });
    expect(r.decisions!.results.map((d) => `${d.recorded.verdict} ${d.recorded.reasonCode}`)).toEqual([
      'ALLOW ALLOWED',
      'DENY MISSING_REQUIREMENT',
      'ALLOW ALLOWED',
      'ESCALATE APPROVAL_REQUIRED',
      'ALLOW APPROVAL_GRANTED',
      'DENY ERR_IDEMPOTENCY_DUPLICATE',
    ]);
    expect((await verifyPack(pack, policy, { suite: nodeSuite })).ok).toBe(true);
  });

  it('a pack whose bundle bytes were swapped fails the content address and diverges on every decision', async () => {
    const other = utf8(JSON.stringify(JSON.parse(fromUtf8(jcs(pepBundle((d) => (d.rules = d.rules.filter((x) => x.id !== 'allow-crm-read'))))))));
    const swapped = repack(pack, (f) => f.set(`policies/${bundleHex}.json`, jcs(JSON.parse(fromUtf8(other)))), { resign: lab.keys.exporter });
    const v = await verifyPack(swapped, policy, { suite: nodeSuite });
    expect(v.problems.map((p) => p.code)).toEqual(['ERR_PACK_BLOB_DIGEST']);
    const r = replayPack(swapped, { suite: nodeSuite, decisions: replayer });
    expect(r.decisions).toMatchObject({ decisions: 6, diverged: 6 });
    const div = r.problems.filter((p) => p.code === 'ERR_REPLAY_DIVERGENCE');
    expect(div).toHaveLength(6);
    expect(div[0]!.message).toMatch(/^call call-\d+: recorded ALLOW ALLOWED \[allow-crm-read\]: bundle sha256:[0-9a-f]{64} is not in the pack/);
  });

  it('re-evaluating under another bundle names each decision it would change', () => {
    const c = compileBundle(pepBundle((d) => (d.rules.find((x) => x.id === 'escalate-large-refund')!.when = 'args.amountCents > 1000')), nodeSuite);
    if (!c.ok) throw new Error('does not compile');
    const r = replayPack(pack, { suite: nodeSuite, decisions: guardianReplayer({ suite: nodeSuite, bundle: c.bundle }) });
    const diverged = r.decisions!.results.filter((d) => d.status === 'diverged');
    expect(diverged.map((d) => [d.recorded.verdict, d.replayed?.verdict])).toEqual([['ALLOW', 'ESCALATE']]);
    expect(r.problems.map((p) => p.code)).toEqual(['ERR_REPLAY_DIVERGENCE']);
  });

  it('a missing input is a divergence, an unreferenced blob an unexpected file', () => {
    const files = unpack(pack);
    const inputName = [...files.keys()].find((p) => p.startsWith('inputs/'))!;
    const bad = repack(
      pack,
      (f) => {
        f.delete(inputName);
        f.set(`inputs/${toHex(nodeSuite.sha256(utf8('{}')))}.json`, utf8('{}'));
      },
      { resign: lab.keys.exporter },
    );
    const r = replayPack(bad, { suite: nodeSuite, decisions: replayer });
    expect(r.problems.map((p) => p.code).sort()).toEqual(['ERR_PACK_UNEXPECTED_FILE', 'ERR_REPLAY_DIVERGENCE']);
    expect(r.problems.find((p) => p.code === 'ERR_REPLAY_DIVERGENCE')!.message).toMatch(/input sha256:[0-9a-f]{64} is not in the pack/);
  });

  async function forgedPack(edit: Parameters<typeof rewriteLog>[2]): Promise<Uint8Array> {
    const [src] = await loadSources(lab.root);
    const forged = rewriteLog(src!, lab.keys.logs['helm.test/replay-a']!, edit);
    const blobs = (await readBlobs(h.logDir, nodeSuite))!;
    const section = planWindow(nodeSuite, forged, {}).section!;
    const inputs = new Map([...blobs].filter(([x]) => x !== bundleHex));
    return gzipDeterministic(assemblePack({ suite: nodeSuite, sections: [section], selection: {}, exporterKey: lab.keys.exporter, blobs: { inputs, policies: new Map([[bundleHex, blobs.get(bundleHex)!]]) } }).tar);
  }
  const bodyOf = (n: { statement: { predicate: { body: unknown } } }) => n.statement.predicate.body as Record<string, unknown>;
  const resubject = (n: { statement: { subject: Array<{ digest: { sha256: string } }>; predicate: { body: unknown } } }) => {
    n.statement.subject[0]!.digest.sha256 = toHex(nodeSuite.sha256(jcs(n.statement.predicate.body)));
  };

  it('an insider who re-signs a DENY as an ALLOW passes signature checks but not replay', async () => {
    const bytes = await forgedPack((nodes) => {
      const d = nodes.find((n) => n.kind === 'decision' && bodyOf(n).reasonCode === 'MISSING_REQUIREMENT')!;
      Object.assign(bodyOf(d), { verdict: 'ALLOW', reasonCode: 'ALLOWED' });
      resubject(d);
    });
    expect((await verifyPack(bytes, policy, { suite: nodeSuite })).problems).toEqual([]);
    const r = replayPack(bytes, { suite: nodeSuite, decisions: replayer });
    expect(r.problems[0]).toMatchObject({ code: 'ERR_REPLAY_DIVERGENCE', index: 6 });
    expect(r.problems[0]!.message).toMatch(/recorded ALLOW ALLOWED \[allow-ticket-update\]; replay gives DENY MISSING_REQUIREMENT \[allow-ticket-update\]: verdict ALLOW ALLOWED recorded, DENY MISSING_REQUIREMENT replayed/);
  });

  it('an insider who uses one approval twice is caught: a ceremony lets one call through', async () => {
    const bytes = await forgedPack((nodes) => {
      const decisions = nodes.filter((n) => n.kind === 'decision');
      const granted = decisions.find((n) => bodyOf(n).reasonCode === 'APPROVAL_GRANTED')!;
      const dup = decisions.at(-1)!;
      Object.assign(bodyOf(dup), { verdict: 'ALLOW', reasonCode: 'APPROVAL_GRANTED', ruleIds: bodyOf(granted).ruleIds, consumed: bodyOf(granted).consumed, basis: bodyOf(granted).basis });
      resubject(dup);
    });
    expect((await verifyPack(bytes, policy, { suite: nodeSuite })).problems).toEqual([]);
    const r = replayPack(bytes, { suite: nodeSuite, decisions: replayer });
    const msgs = r.problems.map((p) => `${p.index}: ${p.message}`);
    expect(msgs).toHaveLength(2);
    expect(msgs.every((m) => /the escalation was already used by the decision at index \d+/.test(m))).toBe(true);
  });
});
