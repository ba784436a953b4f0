import { fromBase64, toBase64, utf8 } from '../../kernel/crypto/bytes.js';
import { ALG_COSIGNATURE_V1 } from '../../kernel/crypto/keys.js';
import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { addSignatures } from '../../kernel/crypto/note.js';
import { portableSuite } from '../../kernel/crypto/portable.js';
import { signingKeyFromSeed } from '../../kernel/crypto/signing-key.js';
import type { CryptoSuite } from '../../kernel/crypto/suite.js';
import { parseTrustPolicy } from '../../kernel/evidence/trust-policy.js';
import { signCheckpoint } from '../../kernel/proofgraph/checkpoint.js';
import { MerkleTree } from '../../kernel/proofgraph/merkle.js';
import { formatTlogProof, parseTlogProof, TLOG_PROOF_HEADER, verifyTlogProof } from '../../kernel/proofgraph/tlog-proof.js';
import { codeOf } from '../support/errors.js';

const ORIGIN = 'helm.example/log/sidecar-b';
const seed = (n: number) => new Uint8Array(32).fill(n);
const logKey = signingKeyFromSeed(ORIGIN, seed(3), nodeSigner);
const w1 = signingKeyFromSeed('w1.example', seed(4), nodeSigner, ALG_COSIGNATURE_V1);
const w2 = signingKeyFromSeed('w2.example', seed(5), nodeSigner, ALG_COSIGNATURE_V1);

const entries = Array.from({ length: 13 }, (_, i) => utf8(JSON.stringify({ i, pad: 'x'.repeat(i) })));
const tree = new MerkleTree(nodeSuite);
entries.forEach((e) => tree.appendEntry(e));
const checkpoint = addSignatures(signCheckpoint({ origin: ORIGIN, size: tree.size, root: tree.root(), extensions: [] }, logKey), [w1, w2], 1_700_000_000n);
const policy = parseTrustPolicy([`log ${logKey.verifier.vkey}`, `witness A ${w1.verifier.vkey}`, `witness B ${w2.verifier.vkey}`, 'group both all A B', 'quorum both'].join('\n'), 'test.policy');
const proofFor = (i: number, extra?: Uint8Array) => formatTlogProof({ index: i, proof: tree.inclusionProof(i), checkpoint, ...(extra ? { extra } : {}) });


describe('tlog-proof text', () => {
  it('has the C2SP layout and round-trips', () => {
    const text = proofFor(5);
    const hashes = tree.inclusionProof(5);
    expect(text).toBe([TLOG_PROOF_HEADER, 'index 5', ...hashes.map(toBase64), '', ''].join('\n') + checkpoint);
    expect(parseTlogProof(text)).toEqual({ index: 5, proof: hashes, checkpoint, extra: null });
    const extra = utf8('age-v1.2.1-darwin-arm64.tar.gz');
    const withExtra = proofFor(0, extra);
    expect(withExtra.split('\n')[1]).toBe(`extra ${toBase64(extra)}`);
    expect(parseTlogProof(withExtra)).toEqual({ index: 0, proof: tree.inclusionProof(0), checkpoint, extra });
  });

  it('handles a one-leaf tree (empty proof)', () => {
    const one = new MerkleTree(nodeSuite);
    one.appendEntry(entries[0]!);
    const cp = addSignatures(signCheckpoint({ origin: ORIGIN, size: 1, root: one.root(), extensions: [] }, logKey), [w1, w2], 1n);
    const text = formatTlogProof({ index: 0, proof: [], checkpoint: cp });
    expect(text.startsWith(`${TLOG_PROOF_HEADER}\nindex 0\n\n`)).toBe(true);
    expect(verifyTlogProof(text, entries[0]!, policy, nodeSuite).index).toBe(0);
  });

  const good = proofFor(6);
  const lines = good.split('\n');
  const hash31 = toBase64(new Uint8Array(31));
  const bad: Array<[string, string]> = [
    ['a wrong header', good.replace(TLOG_PROOF_HEADER, 'c2sp.org/tlog-proof@v2')],
    ['an index with a leading zero', good.replace('index 6', 'index 06')],
    ['a negative index', good.replace('index 6', 'index -6')],
    ['an index above 2^53-1', good.replace('index 6', 'index 9007199254740992')],
    ['a missing index line', good.replace('index 6\n', '')],
    ['extra data after the index line', good.replace('index 6\n', 'index 6\nextra AAAA\n')],
    ['non-base64 extra data', good.replace('index 6\n', 'extra !!!!\nindex 6\n')],
    ['a 31-byte proof hash', [...lines.slice(0, 2), hash31, ...lines.slice(3)].join('\n')],
    ['a non-base64 proof line', [...lines.slice(0, 2), lines[2]!.replace(/=$/, ''), ...lines.slice(3)].join('\n')],
    ['no empty line before the checkpoint', `${TLOG_PROOF_HEADER}\nindex 6\n${lines[2]}`],
    ['no checkpoint', `${TLOG_PROOF_HEADER}\nindex 6\n\n`],
    ['a checkpoint without signatures', `${TLOG_PROOF_HEADER}\nindex 6\n\n${ORIGIN}\n13\n${toBase64(tree.root())}\n`],
    ['CRLF line endings', good.replaceAll('\n', '\r\n')],
  ];
  it.each(bad)('refuses %s', (_what, text) => {
    expect(codeOf(() => parseTlogProof(text))).toBe('ERR_TLOG_PROOF_MALFORMED');
  });

  it('refuses to format bad input', () => {
    expect(codeOf(() => formatTlogProof({ index: -1, proof: [], checkpoint }))).toBe('ERR_TLOG_PROOF_MALFORMED');
    expect(codeOf(() => formatTlogProof({ index: 0, proof: [new Uint8Array(31)], checkpoint }))).toBe('ERR_TLOG_PROOF_MALFORMED');
    expect(codeOf(() => formatTlogProof({ index: 0, proof: [], checkpoint: 'not a note\n' }))).toBe('ERR_TLOG_PROOF_MALFORMED');
  });
});

