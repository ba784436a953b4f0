// The optional RESULT fields a sandboxed call adds (compute usage, the code that ended it), checked
// before they are signed: a malformed report is refused, never recorded half-valid.
import { isReasonCode } from '../guardian/reason-codes.js';
import type { ComputeRecord, ResultReport } from './types.js';

const HASH = /^sha256:[0-9a-f]{64}$/;
const COUNTERS = ['gas', 'wallMs', 'peakMemoryPages', 'outputBytes'] as const;

export function resultExtras(r: ResultReport): { compute?: ComputeRecord; reasonCode?: string } | string {
  const out: { compute?: ComputeRecord; reasonCode?: string } = {};
  if (r.reasonCode !== undefined) {
    if (r.status !== 'error' || !isReasonCode(r.reasonCode)) return 'reasonCode must be a registered code, and only on an error result';
    out.reasonCode = r.reasonCode;
  }
  const c = r.compute as unknown as Record<string, unknown> | undefined;
  if (c !== undefined) {
    if (typeof c !== 'object' || c === null) return 'compute must be an object';
    if (typeof c.moduleSha256 !== 'string' || !HASH.test(c.moduleSha256) || typeof c.outputDigest !== 'string' || !HASH.test(c.outputDigest)) return 'compute.moduleSha256 and compute.outputDigest must be sha256:<hex>';
    for (const k of COUNTERS) if (!Number.isSafeInteger(c[k]) || (c[k] as number) < 0) return `compute.${k} must be a non-negative integer`;
    out.compute = { moduleSha256: c.moduleSha256 as ComputeRecord['moduleSha256'], outputDigest: c.outputDigest as ComputeRecord['outputDigest'], gas: c.gas as number, wallMs: c.wallMs as number, peakMemoryPages: c.peakMemoryPages as number, outputBytes: c.outputBytes as number };
  }
  return out;
}
