import { fromBase64, toBase64 } from '../../kernel/crypto/bytes.js';
import { ALG_COSIGNATURE_V1, ALG_ED25519 } from '../../kernel/crypto/keys.js';
import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { addSignatures, signNote } from '../../kernel/crypto/note.js';
import { portableSuite } from '../../kernel/crypto/portable.js';
import type { CryptoSuite } from '../../kernel/crypto/suite.js';
import { signingKeyFromSeed, type SigningKey } from '../../kernel/crypto/signing-key.js';
import { parseTrustPolicy, quorumSatisfied, verifyCheckpointWithPolicy } from '../../kernel/evidence/trust-policy.js';
import { formatCheckpointText, openCheckpoint, parseCheckpointText, signCheckpoint, type Checkpoint } from '../../kernel/proofgraph/checkpoint.js';
import { MerkleTree } from '../../kernel/proofgraph/merkle.js';
import { codeOf } from '../support/errors.js';

const ORIGIN = 'helm.example/log/sidecar-a';
const key = (name: string, n: number, alg = ALG_ED25519): SigningKey => signingKeyFromSeed(name, new Uint8Array(32).fill(n), nodeSigner, alg);
const logKey = key(ORIGIN, 1);
const witnesses = [12, 13, 15].map((n, i) => key(`witness${i + 1}.example`, n, ALG_COSIGNATURE_V1));

const suites: Array<[string, CryptoSuite]> = [[nodeSuite.name, nodeSuite], [portableSuite.name, portableSuite]];

const tree = new MerkleTree(nodeSuite);
for (let i = 0; i < 11; i++) tree.appendEntry(new TextEncoder().encode(`entry ${i}`));
const cp: Checkpoint = { origin: ORIGIN, size: tree.size, root: tree.root(), extensions: [] };
const note = signCheckpoint(cp, logKey);

/** Flips one byte of the decoded last signature line and re-encodes it canonically. */
function flipLastSignature(n: string, byte: number): string {
  const lines = n.split('\n');
  const at = lines.length - 2;
  const [dash, name, b64] = lines[at]!.split(' ') as [string, string, string];
  const raw = fromBase64(b64);
  raw[byte]! ^= 1;
  lines[at] = `${dash} ${name} ${toBase64(raw)}`;
  return lines.join('\n');
}


describe('checkpoint text', () => {
  it('formats the C2SP three lines and round-trips, with and without extension lines', () => {
    const text = formatCheckpointText(cp);
    expect(text).toBe(`${ORIGIN}\n11\n${toBase64(cp.root)}\n`);
    expect(parseCheckpointText(text)).toEqual(cp);
    const ext = { ...cp, extensions: ['— extension one', 'Timestamp: 1700000000'] };
    expect(parseCheckpointText(formatCheckpointText(ext))).toEqual(ext);
    for (const size of [0, 1, Number.MAX_SAFE_INTEGER]) {
      expect(parseCheckpointText(formatCheckpointText({ ...cp, size })).size).toBe(size);
    }
  });

  const root = toBase64(cp.root);
  const bad: Array<[string, string]> = [
    ['leading zero in size', `${ORIGIN}\n011\n${root}\n`],
    ['size "00"', `${ORIGIN}\n00\n${root}\n`],
    ['signed size', `${ORIGIN}\n+11\n${root}\n`],
    ['negative size', `${ORIGIN}\n-1\n${root}\n`],
    ['size with a space', `${ORIGIN}\n11 \n${root}\n`],
    ['size above 2^53-1', `${ORIGIN}\n9007199254740992\n${root}\n`],
    ['url-safe base64 root', `${ORIGIN}\n11\n${root.replace(/[+/]/g, '_').replace(/^./, '-')}\n`],
    ['unpadded base64 root', `${ORIGIN}\n11\n${root.replace(/=+$/, '')}\n`],
    ['non-zero base64 padding bits', `${ORIGIN}\n11\n${toBase64(new Uint8Array(32)).replace('A=', 'B=')}\n`],
    ['31-byte root', `${ORIGIN}\n11\n${toBase64(new Uint8Array(31))}\n`],
    ['33-byte root', `${ORIGIN}\n11\n${toBase64(new Uint8Array(33))}\n`],
    ['empty origin', `\n11\n${root}\n`],
    ['missing final newline', `${ORIGIN}\n11\n${root}`],
    ['only two lines', `${ORIGIN}\n11\n`],
    ['empty extension line', `${ORIGIN}\n11\n${root}\n\n`],
    ['control character in origin', `${ORIGIN}\t\n11\n${root}\n`],
    ['carriage return', `${ORIGIN}\r\n11\r\n${root}\r\n`],
  ];
  it.each(bad)('refuses %s', (_what, text) => {
    expect(codeOf(() => parseCheckpointText(text))).toBe('ERR_CHECKPOINT_MALFORMED');
  });

  it('refuses to format what it would refuse to parse', () => {
    expect(codeOf(() => formatCheckpointText({ ...cp, origin: '' }))).toBe('ERR_CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpointText({ ...cp, origin: 'a\nb' }))).toBe('ERR_CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpointText({ ...cp, size: -1 }))).toBe('ERR_CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpointText({ ...cp, size: 2 ** 53 }))).toBe('ERR_CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpointText({ ...cp, root: new Uint8Array(31) }))).toBe('ERR_CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpointText({ ...cp, extensions: [''] }))).toBe('ERR_CHECKPOINT_MALFORMED');
  });
});

