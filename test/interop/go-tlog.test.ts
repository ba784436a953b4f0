// INTEROP I1-I3 (docs: ../shared/design/evidence-format.md): our checkpoints, tlog-proof files,
// inclusion and consistency proofs and tree roots, checked by Go's reference transparency-log code
// (golang.org/x/mod/sumdb/note and sumdb/tlog) through test/interop/go/main.go. Every genuine case
// must pass in Go, every tampered copy must fail there.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromBase64, toBase64, utf8 } from '../../kernel/crypto/bytes.js';
import { ALG_COSIGNATURE_V1 } from '../../kernel/crypto/keys.js';
import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { addSignatures, signNote } from '../../kernel/crypto/note.js';
import { signingKeyFromSeed } from '../../kernel/crypto/signing-key.js';
import { formatCheckpointText, openCheckpoint, signCheckpoint, type Checkpoint } from '../../kernel/proofgraph/checkpoint.js';
import { MerkleTree } from '../../kernel/proofgraph/merkle.js';
import { formatTlogProof } from '../../kernel/proofgraph/tlog-proof.js';
import { describeWithGo, goPath } from './go-support.js';

const goDir = join(dirname(fileURLToPath(import.meta.url)), 'go');
const N = 300;
const ORIGIN = 'helm.example/log/interop';
const logKey = signingKeyFromSeed(ORIGIN, new Uint8Array(32).fill(31), nodeSigner);
const otherLogKey = signingKeyFromSeed(ORIGIN, new Uint8Array(32).fill(32), nodeSigner);
const witness = signingKeyFromSeed('witness.example/w1', new Uint8Array(32).fill(33), nodeSigner, ALG_COSIGNATURE_V1);
const stranger = signingKeyFromSeed('stranger.example', new Uint8Array(32).fill(34), nodeSigner);

interface GoResult {
  id: string;
  ok: boolean;
  err?: string;
  same?: boolean;
  text?: string;
  note?: string;
}

/** The same bytes with one bit of byte `i` flipped (hashes stay 32 bytes, so only Go's math can catch it). */
function flipHash(h: Uint8Array, i = 0): Uint8Array {
  const c = Uint8Array.from(h);
  c[i % c.length]! ^= 1;
  return c;
}
const b64 = (hs: readonly Uint8Array[]) => hs.map(toBase64);

