// The node verifier on worker threads (decode, leaf hashing and signatures sent to the pool in
// chunks) must give the same report as the same verifier on the calling thread, byte for byte:
// every valid and tampered pack, and packs carrying each negative node vector of docs/spec.
import { readFileSync } from 'node:fs';
import type { VerifyReport } from '../../kernel/evidence/verify-core.js';
import { verifyPackNode, VerifyPool } from '../../kernel/evidence/verify-node.js';
import { policyFor } from './fixtures.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { leafHash } from '../../kernel/proofgraph/merkle.js';
import { lines, repack, unpack } from './tamper.js';
import { A_ENTRIES, buildVariants } from './variants.js';

const vs = await buildVariants(20);
// Small chunks, so even these packs are spread over many messages and both workers.
const pool = new VerifyPool(2, { chunk: 16 });
afterAll(async () => {
  await pool.close();
  await vs.store.cleanup();
});

const negatives = JSON.parse(readFileSync(new URL('../../docs/spec/vectors/negative.json', import.meta.url), 'utf8')) as Array<{ why: string; expect: string; entry: string }>;

/** The pack with line `at` of log A's entries replaced by `entry` (bytes as given), manifest re-signed. */
function withEntry(entry: Uint8Array, at: number): Uint8Array {
  return repack(
    vs.valid,
    (files) => {
      const data = files.get(A_ENTRIES)!;
      const starts = [0];
      for (let i = 0; i < data.length; i++) if (data[i] === 0x0a) starts.push(i + 1);
      const out = new Uint8Array(data.length - (starts[at + 1]! - 1 - starts[at]!) + entry.length);
      out.set(data.subarray(0, starts[at]!), 0);
      out.set(entry, starts[at]!);
      out.set(data.subarray(starts[at + 1]! - 1), starts[at]! + entry.length);
      files.set(A_ENTRIES, out);
    },
    { resign: vs.store.keys.exporter },
  );
}

const enc = new TextEncoder();
const packs: Array<[string, Uint8Array]> = [
  ...vs.variants.map((v): [string, Uint8Array] => [v.name, v.bytes]),
  // A vector's newlines would split the line; without them it is still the same defect.
  ...negatives.map((n, i): [string, Uint8Array] => [`negative vector ${n.expect}: ${n.why}`, withEntry(enc.encode(n.entry.replace(/\n/g, '')), 3 + i)]),
];

const stripped = (r: VerifyReport): string => JSON.stringify(r);

describe('worker threads and the calling thread give identical reports', () => {
  it.each(packs)('%s', async (name, bytes) => {
    const inline = await verifyPackNode(bytes, policyFor(vs.store.keys), { workers: 0 });
    const workers = await verifyPackNode(bytes, policyFor(vs.store.keys), { pool });
    expect(stripped(workers)).toBe(stripped(inline));
    const n = negatives.findIndex((x) => name === `negative vector ${x.expect}: ${x.why}`);
    if (n >= 0) {
      // Decoding defects are named with the decoder's code; the flipped-signature vector decodes,
      // and is refused because its signer (the vectors' key) is not in this pack's registry.
      const code = negatives[n]!.expect;
      const found = inline.problems.filter((p) => p.file === A_ENTRIES && p.index === 3 + n);
      if (code === 'ERR_SIGNATURE') expect(found.map((p) => p.code)).toContain('ERR_NODE_UNTRUSTED_SIGNER');
      else expect(found.map((p) => `${p.code} ${p.message.split(':')[0]}`)).toContain(`ERR_NODE_MALFORMED ${code}`);
    }
  });

  it('spread decoding, leaf hashing and signatures over both workers in many messages', () => {
    expect(pool.decoded).toBeGreaterThan(1000);
    expect(pool.dispatched).toBeGreaterThan(1000);
    expect(pool.leaves).toBe(pool.decoded);
    expect(pool.answered.every((n) => n > 20)).toBe(true);
  });

  it('hands back the RFC 6962 leaf hash of every entry, decodable or not', async () => {
    const entries = [...lines(unpack(vs.valid).get(A_ENTRIES)!), new TextEncoder().encode('not an entry')];
    const many = Array.from({ length: 5 }, () => entries).flat(); // enough to go to the workers
    const out = await pool.decodeMany(many);
    expect(out.map((o) => Buffer.from(o.leaf!).toString('hex'))).toEqual(many.map((l) => Buffer.from(leafHash(nodeSuite, l)).toString('hex')));
    expect('error' in out.at(-1)!).toBe(true);
  });
});
