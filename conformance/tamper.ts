// A copy of a pack with the first DENY verdict flipped to ALLOW (the entry stays well-formed JSON,
// its signature no longer covers it): an offline verifier must reject it. Null when no DENY exists.
import { DEFAULT_LIMITS } from '../kernel/evidence/limits.js';
import { gzipDeterministic } from '../kernel/evidence/gzip-node.js';
import { readTar, writeTar } from '../kernel/evidence/tar.js';

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