function buildRequest() {
  const entries = Array.from({ length: N }, (_, i) => (i === 0 ? new Uint8Array(0) : utf8(`{"helm":"interop","i":${i},"pad":"${'x'.repeat(i % 37)}"}`)));
  const tree = new MerkleTree(nodeSuite);
  const roots: Uint8Array[] = [];
  for (const e of entries) {
    tree.appendEntry(e);
    roots.push(tree.root());
  }
  const rootOf = (n: number) => roots[n - 1]!;

  const inclusion: Array<{ id: string; index: number; size: number; root: string; proof: string[] }> = [];
  const pairs: Array<[number, number]> = [];
  for (let size = 1; size <= N; size++) {
    const idx = size <= 64 ? Array.from({ length: size }, (_, i) => i) : [...new Set([0, 1, size >> 1, size - 2, size - 1, (size * 37) % size, (size * 7919) % size])];
    for (const i of idx) pairs.push([i, size]);
  }
  for (const [index, size] of pairs) {
    inclusion.push({ id: `inc/${index}/${size}`, index, size, root: toBase64(rootOf(size)), proof: b64(tree.inclusionProof(index, size)) });
  }
  // Tampered copies: every 13th case, one changed hash / a wrong root / the neighbour's index.
  const badInclusion = inclusion.filter((_, k) => k % 13 === 0 && _.size > 1).flatMap((c, k) => {
    const proof = c.proof.map((p, j) => (j === k % c.proof.length ? toBase64(flipHash(fromBase64(p), k)) : p));
    return [
      { ...c, id: `bad-inc-hash/${c.index}/${c.size}`, proof },
      { ...c, id: `bad-inc-root/${c.index}/${c.size}`, root: toBase64(rootOf(c.size - 1)) },
      { ...c, id: `bad-inc-index/${c.index}/${c.size}`, index: (c.index ^ 1) < c.size ? c.index ^ 1 : c.index - 1 },
    ];
  });

  const consistency: Array<{ id: string; size1: number; root1: string; size2: number; root2: string; proof: string[] }> = [];
  for (let n = 1; n <= N; n++) {
    const ms = n <= 64 ? Array.from({ length: n }, (_, i) => i + 1) : [...new Set([1, 2, n >> 1, n - 1, n, (n * 31) % n || 1, 64, 128, 256].filter((m) => m <= n))];
    for (const m of ms) consistency.push({ id: `cons/${m}/${n}`, size1: m, root1: toBase64(rootOf(m)), size2: n, root2: toBase64(rootOf(n)), proof: b64(tree.consistencyProof(m, n)) });
  }
  const badConsistency = consistency.filter((c, k) => k % 11 === 0 && c.proof.length > 0).flatMap((c, k) => [
    { ...c, id: `bad-cons-hash/${c.size1}/${c.size2}`, proof: c.proof.map((p, j) => (j === k % c.proof.length ? toBase64(flipHash(fromBase64(p), k)) : p)) },
    { ...c, id: `bad-cons-root1/${c.size1}/${c.size2}`, root1: toBase64(flipHash(fromBase64(c.root1), k)) },
  ]);

  const cp = (size: number, extensions: string[] = []): Checkpoint => ({ origin: ORIGIN, size, root: rootOf(size), extensions });
  const plain = signCheckpoint(cp(N), logKey);
  const cosigned = addSignatures(addSignatures(plain, [witness], 1_700_000_000n), [stranger]);
  const notes: Record<string, string> = {
    'note/plain': plain,
    'note/size-1': signCheckpoint(cp(1), logKey),
    'note/size-64': signCheckpoint(cp(64), logKey),
    'note/extension-lines': signCheckpoint(cp(N, ['helm extension line', 'time 1700000000']), logKey),
    'note/cosigned-and-foreign-signature': cosigned,
  };
  const noteCases = Object.entries(notes).map(([id, note]) => ({ id, vkey: logKey.verifier.vkey, note }));
  // Every single-character change of the signed checkpoint, and a look-alike key.
  const badNotes = [...plain].map((ch, i) => ({
    id: `bad-note/char-${i}`,
    vkey: logKey.verifier.vkey,
    note: plain.slice(0, i) + String.fromCharCode(plain.charCodeAt(i) ^ 1) + plain.slice(i + 1),
  }));
  badNotes.push({ id: 'bad-note/other-key-same-name', vkey: otherLogKey.verifier.vkey, note: plain });
  badNotes.push({ id: 'bad-note/signed-by-other-name', vkey: stranger.verifier.vkey, note: signNote(formatCheckpointText(cp(N)), [stranger]) });

  const proofIdx = [0, 1, 2, 150, 255, 256, N - 1];
  const proofs = proofIdx.map((i) => ({
    id: `proof/${i}`,
    vkey: logKey.verifier.vkey,
    text: formatTlogProof({ index: i, proof: tree.inclusionProof(i, N), checkpoint: cosigned, ...(i === 150 ? { extra: utf8('opaque') } : {}) }),
    entry: toBase64(entries[i]!),
  }));
  const badProofs = proofs.flatMap((p, k) => {
    const lines = p.text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('index ')) + 1;
    const flipped = [...lines.slice(0, at), toBase64(flipHash(fromBase64(lines[at]!), k)), ...lines.slice(at + 1)].join('\n');
    const root = toBase64(rootOf(N));
    return [
      { ...p, id: `bad-proof-hash/${k}`, text: flipped },
      { ...p, id: `bad-proof-root/${k}`, text: p.text.replace(root, toBase64(flipHash(rootOf(N), k))) },
      { ...p, id: `bad-proof-entry/${k}`, entry: toBase64(utf8('not the entry')) },
    ];
  });

  const signs = [{ id: 'sign/plain', skey: logKey.privateText, text: formatCheckpointText(cp(N)) }];

  return {
    tree,
    notes,
    request: {
      entries: entries.map(toBase64),
      roots: roots.map(toBase64),
      inclusion: [...inclusion, ...badInclusion],
      consistency: [...consistency, ...badConsistency],
      notes: [...noteCases, ...badNotes],
      proofs: [...proofs, ...badProofs],
      signs,
    },
  };
}

