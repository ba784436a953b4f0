// Receipts whose strings hold characters outside ASCII: an agent chooses call ids, tool names and
// principals, so any Unicode scalar value reaches a node. Each one must verify: its DSSE PAE counts
// the payload's UTF-8 bytes (a character outside the BMP is 2 UTF-16 units but 4 bytes).
import { fromBase64, portableUtf8ByteLength, utf8 } from '../../kernel/crypto/bytes.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { portableSuite } from '../../kernel/crypto/portable.js';
import { IN_TOTO_PAYLOAD_TYPE, pae } from '../../kernel/contracts/dsse.js';
import { decodeNode, encodeNode, statementError } from '../../kernel/contracts/node.js';
import { parseVerifierKey } from '../../kernel/crypto/keys.js';
import { jcsString } from '../../kernel/crypto/jcs.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { verifyPack } from '../../kernel/evidence/verify-core.js';
import { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeKeys, policyFor, publishEvent, TestClock, tempDir, testKey, toolCall } from './fixtures.js';

const TEXTS: Array<[string, string]> = [
  ['ASCII', 'call_1'],
  ['2-byte', 'café'],
  ['3-byte', '€ 東京'],
  ['outside the BMP', '😀'],
  ['mixed', 'a😀é€𝄞b'],
  ['many astral', '𝄞'.repeat(200)],
];

describe('a node with non-ASCII strings is signed over its exact UTF-8 payload', () => {
  const key = testKey('unicode-node');
  const signers = [{ keyid: key.verifier.handle, signer: key }];
  const h = `sha256:${'ab'.repeat(32)}` as const;
  for (const suite of [nodeSuite, portableSuite]) {
    it.each(TEXTS)(`${suite.name}: %s`, (_what, text) => {
      const n = encodeNode(suite, {
        kind: 'decision',
        subjectName: `call/${text}`,
        predicate: { origin: 'helm.test/unicode', index: 0, lamport: 1, prev: null, parents: [], time: '2026-12-03T00:00:00.000Z', body: { callId: text, tool: 't', verdict: 'ALLOW', reasonCode: 'RULE_ALLOW', ruleIds: [], policyDigest: h, inputDigest: h, engine: text } },
      }, signers);
      const payload = fromBase64(n.envelope.payload);
      const sig = fromBase64(n.envelope.signatures[0]!.sig);
      expect(suite.verifyEd25519(key.verifier.publicKey, pae(IN_TOTO_PAYLOAD_TYPE, payload), sig)).toBe(true);
      expect(decodeNode(suite, n.entry).statement.predicate.body).toEqual(n.statement.predicate.body);
    });
  }
});

describe('spec vector examples/intent-unicode.json', () => {
  const dir = join(process.cwd(), 'docs/spec/vectors');
  const v = JSON.parse(readFileSync(join(dir, 'examples/intent-unicode.json'), 'utf8'));
  const nodeKey = parseVerifierKey(JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8')).node.vkey);
  it('holds a character outside the BMP, satisfies the intent schema and verifies with both suites', () => {
    expect(v.payloadJcs).toMatch(/[\u{10000}-\u{10ffff}]/u);
    expect(statementError('intent', v.statement)).toBeNull();
    const payload = fromBase64(v.envelope.payload);
    expect(new TextDecoder().decode(payload)).toBe(v.payloadJcs);
    expect(jcsString(v.statement)).toBe(v.payloadJcs);
    for (const suite of [nodeSuite, portableSuite]) expect(suite.verifyEd25519(nodeKey.publicKey, pae(IN_TOTO_PAYLOAD_TYPE, payload), fromBase64(v.envelope.signatures[0].sig))).toBe(true);
  });
});

describe('the portable UTF-8 byte count (browsers) equals the encoder\'s', () => {
  it('on the texts above, lone surrogates and 2,000 random strings', () => {
    const units = [0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xfffd, 0xffff];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const texts = [...TEXTS.map(([, t]) => t), '\ud800', 'a\udc00b', '\ud83d', '\ud83d\ude00\ud83d'];
    for (let i = 0; i < 2000; i++) texts.push(String.fromCharCode(...Array.from({ length: next() % 12 }, () => (next() % 3 === 0 ? units[next() % units.length]! : next() % 0x10000))));
    for (const t of texts) expect([t, portableUtf8ByteLength(t)]).toEqual([t, utf8(t).length]);
  });
});

describe('a pack of tool calls with non-ASCII call ids verifies', () => {
  it('exports and verifies with every receipt intact', async () => {
    const origin = 'helm.test/unicode';
    const keys = makeKeys([origin]);
    const k = keys.logs[origin]!;
    const { dir, cleanup } = await tempDir('helm-unicode-');
    try {
      const clock = new TestClock();
      const w = await ProofGraphWriter.open({ root: dir, writerId: 'w', origin, nodeKey: k.node, logKey: k.log, clock: clock.read, trustEvents: [publishEvent(keys, origin)] });
      for (const [, text] of TEXTS) await toolCall(w, clock, text);
      await w.close();
      const pack = await exportPack({ store: dir, exporterKey: keys.exporter });
      const r = await verifyPack(pack.bytes, policyFor(keys), { suite: nodeSuite });
      expect(r.problems).toEqual([]);
      expect(r.ok).toBe(true);
    } finally {
      await cleanup();
    }
  });
});
