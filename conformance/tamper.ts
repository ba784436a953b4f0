// A copy of a pack with the first DENY verdict flipped to ALLOW (the entry stays well-formed JSON,
// its signature no longer covers it): an offline verifier must reject it. Null when no DENY exists.
import { DEFAULT_LIMITS } from '../kernel/evidence/limits.js';
import { gzipDeterministic } from '../kernel/evidence/gzip-node.js';
import { readTar, writeTar } from '../kernel/evidence/tar.js';
import { decodeNode } from '../kernel/contracts/node.js';
import { signEnvelope, type DsseEnvelope } from '../kernel/contracts/dsse.js';
import { fromBase64 } from '../kernel/crypto/bytes.js';
import { jcsString } from '../kernel/crypto/jcs.js';
import { nodeSuite } from '../kernel/crypto/node.js';
import type { SigningKey } from '../kernel/crypto/signing-key.js';
import { MANIFEST_DSSE_PATH, MANIFEST_PATH } from '../kernel/evidence/layout.js';
import { buildManifest, parseManifest, signManifest } from '../kernel/evidence/manifest.js';
import { openPack } from '../kernel/evidence/pack-reader.js';

export function tamperOneVerdict(tar: Uint8Array): Uint8Array | null {
  let done = false;
  const files = readTar(tar, { limits: DEFAULT_LIMITS, accept: () => true }).map((f) => {
    if (done || !f.path.endsWith('entries.jsonl')) return f;
    const lines = new TextDecoder().decode(f.data).split('\n');
    const i = lines.findIndex((l) => l.length > 0 && Buffer.from((JSON.parse(l) as { payload: string }).payload, 'base64').toString().includes('"verdict":"DENY"'));
    if (i < 0) return f;
    const env = JSON.parse(lines[i]!) as { payload: string };
    env.payload = Buffer.from(Buffer.from(env.payload, 'base64').toString().replace('"verdict":"DENY"', '"verdict":"ALLOW"')).toString('base64');
    lines[i] = JSON.stringify(env);
    done = true;
    return { ...f, data: new TextEncoder().encode(lines.join('\n')) };
  });
  return done ? gzipDeterministic(writeTar(files)) : null;
}

/**
 * A copy of a pack whose node at `index` of log `dir` is signed again by `key` alone (an insider
 * holding a retired key), the manifest rebuilt and signed by the exporter so the verifier reaches
 * the node's signature check. Null when the log holds no such node.
 */
export function resignNode(pack: Uint8Array, dir: string, index: number, key: SigningKey, exporter: SigningKey): Uint8Array | null {
  const files = openPack(pack);
  const path = `logs/${dir}/entries.jsonl`;
  const data = files.get(path);
  if (!data) return null;
  const lines = new TextDecoder().decode(data).split('\n');
  const i = lines.findIndex((l) => l.length > 0 && (decodeNode(nodeSuite, new TextEncoder().encode(l)).statement.predicate.index === index));
  if (i < 0) return null;
  const env = JSON.parse(lines[i]!) as DsseEnvelope;
  const signed = signEnvelope(env.payloadType, fromBase64(env.payload), [{ keyid: key.verifier.handle, signer: key }]);
  lines[i] = jcsString(signed);
  files.set(path, new TextEncoder().encode(lines.join('\n')));
  const old = parseManifest(files.get(MANIFEST_PATH)!);
  const rest = [...files].filter(([p]) => p !== MANIFEST_PATH && p !== MANIFEST_DSSE_PATH).map(([p, d]) => ({ path: p, data: d }));
  const { bytes } = buildManifest(nodeSuite, rest, old.logs, old.selection);
  files.set(MANIFEST_PATH, bytes);
  files.set(MANIFEST_DSSE_PATH, signManifest(bytes, exporter));
  return gzipDeterministic(writeTar([...files].map(([p, d]) => ({ path: p, data: d }))));
}
