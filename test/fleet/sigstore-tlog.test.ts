// Fleet checkpoints (fleet key signature + collector cosignature) and inclusion proofs of fleet
// leaves, checked by an independent implementation: @sigstore/verify's tlog code
// (dist/tlog/checkpoint.js verifyCheckpoint, dist/tlog/merkle.js verifyMerkleInclusion).
import { createRequire } from 'node:module';
import { createPublicKey } from 'node:crypto';
import { fromHex } from '../../kernel/crypto/bytes.js';
import { nodeSuite, spkiDer } from '../../kernel/crypto/node.js';
import { addSignatures } from '../../kernel/crypto/note.js';
import { encodeFleetEvent, type FleetEvent } from '../../kernel/fleet/events.js';
import { signCheckpoint } from '../../kernel/proofgraph/checkpoint.js';
import { MerkleTree } from '../../kernel/proofgraph/merkle.js';
import { fleetKey, mirrorKey } from './fleet-support.js';

const require = createRequire(import.meta.url);
const { verifyCheckpoint } = require('@sigstore/verify/dist/tlog/checkpoint.js') as { verifyCheckpoint: (entry: unknown, tlogs: unknown[]) => { logSize: bigint; logHash: Buffer } };
const { verifyMerkleInclusion } = require('@sigstore/verify/dist/tlog/merkle.js') as { verifyMerkleInclusion: (entry: unknown, checkpoint: unknown) => void };

// Sigstore finds a log key by the 4-byte key hint (our signed-note key id) and a name in its URL.
const tlog = { logID: Buffer.concat([Buffer.from(fromHex(fleetKey.verifier.keyId)), Buffer.alloc(28)]), baseURL: `https://${fleetKey.verifier.name}`, publicKey: createPublicKey({ key: spkiDer(fleetKey.publicKey), format: 'der', type: 'spki' }) };

function fleetLog(n: number): { tree: MerkleTree; leaves: Uint8Array[]; note: string } {
  const tree = new MerkleTree(nodeSuite);
  const leaves: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const ev: FleetEvent = i % 3 === 0 ? { kind: 'WRITER_OPEN', origin: `helm/c/ns/p${i}/b1`, namespace: 'ns', logKey: 'k', certification: {}, time: 1000 + i } : { kind: 'WRITER_CLOSED', origin: `helm/c/ns/p${i - (i % 3)}/b1`, size: i, time: 2000 + i };
    const bytes = encodeFleetEvent(ev);
    leaves.push(bytes);
    tree.appendEntry(bytes);
  }
  // As the collector publishes it: fleet key signature, then the collector's cosignature line.
  const note = addSignatures(signCheckpoint({ origin: fleetKey.verifier.name, size: n, root: tree.root(), extensions: [] }, fleetKey), [mirrorKey], 1_764_000_000n);
  return { tree, leaves, note };
}

const entry = (note: string, leaf: Uint8Array, index: number, hashes: Uint8Array[]) => ({
  canonicalizedBody: Buffer.from(leaf),
  inclusionProof: { logIndex: String(index), hashes: hashes.map((h) => Buffer.from(h)), checkpoint: { envelope: note } },
});

describe('fleet checkpoints and inclusion proofs under @sigstore/verify', () => {
  it('accepts every leaf of fleet logs of many sizes, with the cosigned checkpoint', () => {
    for (const n of [1, 2, 3, 7, 64, 257]) {
      const { tree, leaves, note } = fleetLog(n);
      for (let i = 0; i < n; i += n > 64 ? 17 : 1) {
        const e = entry(note, leaves[i]!, i, tree.inclusionProof(i));
        const cp = verifyCheckpoint(e, [tlog]);
        expect(cp.logSize).toBe(BigInt(n));
        expect(() => verifyMerkleInclusion(e, cp)).not.toThrow();
      }
    }
  });

  it('rejects a tampered checkpoint, a wrong leaf and a wrong index', () => {
    const { tree, leaves, note } = fleetLog(64);
    const good = entry(note, leaves[5]!, 5, tree.inclusionProof(5));
    const tamperedNote = note.replace('\n64\n', '\n63\n');
    expect(() => verifyCheckpoint(entry(tamperedNote, leaves[5]!, 5, tree.inclusionProof(5)), [tlog])).toThrow(/invalid checkpoint signature/);
    const cp = verifyCheckpoint(good, [tlog]);
    expect(() => verifyMerkleInclusion(entry(note, leaves[6]!, 5, tree.inclusionProof(5)), cp)).toThrow();
    expect(() => verifyMerkleInclusion(entry(note, leaves[5]!, 6, tree.inclusionProof(5)), cp)).toThrow();
  });
});
