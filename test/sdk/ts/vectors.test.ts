// The TypeScript SDK against the conformance vectors every SDK runs (docs/sdks.md §Conformance):
// docs/spec/vectors (nodes, negative entries, the tlog-proof), ../shared/vectors (JCS, Wycheproof
// Ed25519), and one tampered copy of each vector.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jcs, loadTrust, ReceiptError, trustEventsOf, verifyEd25519, verifyReceipt, SPEC_VERSION } from '../../../sdk/ts/src/index.js';
import { describeWithVectors, repoRoot, vectorsDir } from '../../support/shared.js';

const spec = join(repoRoot, 'docs', 'spec', 'vectors');
const read = (p: string) => readFileSync(join(spec, p), 'utf8');
const nodeFiles = readdirSync(join(spec, 'nodes')).filter((f) => f.endsWith('.json')).sort();
const nodes = nodeFiles.map((f) => [f, JSON.parse(read(`nodes/${f}`)) as { kind: string; index: number; entry: string; entryHash: string }] as const);
const policyText = read('trust-policy.txt');
const trust = () => loadTrust(policyText, trustEventsOf(nodes.map(([, n]) => n.entry)));
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

/** The tamper every SDK applies to a node: lamport + 1 in the statement, re-encoded canonically, signatures kept. */
function tamper(entry: string): string {
  const env = JSON.parse(entry) as { payload: string; payloadType: string; signatures: unknown[] };
  const st = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as { predicate: { lamport: number } };
  st.predicate.lamport += 1;
  return Buffer.from(jcs({ ...env, payload: Buffer.from(jcs(st)).toString('base64') })).toString('utf8');
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ReceiptError) return e.code;
    throw e;
  }
  return 'accepted';
}

describe('TS SDK: docs/spec/vectors', () => {
  it('verifies the spec version the package is numbered after', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'sdk', 'ts', 'package.json'), 'utf8')) as { version: string; helm: { specVersion: number } };
    expect(read('../receipt.md').split('\n')[0]).toBe(`# ProofGraph node (receipt) format, version ${SPEC_VERSION}`);
    expect([Number(pkg.version.split('.')[0]), pkg.helm.specVersion]).toEqual([SPEC_VERSION, SPEC_VERSION]);
  });

  it.each(nodes)('%s verifies against the trust policy (kind, index, entry hash)', (_f, n) => {
    const r = verifyReceipt(n.entry, trust());
    expect([r.kind, r.index, r.entryHash, r.signers]).toEqual([n.kind, n.index, n.entryHash, ['helm-vectors/agent-0/node+4122bc29']]);
  });

  it.each(nodes)('%s tampered (lamport + 1, re-encoded) is ERR_SIGNATURE', (_f, n) => {
    expect(codeOf(() => verifyReceipt(tamper(n.entry), trust()))).toBe('ERR_SIGNATURE');
  });

  it('without the trust event no node key is reachable: ERR_UNTRUSTED_SIGNER', () => {
    expect(codeOf(() => verifyReceipt(nodes[3]![1].entry, loadTrust(policyText)))).toBe('ERR_UNTRUSTED_SIGNER');
  });

  const negative = JSON.parse(read('negative.json')) as Array<{ why: string; expect: string; entry: string }>;
  it.each(negative.map((n) => [n.why, n] as const))('negative: %s', (_w, n) => {
    expect(codeOf(() => verifyReceipt(n.entry, trust()))).toBe(n.expect);
  });

  const decision = nodes.find(([f]) => f === '03-decision.json')![1];
  const proof = read('log/decision-03.tlog-proof');
  it('the tlog-proof of decision 03 proves inclusion at index 3 of the signed checkpoint of size 9', () => {
    expect(verifyReceipt(decision.entry, trust(), { proof }).inclusion).toEqual({ checkpointSize: 9, logKey: 'helm.mindburn.org/vectors/agent-0+6fb09f64', witnesses: [] });
  });
  it('tampered proofs: a flipped audit-path hash, another entry, another index, a re-signed root', () => {
    const lines = proof.split('\n');
    const flipped = [...lines];
    flipped[2] = Buffer.from(Buffer.from(lines[2]!, 'base64').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64');
    expect(codeOf(() => verifyReceipt(decision.entry, trust(), { proof: flipped.join('\n') }))).toBe('ERR_TLOG_PROOF_INCLUSION');
    expect(codeOf(() => verifyReceipt(nodes[2]![1].entry, trust(), { proof }))).toBe('ERR_TLOG_PROOF_INCLUSION');
    expect(codeOf(() => verifyReceipt(decision.entry, trust(), { proof: proof.replace('index 3', 'index 2') }))).toBe('ERR_TLOG_PROOF_INCLUSION');
    const root = lines.findIndex((l) => l === '9') + 1;
    const forged = [...lines];
    forged[root] = Buffer.alloc(32, 7).toString('base64');
    expect(codeOf(() => verifyReceipt(decision.entry, trust(), { proof: forged.join('\n') }))).toBe('ERR_CHECKPOINT_BAD_SIGNATURE');
  });
});

