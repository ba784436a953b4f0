// The certification request body: {podNamespace, podName, podUid, origin, nodeKey, logKey}, exactly
// these string fields; the keys are distinct Ed25519 signed-note verifier keys, the log key is
// named after the origin, and the origin is <clusterOrigin>/<podNamespace>/<podUid>/<boot>.
import { ALG_ED25519, parseVerifierKey, type VerifierKey } from '../../kernel/crypto/keys.js';
import { badRequest } from './errors.js';

export interface CertifyRequest {
  podNamespace: string;
  podName: string;
  podUid: string;
  origin: string;
  nodeKey: VerifierKey;
  logKey: VerifierKey;
}

const FIELDS = ['logKey', 'nodeKey', 'origin', 'podName', 'podNamespace', 'podUid'];
const BOOT = /^[A-Za-z0-9._-]{1,64}$/;

export function parseCertifyRequest(text: string, clusterOrigin: string): CertifyRequest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw badRequest('the body is not JSON; POST {podNamespace, podName, podUid, origin, nodeKey, logKey}');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest('the body must be a JSON object');
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  if (keys.join(',') !== FIELDS.join(',')) throw badRequest(`the body has fields [${keys.join(', ')}]; expected exactly [${FIELDS.join(', ')}]`);
  for (const f of FIELDS) if (typeof o[f] !== 'string' || o[f] === '' || (o[f] as string).length > 1024) throw badRequest(`${f} must be a non-empty string`);
  const s = o as Record<string, string>;
  const key = (f: 'nodeKey' | 'logKey'): VerifierKey => {
    let k: VerifierKey;
    try {
      k = parseVerifierKey(s[f]!);
    } catch (e) {
      throw badRequest(`${f} is not a signed-note verifier key: ${(e as Error).message}`);
    }
    if (k.alg !== ALG_ED25519) throw badRequest(`${f} must be an Ed25519 note key (type 0x01)`);
    return k;
  };
  const nodeKey = key('nodeKey');
  const logKey = key('logKey');
  if (Buffer.from(nodeKey.publicKey).equals(Buffer.from(logKey.publicKey))) throw badRequest('nodeKey and logKey must be different keys');
  const prefix = `${clusterOrigin}/${s.podNamespace}/${s.podUid}/`;
  if (!s.origin!.startsWith(prefix) || !BOOT.test(s.origin!.slice(prefix.length))) throw badRequest(`origin ${s.origin} must be ${prefix}<boot> (boot: letters, digits, '.', '_', '-')`);
  if (logKey.name !== s.origin) throw badRequest(`logKey is named ${logKey.name}; it must be named after the origin ${s.origin}`);
  return { podNamespace: s.podNamespace!, podName: s.podName!, podUid: s.podUid!, origin: s.origin!, nodeKey, logKey };
}
