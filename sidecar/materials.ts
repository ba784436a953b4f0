// Start-up material read from files the operator mounts: signing keys, bundle trust roots, trust
// events and the upstream credential. Read once; a key rotation is a restart (a new pod).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { DsseEnvelope } from '../kernel/contracts/dsse.js';
import { parseVerifierKey, type VerifierKey } from '../kernel/crypto/keys.js';
import { nodeSigner } from '../kernel/crypto/node.js';
import { signingKeyFromText, type SigningKey } from '../kernel/crypto/signing-key.js';
import type { BundleTrust } from '../kernel/guardian/index.js';
import type { SidecarConfig } from './config/load.js';
import { SidecarError, type SidecarErrorCode } from './errors.js';
import { makeIdentity, type CertifiedIdentity } from './identity/identity.js';

export interface SidecarMaterials {
  nodeKey: SigningKey;
  logKey: SigningKey;
  origin: string;
  /** The log directory is <logRoot>/<writerId>. */
  logRoot: string;
  writerId: string;
  /** identity certified: the keys made at this start, waiting for the operator's certification. */
  certified: { identity: CertifiedIdentity; root: VerifierKey } | null;
  trust: BundleTrust;
  trustEvents: DsseEnvelope[];
  /** The provider key, when the sidecar holds it (then the agent's Authorization is replaced). */
  upstreamApiKey: string | null;
}

async function text(path: string, what: string, code: SidecarErrorCode): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new SidecarError(code, `cannot read ${what} ${path}: ${(e as Error).message}`, { path });
  }
}

async function signingKey(path: string, what: string): Promise<SigningKey> {
  const t = await text(path, what, 'ERR_SIDECAR_KEY');
  try {
    return signingKeyFromText(t.trim(), nodeSigner);
  } catch (e) {
    throw new SidecarError('ERR_SIDECAR_KEY', `${what} ${path} is not a private key written by helmctl keygen: ${(e as Error).message}`, { path });
  }
}

/** An inline verifier key, or a file of them (one per line, # comments). */
async function trustRoots(entries: readonly string[]): Promise<VerifierKey[]> {
  const keys: VerifierKey[] = [];
  for (const entry of entries) {
    try {
      keys.push(parseVerifierKey(entry));
      continue;
    } catch {
      // not an inline key: a file
    }
    const lines = (await text(entry, 'bundle trust root file', 'ERR_SIDECAR_TRUST_ROOT')).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    if (lines.length === 0) throw new SidecarError('ERR_SIDECAR_TRUST_ROOT', `bundle trust root file ${entry} holds no key`, { path: entry });
    for (const l of lines) {
      try {
        keys.push(parseVerifierKey(l));
      } catch (e) {
        throw new SidecarError('ERR_SIDECAR_TRUST_ROOT', `bundle trust root file ${entry}: ${(e as Error).message}`, { path: entry });
      }
    }
  }
  return keys;
}

async function trustEvent(path: string): Promise<DsseEnvelope> {
  const t = await text(path, 'trust event', 'ERR_SIDECAR_TRUST_EVENT');
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch (e) {
    throw new SidecarError('ERR_SIDECAR_TRUST_EVENT', `trust event ${path} is not JSON: ${(e as Error).message}`, { path });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SidecarError('ERR_SIDECAR_TRUST_EVENT', `trust event ${path} is not a DSSE envelope object`, { path });
  return v as DsseEnvelope;
}

async function apiKey(c: SidecarConfig): Promise<string | null> {
  const raw = c.upstreamApiKeyFile !== null ? await text(c.upstreamApiKeyFile, 'upstream API key file', 'ERR_SIDECAR_API_KEY') : c.upstreamApiKey;
  if (raw === null) return null;
  const key = raw.trim();
  // Anything else would be sent in an HTTP header: refuse it rather than corrupt the request.
  if (!/^[\x21-\x7e]{1,4096}$/.test(key)) throw new SidecarError('ERR_SIDECAR_API_KEY', 'the upstream API key must be one line of printable ASCII without spaces');
  return key;
}

export async function loadMaterials(c: SidecarConfig, random: (n: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n)), nowMs = Date.now()): Promise<SidecarMaterials> {
  const trust: BundleTrust = { roots: await trustRoots(c.bundleTrustRoots), revoked: [...c.bundleRevoked] };
  const upstreamApiKey = await apiKey(c);
  if (c.identity === 'certified' && c.certify) {
    const identity = makeIdentity(c.certify, c.proofgraphDir, nowMs, random);
    const root = parseVerifierKey(c.certify.root);
    const { nodeKey, logKey, origin, logRoot, writerId } = identity;
    return { nodeKey, logKey, origin, logRoot, writerId, certified: { identity, root }, trust, trustEvents: [], upstreamApiKey };
  }
  if (c.nodeKey === null || c.logKey === null) throw new SidecarError('ERR_SIDECAR_KEY', 'identity static needs nodeKey and logKey files');
  const nodeKey = await signingKey(c.nodeKey, 'node key');
  const logKey = await signingKey(c.logKey, 'log key');
  const origin = c.origin ?? logKey.verifier.name;
  if (origin !== logKey.verifier.name) {
    throw new SidecarError('ERR_SIDECAR_ORIGIN', `origin ${origin} differs from the log key's name ${logKey.verifier.name}: checkpoints are signed by a log key named after the origin`);
  }
  const trustEvents: DsseEnvelope[] = [];
  for (const p of c.trustEvents) trustEvents.push(await trustEvent(p));
  return { nodeKey, logKey, origin, logRoot: c.proofgraphDir, writerId: c.writerId, certified: null, trust, trustEvents, upstreamApiKey };
}
