// Gets the fresh keys certified, retrying with capped exponential backoff (plus jitter) until the
// operator's root-signed answer verifies, then records the events as trust nodes and only then
// reports certified. Until then the sidecar is not ready and the gate denies every call.
import type { VerifierKey } from '../../kernel/crypto/keys.js';
import type { CryptoSuite } from '../../kernel/crypto/suite.js';
import type { DsseEnvelope } from '../../kernel/contracts/dsse.js';
import type { CertifyConfig } from '../config/load.js';
import { errorText, type Logger } from '../log.js';
import { acceptAnswer } from './answer.js';
import { postCertify } from './client.js';
import { CertifyError } from './errors.js';
import type { CertifiedIdentity } from './identity.js';

export interface CertifierOptions {
  config: CertifyConfig;
  identity: CertifiedIdentity;
  root: VerifierKey;
  suite: CryptoSuite;
  /** Records the verified events as trust nodes (durably); certification counts only after it. */
  record(events: DsseEnvelope[]): Promise<void>;
  log: Logger;
  firstDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
}

export interface CertificationStatus {
  certified: boolean;
  attempts: number;
  lastError: { code: string; message: string } | null;
}

export class Certifier {
  private status: CertificationStatus = { certified: false, attempts: 0, lastError: null };
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(private readonly o: CertifierOptions) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get state(): CertificationStatus {
    return { ...this.status };
  }

  get certified(): boolean {
    return this.status.certified;
  }

  /** Resolves once certified (never, if it never is). */
  whenCertified(): Promise<void> {
    return this.done;
  }

  start(): void {
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.attempt().finally(() => (this.running = null));
    }, delayMs);
  }

  private delay(): number {
    const first = this.o.firstDelayMs ?? 500;
    const base = Math.min(this.o.maxDelayMs ?? 30_000, first * 2 ** Math.min(this.status.attempts - 1, 16));
    return Math.round(base * (0.8 + 0.4 * Math.random()));
  }

  private async attempt(): Promise<void> {
    const id = this.o.identity;
    const c = this.o.config;
    this.status.attempts++;
    try {
      const answer = await postCertify(c, { podNamespace: c.podNamespace, podName: c.podName, podUid: c.podUid, origin: id.origin, nodeKey: id.nodeKey.verifier.vkey, logKey: id.logKey.verifier.vkey }, this.o.timeoutMs ?? 10_000);
      const { events } = acceptAnswer(this.o.suite, answer, id, this.o.root);
      if (this.stopped) return;
      try {
        await this.o.record(events);
      } catch (e) {
        throw new CertifyError('ERR_CERTIFY_RECORD', `the certification could not be recorded: ${errorText(e)}`);
      }
      this.status = { certified: true, attempts: this.status.attempts, lastError: null };
      this.o.log.info('signing keys certified by the operator; calls are now decided by policy', { origin: id.origin, nodeKey: id.nodeKey.verifier.handle, logKey: id.logKey.verifier.handle, attempts: this.status.attempts });
      this.resolveDone();
    } catch (e) {
      const code = e instanceof CertifyError ? e.code : 'ERR_CERTIFY_UNREACHABLE';
      this.status.lastError = { code, message: errorText(e) };
      const next = this.delay();
      this.o.log.warn('key certification failed; every call is denied IDENTITY_UNCERTIFIED until it succeeds', { code, error: errorText(e), attempt: this.status.attempts, retryInMs: next });
      this.schedule(next);
    }
  }

  /** Stops retrying and waits for an attempt in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