describe.each(suites)('signed checkpoints (%s)', (_name, suite) => {
  it('signs with the log key named after the origin and opens', () => {
    expect(note.startsWith(formatCheckpointText(cp) + '\n\u2014 ' + ORIGIN + ' ')).toBe(true);
    const { checkpoint, verification } = openCheckpoint(note, [logKey.verifier], suite);
    expect(checkpoint).toEqual(cp);
    expect(verification.verified.map((v) => v.key.handle)).toEqual([logKey.verifier.handle]);
  });

  it('refuses to sign with a key whose name is not the origin, or with a cosignature key', () => {
    expect(codeOf(() => signCheckpoint(cp, key('helm.example/other', 1)))).toBe('ERR_CHECKPOINT_KEY');
    expect(codeOf(() => signCheckpoint(cp, key(ORIGIN, 1, ALG_COSIGNATURE_V1)))).toBe('ERR_CHECKPOINT_KEY');
  });

  it('fails when any single character of the note is changed', () => {
    let failures = 0;
    for (let i = 0; i < note.length; i++) {
      const flipped = note.slice(0, i) + String.fromCharCode(note.charCodeAt(i) ^ 1) + note.slice(i + 1);
      expect(() => openCheckpoint(flipped, [logKey.verifier], suite)).toThrow();
      failures++;
    }
    expect(failures).toBe(note.length);
  });

  it('reports a flipped root byte as a bad signature', () => {
    const raw = fromBase64(toBase64(cp.root));
    raw[0]! ^= 0x80;
    const tampered = note.replace(toBase64(cp.root), toBase64(raw));
    expect(codeOf(() => openCheckpoint(tampered, [logKey.verifier], suite))).toBe('ERR_NOTE_BAD_SIGNATURE');
  });

  it('ignores signatures by unknown keys', () => {
    const stranger = key('stranger.example', 77);
    const strangerLine = signNote(formatCheckpointText(cp), [stranger]).split('\n\n')[1]!;
    const withStranger = note + strangerLine;
    const { verification } = openCheckpoint(withStranger, [logKey.verifier], suite);
    expect(verification.verified).toHaveLength(1);
    expect(verification.unknown.map((s) => s.name)).toEqual(['stranger.example']);
  });

  it('needs a signature by a key named after the origin', () => {
    const impostor = key('helm.example/impostor', 5);
    const byImpostor = signNote(formatCheckpointText(cp), [impostor]);
    expect(codeOf(() => openCheckpoint(byImpostor, [impostor.verifier, logKey.verifier], suite))).toBe('ERR_CHECKPOINT_UNTRUSTED');
    // A witness cosignature alone does not make a checkpoint.
    const onlyCosigned = addSignatures(byImpostor, [witnesses[0]!], 1_700_000_000n);
    expect(codeOf(() => openCheckpoint(onlyCosigned, [witnesses[0]!.verifier], suite))).toBe('ERR_CHECKPOINT_UNTRUSTED');
    expect(codeOf(() => openCheckpoint(note, [impostor.verifier], suite))).toBe('ERR_NOTE_UNVERIFIED');
  });

  it('verifies a witness cosignature (c2sp tlog-cosignature, type 0x04) with its timestamp', () => {
    const cosigned = addSignatures(note, [witnesses[0]!], 1_700_000_123n);
    const { verification } = openCheckpoint(cosigned, [logKey.verifier, witnesses[0]!.verifier], suite);
    expect(verification.verified.map((v) => [v.key.handle, v.timestamp])).toEqual([
      [logKey.verifier.handle, undefined],
      [witnesses[0]!.verifier.handle, 1_700_000_123n],
    ]);
    // The cosignature covers its timestamp (bytes 4..11 after the key id): changing it must fail.
    const moved = flipLastSignature(cosigned, 11);
    expect(codeOf(() => openCheckpoint(moved, [logKey.verifier, witnesses[0]!.verifier], suite))).toBe('ERR_NOTE_BAD_SIGNATURE');
  });
});

