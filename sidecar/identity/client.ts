// One certification request: POST {podNamespace, podName, podUid, origin, nodeKey, logKey} to the
// operator's /v1/certify over HTTPS trusting only the configured CA, with the projected
// ServiceAccount token as bearer. The token is re-read at every attempt: the kubelet rotates it.
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { CertifyConfig } from '../config/load.js';
import { CertifyError } from './errors.js';

export interface CertifyRequestBody {
  podNamespace: string;
  podName: string;
  podUid: string;
  origin: string;
  nodeKey: string;
  logKey: string;
}

const MAX_ANSWER_BYTES = 256 * 1024;

/** The CA: inline PEM, or a file holding it. */
export async function readCa(ca: string): Promise<string> {
  if (ca.includes('-----BEGIN')) return ca;
  try {
    return await readFile(ca, 'utf8');
  } catch (e) {
    throw new CertifyError('ERR_CERTIFY_CA', `cannot read certifyCa ${ca}: ${(e as Error).message}`);
  }
}

async function readToken(path: string): Promise<string> {
  let t: string;
  try {
    t = (await readFile(path, 'utf8')).trim();
  } catch (e) {
    throw new CertifyError('ERR_CERTIFY_TOKEN', `cannot read the ServiceAccount token ${path}: ${(e as Error).message}`);
  }
  if (!/^[\x21-\x7e]{1,16384}$/.test(t)) throw new CertifyError('ERR_CERTIFY_TOKEN', `the ServiceAccount token file ${path} does not hold one token`);
  return t;
}

export async function postCertify(c: CertifyConfig, body: CertifyRequestBody, timeoutMs: number): Promise<unknown> {
  const [ca, token] = await Promise.all([readCa(c.ca), readToken(c.tokenFile)]);
  const data = JSON.stringify(body);
  return new Promise<unknown>((resolve, reject) => {
    const req = request(c.url, { method: 'POST', ca, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (b: Buffer) => {
        size += b.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(b);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          // reported below
        }
        if (res.statusCode !== 200) {
          const err = (json as { code?: unknown; message?: unknown } | null) ?? {};
          reject(new CertifyError('ERR_CERTIFY_REFUSED', `${c.url} answered ${res.statusCode}${typeof err.code === 'string' ? ` ${err.code}` : ''}: ${typeof err.message === 'string' ? err.message : text.slice(0, 200)}`));
        } else if (json === null) reject(new CertifyError('ERR_CERTIFY_ANSWER', `${c.url} answered 200 with a body that is not JSON`));
        else resolve(json);
      });
      res.on('error', (e) => reject(new CertifyError('ERR_CERTIFY_UNREACHABLE', `${c.url}: ${e.message}`)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof CertifyError ? e : new CertifyError('ERR_CERTIFY_UNREACHABLE', `${c.url}: ${e.message}`)));
    req.end(data);
  });
}