const suites: Array<[string, CryptoSuite]> = [[nodeSuite.name, nodeSuite], [portableSuite.name, portableSuite]];

describe.each(suites)('verifyTlogProof (%s)', (_name, suite) => {
  it('verifies every entry of the tree', () => {
    for (let i = 0; i < entries.length; i++) {
      const r = verifyTlogProof(proofFor(i), entries[i]!, policy, suite);
      expect(r.index).toBe(i);
      expect(r.checkpoint.size).toBe(13);
      expect(r.logKey.handle).toBe(logKey.verifier.handle);
      expect(r.witnesses).toEqual(['A', 'B']);
    }
  });

  it('ignores the unauthenticated extra data', () => {
    expect(verifyTlogProof(proofFor(2, utf8('anything')), entries[2]!, policy, suite).index).toBe(2);
  });

  it('rejects the wrong entry', () => {
    expect(codeOf(() => verifyTlogProof(proofFor(3), entries[4]!, policy, suite))).toBe('ERR_TLOG_PROOF_INCLUSION');
    expect(codeOf(() => verifyTlogProof(proofFor(3), utf8('{"i":3,"pad":"xxx"} '), policy, suite))).toBe('ERR_TLOG_PROOF_INCLUSION');
  });

  it('rejects a wrong index, inside and outside the tree', () => {
    expect(codeOf(() => verifyTlogProof(proofFor(3).replace('index 3', 'index 2'), entries[3]!, policy, suite))).toBe('ERR_TLOG_PROOF_INCLUSION');
    expect(codeOf(() => verifyTlogProof(proofFor(12).replace('index 12', 'index 13'), entries[12]!, policy, suite))).toBe('ERR_TLOG_PROOF_INDEX');
  });

  it('rejects a tampered proof line, a dropped one and an added one', () => {
    const text = proofFor(9);
    const proofLines = text.split('\n');
    for (let l = 2; l < 2 + tree.inclusionProof(9).length; l++) {
      const h = fromBase64(proofLines[l]!);
      h[31]! ^= 1;
      const tampered = [...proofLines.slice(0, l), toBase64(h), ...proofLines.slice(l + 1)].join('\n');
      expect(codeOf(() => verifyTlogProof(tampered, entries[9]!, policy, suite))).toBe('ERR_TLOG_PROOF_INCLUSION');
    }
    const dropped = [...proofLines.slice(0, 2), ...proofLines.slice(3)].join('\n');
    expect(codeOf(() => verifyTlogProof(dropped, entries[9]!, policy, suite))).toBe('ERR_TLOG_PROOF_INCLUSION');
    const added = [...proofLines.slice(0, 2), toBase64(new Uint8Array(32)), ...proofLines.slice(2)].join('\n');
    expect(codeOf(() => verifyTlogProof(added, entries[9]!, policy, suite))).toBe('ERR_TLOG_PROOF_INCLUSION');
  });

  it('rejects a checkpoint by a log the policy does not trust', () => {
    const stranger = signingKeyFromSeed(ORIGIN, seed(6), nodeSigner);
    const other = parseTrustPolicy(`log ${stranger.verifier.vkey}\nwitness A ${w1.verifier.vkey}\nwitness B ${w2.verifier.vkey}\ngroup both all A B\nquorum both\n`, 'other.policy');
    expect(codeOf(() => verifyTlogProof(proofFor(1), entries[1]!, other, suite))).toBe('ERR_CHECKPOINT_UNTRUSTED');
  });

  it('rejects a checkpoint without the witness quorum', () => {
    const logOnly = signCheckpoint({ origin: ORIGIN, size: tree.size, root: tree.root(), extensions: [] }, logKey);
    const text = formatTlogProof({ index: 1, proof: tree.inclusionProof(1), checkpoint: addSignatures(logOnly, [w1], 5n) });
    expect(codeOf(() => verifyTlogProof(text, entries[1]!, policy, suite))).toBe('ERR_QUORUM_NOT_MET');
  });

  it('rejects a proof whose checkpoint root was changed', () => {
    const root = toBase64(tree.root());
    const other = toBase64(tree.root(12));
    expect(codeOf(() => verifyTlogProof(proofFor(1).replace(root, other), entries[1]!, policy, suite))).toBe('ERR_CHECKPOINT_BAD_SIGNATURE');
  });
});
