// Content-addressed pack members (inputs/, policies/): the layout admits exactly hex-named JSON
// files, the verifier checks each one's hash, canonical form and that a node references it.
import { nodeSuite } from '../../kernel/crypto/node.js';
import { toHex, utf8 } from '../../kernel/crypto/bytes.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { acceptMember, classifyMember } from '../../kernel/evidence/layout.js';
import { parseTrustPolicy } from '../../kernel/evidence/trust-policy.js';
import { verifyPack } from '../../kernel/evidence/verify-core.js';
import { verifyPackNode } from '../../kernel/evidence/verify-node.js';
import { Lab, lookup } from '../pep/support.js';
import { repack, unpack } from './tamper.js';

const HEX = 'ab'.repeat(32);

describe('pack layout for blobs', () => {
  it.each([
    [`inputs/${HEX}.json`, true],
    [`policies/${HEX}.json`, true],
    ['inputs/abc.json', false],
    [`inputs/${HEX.toUpperCase()}.json`, false],
    [`inputs/${HEX}.yaml`, false],
    [`policies/${HEX}/bundle.json`, false],
    [`logs/a/inputs/${HEX}.json`, false],
  ])('%s accepted: %s', (path, ok) => {
    expect(acceptMember(path, false)).toBe(ok);
  });

  it('admits the blob directories and classifies blob members', () => {
    expect(acceptMember('inputs/', true) && acceptMember('policies/', true)).toBe(true);
    expect(acceptMember('other/', true)).toBe(false);
    expect(classifyMember(`policies/${HEX}.json`)).toEqual({ kind: 'policy', hex: HEX });
  });
});

describe('verifying blobs', () => {
  const lab = Lab.create();
  let pack: Uint8Array;
  let policy: ReturnType<typeof parseTrustPolicy>;
  beforeAll(async () => {
    const l = await lab;
    const h = await l.harness('blobs');
    await h.pep.decide(lookup());
    await l.close();
    pack = (await exportPack({ store: l.root, exporterKey: l.keys.exporter })).bytes;
    policy = parseTrustPolicy(l.policyText(), 'lab.policy');
  });
  afterAll(async () => (await lab).cleanup());

  it('a PEP pack carries its input and bundle and verifies', async () => {
    const r = await verifyPack(pack, policy, { suite: nodeSuite });
    expect(r.problems).toEqual([]);
    expect(r.blobs).toEqual({ inputs: 1, policies: 1 });
  });

  it('the node verifier (entries decoded on worker threads) sees the same references', async () => {
    const r = await verifyPackNode(pack, policy, { workers: 2 });
    expect(r.problems).toEqual([]);
    expect(r.blobs).toEqual({ inputs: 1, policies: 1 });
  });

  it('a blob that is not canonical JSON is refused even under its right name', async () => {
    const files = unpack(pack);
    const name = [...files.keys()].find((p) => p.startsWith('inputs/'))!;
    const pretty = utf8(JSON.stringify(JSON.parse(new TextDecoder().decode(files.get(name)!)), null, 1));
    const bad = repack(
      pack,
      (f) => {
        f.delete(name);
        f.set(`inputs/${toHex(nodeSuite.sha256(pretty))}.json`, pretty);
      },
      { resign: (await lab).keys.exporter },
    );
    const codes = (await verifyPack(bad, policy, { suite: nodeSuite })).problems.map((p) => p.code).sort();
    expect(codes).toEqual(['ERR_PACK_BLOB_MALFORMED', 'ERR_PACK_UNEXPECTED_FILE']);
  });
});
