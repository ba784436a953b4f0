// Gzip bombs against the verifier (issue 10 item 9): inflation is streamed and stops at the member
// and total limits (docs/spec/evidence-pack.md §Limits), on both the node and the portable path.
import { nodeSuite } from '../../kernel/crypto/node.js';
import { portableSuite } from '../../kernel/crypto/portable.js';
import { gunzipNodeTo } from '../../kernel/evidence/gzip-node.js';
import { gunzipTo, type GunzipStream } from '../../kernel/evidence/gzip-portable.js';
import { parseTrustPolicy } from '../../kernel/evidence/trust-policy.js';
import { verifyPack } from '../../kernel/evidence/verify-core.js';
import { verifyPackNode } from '../../kernel/evidence/verify-node.js';
import { verifyPackPortable } from '../../kernel/evidence/verify-portable.js';
import { splitLines } from '../../kernel/evidence/hash-lines.js';
import { fileHeader, gzipParts } from './bombs.js';

const MiB = 1024 * 1024;
const policy = parseTrustPolicy('quorum none\n', 'bomb.policy');
const ENTRIES = 'logs/a/entries.jsonl';

/** Wraps a streaming gunzip to record how many bytes it handed on before it stopped. */
function counting(inner: GunzipStream): { gunzip: GunzipStream; delivered: () => number } {
  let n = 0;
  return {
    gunzip: (bytes, max, sink) =>
      inner(bytes, max, (c) => {
        n += c.length;
        sink(c);
      }),
    delivered: () => n,
  };
}

const paths = [
  ['node:zlib', gunzipNodeTo, nodeSuite],
  ['portable (fflate)', gunzipTo, portableSuite],
] as const;

// 1 GiB of zeros behind one header: about 1 MiB of gzip.
let bigClaim: Promise<Uint8Array> | null = null;
const claimBomb = (): Promise<Uint8Array> => (bigClaim ??= gzipParts([fileHeader(ENTRIES, 1024 * MiB), { zeros: 1024 * MiB }, new Uint8Array(1024)]));
const small = { maxEntries: 100, maxFileBytes: 8 * MiB, maxTotalBytes: 16 * MiB };

describe.each(paths)('gzip bombs, %s', (_name, inflate, suite) => {
  it('refuses a member that claims more than the member limit before inflating its data', async () => {
    const bomb = await claimBomb();
    expect(bomb.length).toBeLessThan(1.5 * MiB);
    const c = counting(inflate);
    const r = await verifyPack(bomb, policy, { suite, gunzip: c.gunzip });
    expect(r.readable).toBe(false);
    expect(r.firstProblem).toMatchObject({ code: 'ERR_PACK_LIMIT', file: ENTRIES });
    // Stopped at the header: at most one input chunk's expansion went by (8 KiB x 1032 for the
    // portable inflater), nothing like the claimed GiB.
    expect(c.delivered()).toBeLessThanOrEqual(9 * MiB);
  }, 120_000);

  it('refuses members within the member limit that together pass the total limit, holding no more than it', async () => {
    const each = small.maxFileBytes - 1024;
    const parts = [0, 1, 2].flatMap((i) => [fileHeader(`inputs/${String(i).repeat(64)}.json`, each), { zeros: each }]);
    const bomb = await gzipParts([...parts, new Uint8Array(1024)]);
    const c = counting(inflate);
    const r = await verifyPack(bomb, policy, { suite, gunzip: c.gunzip, limits: small });
    // The third header passes the total (node), or the output cap is reached first when one input
    // chunk expands past it (portable); either way the same code and the same bound.
    expect(r.firstProblem?.code).toBe('ERR_PACK_LIMIT');
    expect(c.delivered()).toBeLessThanOrEqual(small.maxTotalBytes + 9 * MiB);
  }, 120_000);

  it('stops inflating zeros after the end of the archive at the output cap', async () => {
    const bomb = await gzipParts([new Uint8Array(1024), { zeros: 256 * MiB }]);
    const c = counting(inflate);
    const r = await verifyPack(bomb, policy, { suite, gunzip: c.gunzip, limits: small });
    expect(r.firstProblem).toMatchObject({ code: 'ERR_PACK_LIMIT', file: '<gzip>' });
    const cap = small.maxTotalBytes + (small.maxEntries + 4) * 1024;
    expect(c.delivered()).toBeLessThanOrEqual(cap);
  }, 120_000);
});

it('both verifiers report the same code on a bomb', async () => {
  const bomb = await claimBomb();
  const a = await verifyPackNode(bomb, policy, { workers: 0 });
  const b = await verifyPackPortable(bomb, policy);
  expect(a.firstProblem).toEqual(b.firstProblem);
  expect(a.firstProblem?.code).toBe('ERR_PACK_LIMIT');
}, 120_000);

it('a file of newlines within the byte limits does not become one object per line', () => {
  const newlines = new Uint8Array(64 * MiB).fill(0x0a);
  const r = splitLines(newlines, 1000);
  expect(r.tooMany).toBe(true);
  expect(r.lines).toHaveLength(0);
  const ok = splitLines(new TextEncoder().encode('a\nb\n'), 2);
  expect(ok).toEqual({ lines: [Uint8Array.of(0x61), Uint8Array.of(0x62)], unterminated: false, tooMany: false });
});
