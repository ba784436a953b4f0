// Pep.decide(request, {causes}): decisions in other logs become cross-log parents of the decision
// node; a cause no writer could record (own origin, bad hash, huge Lamport) is dropped, so a
// hostile caller cannot make a decision unrecordable.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { decodeNode } from '../../kernel/contracts/node.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { lookup, openHarness, SUPPORT, type Harness } from '../pep/support.js';

let h: Harness;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => h.cleanup());

const parentsOf = async (hash: string) => {
  const n = (await readLog(h.logDir)).entries.map((e) => decodeNode(nodeSuite, e)).find((x) => x.entryHash === hash)!;
  return n.statement.predicate;
};

test('a foreign decision becomes a cross-log parent and lifts the Lamport clock', async () => {
  const cause = { origin: 'helm.test/elsewhere', index: 41, hash: `sha256:${'7c'.repeat(32)}` as const, lamport: 500 };
  const o = await h.pep.decide(lookup({ principal: SUPPORT }), { causes: [cause] });
  expect(o).toMatchObject({ verdict: 'ALLOW', recorded: true });
  const p = await parentsOf(o.decision!.entryHash);
  expect(p.parents).toContainEqual({ origin: cause.origin, index: cause.index, hash: cause.hash });
  expect(p.lamport).toBe(501);
});

test('causes no writer could record are dropped and the decision is still recorded', async () => {
  const bad = [
    { origin: h.writer.origin, index: 0, hash: `sha256:${'00'.repeat(32)}` as const, lamport: 1 },
    { origin: 'helm.test/x', index: 1, hash: 'sha256:nothex' as `sha256:${string}`, lamport: 2 },
    { origin: 'helm.test/x', index: 1, hash: `sha256:${'11'.repeat(32)}` as const, lamport: 2 ** 53 - 1 },
    { origin: 'helm.test/x', index: -1, hash: `sha256:${'11'.repeat(32)}` as const, lamport: 3 },
  ];
  const o = await h.pep.decide(lookup({ principal: SUPPORT }), { causes: bad });
  expect(o).toMatchObject({ verdict: 'ALLOW', recorded: true });
  expect((await parentsOf(o.decision!.entryHash)).parents).toHaveLength(1);
  // And the PEP keeps recording afterwards.
  expect(await h.pep.decide(lookup({ principal: SUPPORT }))).toMatchObject({ recorded: true });
});
