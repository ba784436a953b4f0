// The RESULT fields a sandboxed call adds are checked before they are signed.
import { resultExtras } from '../../kernel/pep/result-extras.js';

const H = `sha256:${'a'.repeat(64)}` as const;
const compute = { moduleSha256: H, gas: 10, wallMs: 3, peakMemoryPages: 1, outputBytes: 0, outputDigest: H };

describe('RESULT compute and reasonCode', () => {
  it('passes a well-formed record through, with the code on an error', () => {
    expect(resultExtras({ status: 'error', output: null, compute, reasonCode: 'ERR_COMPUTE_GAS_EXHAUSTED' })).toEqual({ compute, reasonCode: 'ERR_COMPUTE_GAS_EXHAUSTED' });
    expect(resultExtras({ status: 'ok', output: 1 })).toEqual({});
  });

  it('refuses fractional or negative counters, bad digests, unregistered codes and a code on an ok result', () => {
    expect(resultExtras({ status: 'ok', output: 1, compute: { ...compute, wallMs: 1.5 } })).toBe('compute.wallMs must be a non-negative integer');
    expect(resultExtras({ status: 'ok', output: 1, compute: { ...compute, gas: -1 } })).toBe('compute.gas must be a non-negative integer');
    expect(resultExtras({ status: 'ok', output: 1, compute: { ...compute, outputDigest: 'abc' as typeof H } })).toMatch(/sha256:<hex>/);
    expect(resultExtras({ status: 'error', output: 1, reasonCode: 'ERR_MADE_UP' as 'ERR_COMPUTE_GAS_EXHAUSTED' })).toMatch(/registered/);
    expect(resultExtras({ status: 'ok', output: 1, reasonCode: 'ERR_COMPUTE_GAS_EXHAUSTED' })).toMatch(/only on an error/);
  });
});