/**
 * Byte-flip vectors for every SDK: node file, byte offset in its entry (24 offsets spread over the
 * entry), and the code this verifier gives the entry with that byte XOR 0x01 (ASCII stays ASCII).
 * Written to test/sdk/vectors/mutations.json (HELM_WRITE_SPEC=1), otherwise checked byte for byte:
 * another SDK that reads the same codes rejects what this verifier rejects, for the same reason.
 */
function mutations(): Array<{ node: string; offset: number; expect: string }> {
  const out: Array<{ node: string; offset: number; expect: string }> = [];
  for (const [f, n] of nodes) {
    const bytes = Buffer.from(n.entry, 'utf8');
    for (let k = 0; k < 24; k++) {
      const offset = Math.floor((k * (bytes.length - 1)) / 23);
      const m = Buffer.from(bytes);
      m.writeUInt8(m.readUInt8(offset) ^ 1, offset);
      out.push({ node: f, offset, expect: codeOf(() => verifyReceipt(m, trust())) });
    }
  }
  return out;
}

describe('TS SDK: byte-flip vectors shared with the other SDKs', () => {
  it('test/sdk/vectors/mutations.json holds this verifier\'s codes; only the approver\'s own signature is not checked', () => {
    const list = mutations();
    const text = `${JSON.stringify(list, null, 1)}\n`;
    const file = join(repoRoot, 'test', 'sdk', 'vectors', 'mutations.json');
    if (process.env.HELM_WRITE_SPEC === '1') writeFileSync(file, text);
    expect(readFileSync(file, 'utf8')).toBe(text);
    // A signature by a key outside the trust registry (the approver's, in an approval node) is not
    // checked (receipt.md §8 step 4); the changed entry is caught by its inclusion proof instead.
    const approval = nodes.find(([f]) => f === '04-approval.json')![1].entry;
    const approverSig = approval.indexOf('{"keyid":"helm-vectors/approver-alice');
    const accepted = list.filter((m) => m.expect === 'accepted');
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.filter((m) => m.node !== '04-approval.json' || m.offset < approverSig)).toEqual([]);
  });
});

/** The same for the proof of 03-decision: 48 offsets over the tlog-proof text, each byte XOR 0x01. */
function proofMutations(): Array<{ offset: number; expect: string }> {
  const entry = nodes.find(([f]) => f === '03-decision.json')![1].entry;
  const text = Buffer.from(read('log/decision-03.tlog-proof'), 'utf8');
  return Array.from({ length: 48 }, (_, k) => {
    const offset = Math.floor((k * (text.length - 1)) / 47);
    const m = Buffer.from(text);
    m.writeUInt8(m.readUInt8(offset) ^ 1, offset);
    return { offset, expect: codeOf(() => verifyReceipt(entry, trust(), { proof: m.toString('utf8') })) };
  });
}

describe('TS SDK: proof byte-flip vectors shared with the other SDKs', () => {
  it('test/sdk/vectors/proof-mutations.json holds this verifier\'s codes, and none is accepted', () => {
    const list = proofMutations();
    const text = `${JSON.stringify(list, null, 1)}\n`;
    const file = join(repoRoot, 'test', 'sdk', 'vectors', 'proof-mutations.json');
    if (process.env.HELM_WRITE_SPEC === '1') writeFileSync(file, text);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(list.filter((m) => m.expect === 'accepted')).toEqual([]);
  });
});

describe('TS SDK: trust-event byte-flip vectors shared with the other SDKs', () => {
  it('test/sdk/vectors/trust-event-mutations.json holds this verifier\'s codes, and none is accepted', () => {
    // The key event of 01-trust.json as JSON text (the form trust-events.jsonl carries).
    const event = JSON.stringify(trustEventsOf([nodes.find(([f]) => f === '01-trust.json')![1].entry])[0]);
    const bytes = Buffer.from(event, 'utf8');
    const cases = Array.from({ length: 48 }, (_, k) => {
      const offset = Math.floor((k * (bytes.length - 1)) / 47);
      const m = Buffer.from(bytes);
      m.writeUInt8(m.readUInt8(offset) ^ 1, offset);
      return { offset, expect: codeOf(() => loadTrust(policyText, [m.toString('utf8')])) };
    });
    const text = `${JSON.stringify({ event, cases }, null, 1)}\n`;
    const file = join(repoRoot, 'test', 'sdk', 'vectors', 'trust-event-mutations.json');
    if (process.env.HELM_WRITE_SPEC === '1') writeFileSync(file, text);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(cases.filter((m) => m.expect === 'accepted')).toEqual([]);
  });
});

