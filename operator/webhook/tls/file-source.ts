// cert-manager mode: cert-manager writes the serving certificate into a Secret that is mounted
// as files and injects the CA into the webhook configurations itself; the operator only reloads
// the files when the kubelet updates them. The kubelet swaps a symlink rather than rewriting the
// files, which inotify watches miss, so the files are polled and compared by content.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServingCertificate } from '../server.js';
import { CertificateError, parseBundle } from './certs.js';

export interface FileCertSourceOptions {
  dir: string;
  certFile?: string;
  keyFile?: string;
  onServingCertificate: (material: ServingCertificate) => void;
  log?: (event: Record<string, unknown>) => void;
}

export class FileCertSource {
  private last: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: FileCertSourceOptions) {}

  /** Reads the files; delivers them when they changed and parse. Returns the fingerprint. */
  async load(): Promise<string> {
    const cert = await readFile(join(this.opts.dir, this.opts.certFile ?? 'tls.crt'), 'utf8');
    const key = await readFile(join(this.opts.dir, this.opts.keyFile ?? 'tls.key'), 'utf8');
    const leaf = parseBundle(cert)[0];
    if (!leaf) throw new CertificateError('CERT_PARSE', `no certificate in ${this.opts.dir}`);
    // cert-manager writes ca.crt next to the pair; the sidecars trust it for /v1/certify.
    const ca = await readFile(join(this.opts.dir, 'ca.crt'), 'utf8').catch(() => undefined);
    if (leaf.fingerprint256 !== this.last) {
      this.opts.onServingCertificate({ cert, key, ...(ca ? { ca } : {}) });
      this.last = leaf.fingerprint256;
      this.opts.log?.({ msg: 'webhook serving certificate loaded', notAfter: leaf.notAfter.toISOString() });
    }
    return leaf.fingerprint256;
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      this.load().catch((e: unknown) => this.opts.log?.({ msg: 'webhook certificate reload failed', error: String(e) }));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
