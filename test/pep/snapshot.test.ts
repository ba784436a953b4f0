// Start-up snapshots (issue 10 item 8): a start resumes from a snapshot of the PEP's fold and the
// writer's chain taken at a log size, checked against the log, and decodes only the entries after
// it. Continuing from any snapshot gives exactly the state of a full rebuild; a snapshot edited on
// the volume, or one the log does not match, is refused and the start rebuilds in full.
import { readFile, writeFile } from 'node:fs/promises';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { signApproval } from '../../kernel/pep/index.js';
import { PepFold } from '../../kernel/pep/rebuild.js';
import { foldFromSnapshot, restoreState, snapshotOf } from '../../kernel/pep/snapshot.js';
import { StartSnapshotKeeper } from '../../kernel/pep/start-keeper.js';
import { PepState } from '../../kernel/pep/state.js';
import { Pep } from '../../kernel/pep/pep.js';
import { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { loadStartSnapshot, saveStartSnapshot, snapshotPath, type StartSnapshot } from '../../kernel/proofgraph/start-snapshot.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { publishEvent } from '../evidence/fixtures.js';
import { approvers, Lab, lookup, refund, signed, pepBundle, ticket, trust, type Harness } from './support.js';

const json = (x: unknown): string => JSON.stringify(x);
/** The state alone (without the fold's waiting intents and counters). */
const fullJson = (state: PepState): string => json({ ...snapshotOf(new PepFold(state, nodeSuite)), intents: [], decisionsFolded: 0 });

async function scenario(h: { pep: Pep; clock: Harness['clock'] }, tag: string): Promise<void> {
  await h.pep.decide(lookup());
  await h.pep.decide(ticket({ ticketId: 7, status: 'solved' }));
  await h.pep.decide(refund(5000));
  const e = await h.pep.decide(refund(20000, { idempotencyKey: `r-${tag}` }));
  h.clock.advance(61_000);
  await h.pep.approve(signApproval(e.challenge!, approvers.alice));
  await h.pep.approve(signApproval(e.challenge!, approvers.carol));
  h.clock.advance(30_000);
  await h.pep.decide(refund(20000, { idempotencyKey: `r-${tag}` }));
  await h.pep.decide(refund(20000, { idempotencyKey: `r-${tag}` }));
  await h.pep.decide(refund(30000, { idempotencyKey: `open-${tag}` }));
}

const lab = await Lab.create();
afterAll(() => lab.cleanup());
const h = await lab.harness('snap-a');
await scenario(h, 'a');
await h.close();
const WRITER = 'snap-a';
const ORIGIN = `helm.test/${WRITER}`;
const k = lab.keys.logs[ORIGIN]!;

async function start(o: { keep?: boolean } = {}) {
  const writer = await ProofGraphWriter.open({ root: lab.root, writerId: WRITER, origin: ORIGIN, nodeKey: k.node, logKey: k.log, clock: h.clock.read, trustEvents: [publishEvent(lab.keys, ORIGIN)], checkpointEvery: 50, startSnapshot: true });
  const pep = await Pep.open({ writer, logDir: h.logDir, trust, clock: h.clock.read, random: () => new Uint8Array(16), policy: signed(pepBundle()) });
  const keeper = o.keep ? await StartSnapshotKeeper.follow({ writer, logDir: h.logDir, nodeKey: k.node, suite: nodeSuite, pep }) : null;
  return { writer, pep, keeper, clock: h.clock };
}

describe('start-up snapshots', () => {
  it('continuing the fold from a snapshot at any size gives the state of a full rebuild', async () => {
    const entries = (await readLog(h.logDir)).entries;
    const full = new PepFold(new PepState(), nodeSuite);
    for (const e of entries) full.apply(e);
    expect(full.state.ceremonies.nonce).toBeDefined();
    for (const at of [1, Math.floor(entries.length / 3), Math.floor(entries.length / 2), entries.length - 1]) {
      const head = new PepFold(new PepState(), nodeSuite);
      for (const e of entries.slice(0, at)) head.apply(e);
      const snap = JSON.parse(json(snapshotOf(head)));
      const cont = foldFromSnapshot(new PepState(), snap, nodeSuite);
      for (const e of entries.slice(at)) cont.apply(e);
      expect(json(snapshotOf(cont))).toBe(json(snapshotOf(full)));
    }
  });

  it('a start resumes from the kept snapshot, folds only the tail, and has the full rebuild state', async () => {
    const first = await start({ keep: true });
    expect(first.writer.startSnapshot).toEqual({ snapshot: null, rejected: null });
    await scenario(first, 'b');
    expect(await first.keeper!.save()).toBeNull(); // fewer new entries than the default growth
    const savedAt = await first.keeper!.save({ force: true });
    expect(savedAt).toBeGreaterThan(0);
    await first.pep.decide(lookup());
    await first.pep.close();
    await first.writer.close();

    const second = await start();
    expect(second.writer.startSnapshot.rejected).toBeNull();
    expect(second.writer.startSnapshot.snapshot?.size).toBe(savedAt);
    expect(second.pep.rebuilt.from).toBe(savedAt);
    expect(second.writer.treeResumedAt).toBe(savedAt); // the writer read only the tail too
    // Full rebuild of the same log, as a check: the same state.
    const entries = (await readLog(h.logDir)).entries;
    const rebuilt = new PepState();
    restoreState(rebuilt, entries, 0, second.writer.size, nodeSuite, null);
    const resumed = new PepState();
    const again = await loadStartSnapshot(h.logDir, { origin: ORIGIN, size: second.writer.size, rootAt: (n) => second.writer.rootAt(n), nodeKey: k.node, suite: nodeSuite });
    restoreState(resumed, entries, 0, second.writer.size, nodeSuite, again.snapshot);
    expect(fullJson(resumed)).toBe(fullJson(rebuilt));
    // And the PEP that started from the snapshot behaves as rebuilt: the idempotency key stays used.
    const dup = await second.pep.decide(refund(20000, { idempotencyKey: 'r-b' }));
    expect(dup.reasonCode).toBe('ERR_IDEMPOTENCY_DUPLICATE');
    await second.pep.close();
    await second.writer.close();
  });

  it('the keeper folds each entry as it becomes durable: it holds no entry bytes between saves', async () => {
    const run = await start({ keep: true });
    for (let i = 0; i < 40; i++) await run.pep.decide(lookup());
    // Before: every durable entry waited (with its pooled buffer) for the next save, i.e. for the
    // next heartbeat: under load that is a minute of receipts held in memory, then folded at once.
    expect(run.keeper!.pendingEntries).toBe(0);
    expect(run.keeper!.foldedSize).toBe(run.writer.size);
    const savedAt = await run.keeper!.save({ force: true });
    expect(savedAt).toBe(run.writer.size);
    await run.pep.close();
    await run.writer.close();
  });

  it('a snapshot edited on the volume is refused (signature), and the start rebuilds in full', async () => {
    const [header, body] = (await readFile(snapshotPath(h.logDir), 'utf8')).split('\n') as [string, string];
    const snap = JSON.parse(body) as StartSnapshot;
    expect((snap.pep as { usedKeys: unknown[] }).usedKeys.length).toBeGreaterThan(0);
    (snap.pep as { usedKeys: unknown[] }).usedKeys = [];
    await writeFile(snapshotPath(h.logDir), `${header}\n${JSON.stringify(snap)}`);
    const s = await start();
    expect(s.writer.startSnapshot.snapshot).toBeNull();
    expect(s.writer.startSnapshot.rejected).toBe('bad signature');
    expect(s.pep.rebuilt.from).toBe(0);
    const dup = await s.pep.decide(refund(20000, { idempotencyKey: 'r-b' }));
    expect(dup.reasonCode).toBe('ERR_IDEMPOTENCY_DUPLICATE');
    await s.pep.close();
    await s.writer.close();
  });

  it('a signed snapshot whose root the log does not have at its size is refused', async () => {
    const entries = (await readLog(h.logDir)).entries;
    const fold = new PepFold(new PepState(), nodeSuite);
    for (const e of entries.slice(0, 5)) fold.apply(e);
    const snap: StartSnapshot = { format: 'helm.start-snapshot/v1', origin: ORIGIN, size: 5, root: Buffer.alloc(32).toString('base64'), chain: { lastHash: null, lastLamport: 0, lastTimeMs: 0, lamports: [], trustEvents: [], last: null }, pep: snapshotOf(fold) };
    await saveStartSnapshot(h.logDir, snap, k.node);
    const s = await start();
    expect(s.writer.startSnapshot.rejected).toMatch(/root at size 5/);
    expect(s.pep.rebuilt.from).toBe(0);
    await s.pep.close();
    await s.writer.close();
  });
});
