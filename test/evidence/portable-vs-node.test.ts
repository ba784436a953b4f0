// The portable verifier (noble, sequential) and the node verifier (node:crypto, worker threads)
// must give the same verdict, problems and warnings on every pack.
import type { VerifyReport } from '../../kernel/evidence/verify-core.js';
import { verifyPackNode, VerifyPool } from '../../kernel/evidence/verify-node.js';
import { verifyPackPortable } from '../../kernel/evidence/verify-portable.js';
import { policyFor } from './fixtures.js';
import { buildVariants } from './variants.js';

// Enough calls that each log's signature batch goes to the worker threads, not the inline path.
const vs = await buildVariants(20);
const pool = new VerifyPool(2);
afterAll(async () => {
  await pool.close();
  await vs.store.cleanup();
});

const verdict = (r: VerifyReport) => ({
  ok: r.ok,
  readable: r.readable,
  problems: r.problems.map((p) => `${p.code} ${p.file} ${p.index ?? '-'}`),
  warnings: r.warnings.map((p) => `${p.code} ${p.file} ${p.index ?? '-'}`),
  logs: r.logs,
  keySources: r.keySources,
});

describe('portable and node verifiers agree', () => {
  it.each(vs.variants.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const policy = policyFor(vs.store.keys);
    const node = await verifyPackNode(v.bytes, policy, { pool });
    const portable = await verifyPackPortable(v.bytes, policy);
    expect(verdict(portable)).toEqual(verdict(node));
    expect(node.ok).toBe(v.expect === null);
  });

  it('sent decoding and signature batches to the worker threads', () => {
    expect(pool.dispatched).toBeGreaterThan(1000);
    expect(pool.decoded).toBeGreaterThan(1000);
  });
});