describe('TS SDK: trust policy vectors shared with the other SDKs', () => {
  it('test/sdk/vectors/policies.json holds what this verifier says of each policy text', () => {
    const k = JSON.parse(read('keys.json')) as Record<'root' | 'node' | 'log' | 'approver' | 'witness', { vkey: string }>;
    const [log, wit, root] = [`log ${k.log.vkey}`, `witness w1 ${k.witness.vkey}`, `root ${k.root.vkey}`];
    const texts: Array<[string, string]> = [
      ['the vectors policy', policyText],
      ['no final newline, tabs, comment lines', `# c\n\tlog\t${k.log.vkey}\n  # another\nquorum none`],
      ['a witness and a group quorum', `${log}\n${wit}\ngroup g any w1\nquorum g\n${root}\n`],
      ['a # inside a line is not a comment: extra fields', `${log} # a log\nquorum none\n`],
      ['no quorum line', `${log}\n${root}\n`],
      ['two quorum lines', `${log}\nquorum none\nquorum none\n`],
      ['quorum names nothing defined', `${log}\nquorum w9\n`],
      ['unknown keyword', `${log}\nwitnesses w1 x\nquorum none\n`],
      ['a log key of the witness type', `log ${k.witness.vkey}\nquorum none\n`],
      ['a witness key of the note type', `witness w1 ${k.log.vkey}\nquorum none\n`],
      ['the same log twice', `${log}\n${log}\nquorum none\n`],
      ['a witness name used twice', `${wit}\n${wit}\nquorum none\n`],
      ['group threshold 0', `${wit}\ngroup g 0 w1\nquorum g\n`],
      ['group threshold above its size', `${wit}\ngroup g 2 w1\nquorum g\n`],
      ['group member not defined', `${wit}\ngroup g any w2\nquorum g\n`],
      ['none as a group member', `${wit}\ngroup g any none\nquorum g\n`],
      ['a member in two groups', `${wit}\ngroup g any w1\ngroup h any w1\nquorum g\n`],
      ['two root lines', `${root}\n${root}\nquorum none\n`],
      ['a root key of the witness type', `root ${k.witness.vkey}\nquorum none\n`],
      ['the same exporter twice', `exporter ${k.approver.vkey}\nexporter ${k.approver.vkey}\nquorum none\n`],
      ['a vkey whose id does not match', `log ${k.log.vkey.replace('+6fb09f64+', '+6fb09f65+')}\nquorum none\n`],
      ['a control character', `${log}\nquorum none\u0001\n`],
    ];
    const cases = texts.map(([why, text]) => ({ why, text, expect: codeOf(() => loadTrust(text)) }));
    const file = join(repoRoot, 'test', 'sdk', 'vectors', 'policies.json');
    const out = `${JSON.stringify(cases, null, 1)}\n`;
    if (process.env.HELM_WRITE_SPEC === '1') writeFileSync(file, out);
    expect(readFileSync(file, 'utf8')).toBe(out);
    expect(cases.map((c) => c.expect)).toEqual([...Array(3).fill('accepted'), ...Array(texts.length - 3).fill('ERR_POLICY_SYNTAX')]);
  });
});

describeWithVectors('TS SDK: ../shared/vectors', () => {
  const dir = join(vectorsDir, 'jcs');
  const names = readdirSync(join(dir, 'input')).filter((n) => n.endsWith('.json'));
  it.each(names)('JCS %s byte for byte, and a tampered expectation differs', (name) => {
    const got = Buffer.from(jcs(JSON.parse(readFileSync(join(dir, 'input', name), 'utf8'))));
    const want = readFileSync(join(dir, 'output', name));
    expect(got.equals(want)).toBe(true);
    const tampered = Buffer.from(want);
    const mid = tampered.length >> 1;
    tampered.writeUInt8(tampered.readUInt8(mid) ^ 0x20, mid);
    expect(got.equals(tampered)).toBe(false);
  });

  interface Case { tcId: number; msg: string; sig: string; result: string }
  const wp = JSON.parse(readFileSync(join(vectorsDir, 'ed25519', 'wycheproof_ed25519_test.json'), 'utf8')) as { testGroups: Array<{ publicKey: { pk: string }; tests: Case[] }> };
  const cases = wp.testGroups.flatMap((g) => g.tests.map((t) => [t.tcId, t, g.publicKey.pk] as const));
  it('Wycheproof Ed25519: every case as expected; every valid signature with one bit flipped is invalid', () => {
    expect(cases).toHaveLength(151);
    const got = cases.map(([id, t, pk]) => {
      const sig = /^([0-9a-f]{2})*$/.test(t.sig) ? hex(t.sig) : new Uint8Array(0);
      return [id, verifyEd25519(hex(pk), hex(t.msg), sig)];
    });
    expect(got).toEqual(cases.map(([id, t]) => [id, t.result === 'valid']));
    const valid = cases.filter(([, t]) => t.result === 'valid');
    expect(valid.length).toBeGreaterThan(0);
    const tampered = valid.map(([id, t, pk]) => [id, verifyEd25519(hex(pk), hex(t.msg), hex(t.sig).map((b, i) => (i === 0 ? b ^ 1 : b)))]);
    expect(tampered).toEqual(valid.map(([id]) => [id, false]));
  });
});
