// The browser-safe verifier: @noble crypto, signatures checked one after another. PORTABLE.
import { portableSuite } from '../crypto/portable.js';
import type { PackLimits } from './limits.js';
import type { TrustPolicy } from './trust-policy.js';
import { verifyPack, type VerifyReport } from './verify-core.js';

export function verifyPackPortable(bytes: Uint8Array, policy: TrustPolicy, opts: { limits?: Partial<PackLimits> } = {}): Promise<VerifyReport> {
  return verifyPack(bytes, policy, { suite: portableSuite, ...(opts.limits ? { limits: opts.limits } : {}) });
}
