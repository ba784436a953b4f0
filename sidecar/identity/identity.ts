// The certified identity made at every start (docs/sidecar.md §Identity): fresh node and log keys in
// memory only, a boot id unique to this start, the origin <clusterOrigin>/<namespace>/<podUid>/<boot>
// and the log directory <proofgraphDir>/<namespace>/<podName>/<boot> on the shared volume.
import { join } from 'node:path';
import { toHex } from '../../kernel/crypto/bytes.js';
import { nodeSigner } from '../../kernel/crypto/node.js';
import { signingKeyFromSeed, type SigningKey } from '../../kernel/crypto/signing-key.js';
import type { CertifyConfig } from '../config/load.js';

export interface CertifiedIdentity {
  nodeKey: SigningKey;
  /** Named after the origin: it signs the checkpoints. */
  logKey: SigningKey;
  origin: string;
  boot: string;
  /** Parent of the log directory: <proofgraphDir>/<namespace>/<podName>. */
  logRoot: string;
  /** The log directory's name under logRoot: the boot id. */
  writerId: string;
}

/** UTC start time (sortable, second precision) plus 32 random bits: unique per start, readable in a listing. */
export function bootId(nowMs: number, random: (n: number) => Uint8Array): string {
  const t = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'z').toLowerCase();
  return `${t}-${toHex(random(4))}`;
}

export function makeIdentity(c: CertifyConfig, proofgraphDir: string, nowMs: number, random: (n: number) => Uint8Array): CertifiedIdentity {
  const boot = bootId(nowMs, random);
  const origin = `${c.clusterOrigin}/${c.podNamespace}/${c.podUid}/${boot}`;
  return {
    nodeKey: signingKeyFromSeed(`${origin}/node`, random(32), nodeSigner),
    logKey: signingKeyFromSeed(origin, random(32), nodeSigner),
    origin,
    boot,
    logRoot: join(proofgraphDir, c.podNamespace, c.podName),
    writerId: boot,
  };
}
