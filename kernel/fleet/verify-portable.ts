// A fleet pack verified anywhere JavaScript runs (the browser verifier): the pack's tar opened with
// the portable reader and the fleet checks run with the portable crypto suite (@noble/curves,
// strict RFC 8032). Nothing here, or in what it imports, may come from node:
// (test/evidence/portable-imports.test.ts). Same verdicts as `helmctl verify --fleet`.
import { portableSuite } from '../crypto/portable.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { DEFAULT_LIMITS } from '../evidence/limits.js';
import { readTar } from '../evidence/tar.js';
import type { TrustPolicy } from '../evidence/trust-policy.js';
import { verifyFleetPack, type FleetVerdict } from './pack.js';

/** The members of a fleet pack (a plain ustar file), by path, within the pack reader's limits. */
export function openFleetPack(tar: Uint8Array): Map<string, Uint8Array> {
  return new Map(readTar(tar, { limits: DEFAULT_LIMITS, accept: () => true }).map((f) => [f.path, f.data]));
}

/** Verifies a fleet pack's bytes; throws FleetPackError (or PackError for a malformed tar) with its code. */
export function verifyFleetPackBytes(tar: Uint8Array, policy: TrustPolicy, suite: CryptoSuite = portableSuite): FleetVerdict {
  return verifyFleetPack(suite, openFleetPack(tar), policy);
}