describe.each(suites)('cosigned checkpoints under a trust policy (%s)', (_name, suite) => {
  const [w1, w2, w3] = witnesses as [SigningKey, SigningKey, SigningKey];
  const twoOfThree = parseTrustPolicy(
    [`log ${logKey.verifier.vkey}`, `witness W1 ${w1.verifier.vkey}`, `witness W2 ${w2.verifier.vkey}`, `witness W3 ${w3.verifier.vkey}`, 'group two 2 W1 W2 W3', 'quorum two'].join('\n'),
    'two-of-three.policy',
  );

  it('enforces a 2-of-3 quorum', () => {
    expect(codeOf(() => verifyCheckpointWithPolicy(note, twoOfThree, suite))).toBe('ERR_QUORUM_NOT_MET');
    const one = addSignatures(note, [w2], 1_700_000_000n);
    expect(codeOf(() => verifyCheckpointWithPolicy(one, twoOfThree, suite))).toBe('ERR_QUORUM_NOT_MET');
    const two = addSignatures(one, [w3], 1_700_000_001n);
    const r = verifyCheckpointWithPolicy(two, twoOfThree, suite);
    expect(r.witnesses).toEqual(['W2', 'W3']);
    expect(r.logKey.line).toBe(1);
    expect(r.checkpoint).toEqual(cp);
    const three = addSignatures(two, [w1], 1_700_000_002n);
    expect(verifyCheckpointWithPolicy(three, twoOfThree, suite).witnesses.sort()).toEqual(['W1', 'W2', 'W3']);
  });

  it('does not count a cosignature by a witness outside the policy, and refuses a bad one by a policy witness', () => {
    const outsider = key('outsider.example', 40, ALG_COSIGNATURE_V1);
    const cosigned = addSignatures(note, [w1, outsider], 1_700_000_000n);
    expect(codeOf(() => verifyCheckpointWithPolicy(cosigned, twoOfThree, suite))).toBe('ERR_QUORUM_NOT_MET');
    const good = addSignatures(note, [w1, w2], 1_700_000_000n);
    expect(codeOf(() => verifyCheckpointWithPolicy(flipLastSignature(good, 40), twoOfThree, suite))).toBe('ERR_CHECKPOINT_BAD_SIGNATURE');
  });

  it('refuses checkpoints not signed by a policy log', () => {
    const otherLog = key(ORIGIN, 2);
    const foreign = addSignatures(signCheckpoint(cp, otherLog), [w1, w2], 1_700_000_000n);
    expect(codeOf(() => verifyCheckpointWithPolicy(foreign, twoOfThree, suite))).toBe('ERR_CHECKPOINT_UNTRUSTED');
    // The policy's log key signing some other origin is not a signature "as the log" either.
    const misnamed = signNote(formatCheckpointText({ ...cp, origin: 'helm.example/elsewhere' }), [logKey]);
    const cosignedMisnamed = addSignatures(misnamed, [w1, w2], 1_700_000_000n);
    expect(codeOf(() => verifyCheckpointWithPolicy(cosignedMisnamed, twoOfThree, suite))).toBe('ERR_CHECKPOINT_UNTRUSTED');
  });

  it('evaluates nested groups (C2SP example shape: 2 of X and any of Y)', () => {
    const ys = [20, 22, 23].map((n, i) => key(`y${i + 1}.example`, n, ALG_COSIGNATURE_V1)) as [SigningKey, SigningKey, SigningKey];
    const nested = parseTrustPolicy(
      [
        `log ${logKey.verifier.vkey}`,
        `witness X1 ${w1.verifier.vkey}`,
        `witness X2 ${w2.verifier.vkey}`,
        `witness X3 ${w3.verifier.vkey}`,
        'group X-witnesses 2 X1 X2 X3',
        ...ys.map((y, i) => `witness Y${i + 1} ${y.verifier.vkey}`),
        'group Y-witnesses any Y1 Y2 Y3',
        'group X-and-Y all X-witnesses Y-witnesses',
        'quorum X-and-Y',
      ].join('\n'),
      'nested.policy',
    );
    const ok = addSignatures(note, [w1, w3, ys[1]], 1_700_000_000n);
    expect(verifyCheckpointWithPolicy(ok, nested, suite).witnesses).toEqual(['X1', 'X3', 'Y2']);
    const noY = addSignatures(note, [w1, w2, w3], 1_700_000_000n);
    expect(codeOf(() => verifyCheckpointWithPolicy(noY, nested, suite))).toBe('ERR_QUORUM_NOT_MET');
    const oneX = addSignatures(note, [w1, ...ys], 1_700_000_000n);
    expect(codeOf(() => verifyCheckpointWithPolicy(oneX, nested, suite))).toBe('ERR_QUORUM_NOT_MET');
    expect(quorumSatisfied(nested, new Set(['X2', 'X3', 'Y3']))).toBe(true);
    expect(quorumSatisfied(nested, new Set(['X2', 'Y1', 'Y3']))).toBe(false);
  });

  it('accepts a log-signed checkpoint without cosignatures under `quorum none`', () => {
    const none = parseTrustPolicy(`log ${logKey.verifier.vkey}\nquorum none\n`, 'none.policy');
    expect(verifyCheckpointWithPolicy(note, none, suite).witnesses).toEqual([]);
  });
});