describeWithGo('INTEROP I1-I3: Go golang.org/x/mod/sumdb (note, tlog)', () => {
  let tmp: string;
  let goVersion = '';
  const results = new Map<string, GoResult>();
  const built = buildRequest();
  const { request } = built;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'helm-go-interop-'));
    const bin = join(tmp, 'helm-tlog-interop');
    const env = { ...process.env, GO111MODULE: 'off', GOPATH: goPath, GOFLAGS: '', GOCACHE: process.env.GOCACHE ?? join(tmp, 'gocache') };
    const build = spawnSync('go', ['build', '-o', bin, '.'], { cwd: goDir, env, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`go build failed (status ${build.status}):\n${build.stderr}`);
    const run = spawnSync(bin, [], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 256 << 20 });
    if (run.status !== 0) throw new Error(`helm-tlog-interop failed (status ${run.status}):\n${run.stderr}`);
    const report = JSON.parse(run.stdout) as { go: string; results: GoResult[] };
    goVersion = report.go;
    for (const r of report.results) results.set(r.id, r);
  }, 180_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const failures = (prefix: string, want: (r: GoResult) => boolean) =>
    [...results.values()].filter((r) => r.id.startsWith(prefix) && !want(r)).map((r) => `${r.id}: ${r.err ?? (r.same === false ? 'proof differs from Go' : 'accepted')}`);
  const count = (prefix: string) => [...results.keys()].filter((id) => id.startsWith(prefix)).length;

  it('answered every case', () => {
    expect(goVersion).toMatch(/^go1\.\d+/);
    const expected = request.roots.length + request.inclusion.length + request.consistency.length + request.notes.length + request.proofs.length + request.signs.length;
    expect(results.size).toBe(expected);
  });

  it(`I3: our RFC 6962 roots equal tlog.TreeHash for every size 1..${N}`, () => {
    expect(count('tree/')).toBe(N);
    expect(failures('tree/', (r) => r.ok)).toEqual([]);
    // The frontier root sent to Go must also be what the historical-root path computes.
    for (let n = 1; n <= N; n++) expect(toBase64(built.tree.root(n))).toBe(request.roots[n - 1]);
  });

  it('I2: every inclusion proof passes tlog.CheckRecord and equals tlog.ProveRecord', () => {
    expect(count('inc/')).toBeGreaterThan(2000);
    expect(failures('inc/', (r) => r.ok && r.same === true)).toEqual([]);
  });

  it('I2: tampered inclusion proofs, roots and indexes fail tlog.CheckRecord', () => {
    expect(count('bad-inc-')).toBeGreaterThan(400);
    expect(failures('bad-inc-', (r) => !r.ok)).toEqual([]);
  });

  it('I2: every consistency proof passes tlog.CheckTree and equals tlog.ProveTree', () => {
    expect(count('cons/')).toBeGreaterThan(2000);
    expect(failures('cons/', (r) => r.ok && r.same === true)).toEqual([]);
  });

  it('I2: tampered consistency proofs and roots fail tlog.CheckTree', () => {
    expect(count('bad-cons-')).toBeGreaterThan(300);
    expect(failures('bad-cons-', (r) => !r.ok)).toEqual([]);
  });

  it('I1: our checkpoints open with note.NewVerifier + note.Open, with the same text', () => {
    for (const [id, note] of Object.entries(built.notes)) {
      const r = results.get(id);
      expect({ id, ok: r?.ok, err: r?.err }).toEqual({ id, ok: true, err: undefined });
      expect(r?.text).toBe(note.slice(0, note.indexOf('\n\n') + 1));
    }
  });

  it('I1: every one-character change of a checkpoint, and the wrong key, fail note.Open', () => {
    expect(count('bad-note/')).toBe(built.notes['note/plain']!.length + 2);
    expect(failures('bad-note/', (r) => !r.ok)).toEqual([]);
  });

  it('I1: Go signs the same checkpoint bytes as we do, and we open its note', () => {
    const r = results.get('sign/plain');
    expect(r?.err).toBeUndefined();
    expect(r?.note).toBe(built.notes['note/plain']);
    const { checkpoint } = openCheckpoint(r!.note!, [logKey.verifier], nodeSuite);
    expect(checkpoint.size).toBe(N);
  });

  it('I2: our tlog-proof files verify in Go (spec parser + note.Open + tlog.CheckRecord)', () => {
    expect(count('proof/')).toBe(7);
    expect(failures('proof/', (r) => r.ok)).toEqual([]);
  });

  it('I2: tlog-proof files with a changed proof hash, root or entry fail in Go', () => {
    expect(count('bad-proof-')).toBe(21);
    expect(failures('bad-proof-', (r) => !r.ok)).toEqual([]);
  });
});
