// The operator's own webhook PKI: a CA and a serving certificate kept in one Secret, renewed
// before they expire, with the CA bundle copied into the webhook configurations and the serving
// certificate handed to the running server without a restart.
//
// Every replica runs this loop; they need no leader because all writes are conditional on the
// Secret's resourceVersion: the first writer wins, the others re-read and adopt its certificates.
// A CA rotation is done in two passes so clients never see a certificate they cannot verify yet:
// first the new CA joins the bundle (the old one stays until it expires) and the caBundle is
// patched; on a later pass the serving certificate is re-issued by the new CA.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { stringAt, type JsonObject } from '../json.js';
import type { ServingCertificate } from '../server.js';
import { ensureCaBundle, type CaBundleResult, type CaBundleTarget } from './ca-bundle.js';
import { CertificateError, createCa, issueServingCert, parseBundle, serviceDnsNames, type CertInfo, type KeyedCertificate } from './certs.js';
import { statusOf, type SecretClient, type WebhookConfigClient } from './clients.js';

const DAY = 24 * 60 * 60 * 1000;

export interface CertRotatorOptions {
  namespace: string;
  secretName: string;
  serviceName: string;
  secrets: SecretClient;
  webhookConfigs?: WebhookConfigClient;
  targets?: CaBundleTarget[];
  clock?: () => Date;
  caLifetimeMs?: number;
  servingLifetimeMs?: number;
  /** Renew once less than this fraction of a certificate's lifetime is left. */
  renewBeforeFraction?: number;
  onServingCertificate: (material: ServingCertificate) => void;
  log?: (event: Record<string, unknown>) => void;
}

export type RotationAction = 'created' | 'recreated' | 'ca-rotated' | 'serving-rotated' | 'pruned' | 'none';

export interface RotationReport {
  action: RotationAction;
  servingFingerprint: string;
  caFingerprints: string[];
  caBundle?: CaBundleResult;
}

interface PkiState {
  cas: CertInfo[];
  caKeyPem: string;
  serving: CertInfo;
  servingKeyPem: string;
  caPem: string;
  servingPem: string;
}

export const DEFAULT_CA_LIFETIME_MS = 5 * 365 * DAY;
export const DEFAULT_SERVING_LIFETIME_MS = 90 * DAY;
const MAX_ATTEMPTS = 5;

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

function unb64(v: unknown): string | undefined {
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined;
}

function keyMatches(cert: X509Certificate, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function parseState(secret: JsonObject): PkiState | undefined {
  const data = (secret.data ?? {}) as Record<string, unknown>;
  const caPem = unb64(data['ca.crt']);
  const caKeyPem = unb64(data['ca.key']);
  const servingPem = unb64(data['tls.crt']);
  const servingKeyPem = unb64(data['tls.key']);
  if (!caPem || !caKeyPem || !servingPem || !servingKeyPem) return undefined;
  try {
    const cas = parseBundle(caPem);
    const serving = parseBundle(servingPem)[0];
    if (cas.length === 0 || !serving) return undefined;
    if (!keyMatches(cas[0]!.x509, caKeyPem) || !keyMatches(serving.x509, servingKeyPem)) return undefined;
    return { cas, caKeyPem, serving, servingKeyPem, caPem, servingPem };
  } catch {
    return undefined;
  }
}

export class CertRotator {
  private readonly clock: () => Date;
  private readonly caLifetimeMs: number;
  private readonly servingLifetimeMs: number;
  private readonly renewFraction: number;
  private readonly dnsNames: string[];
  private delivered: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RotationReport> | undefined;

  constructor(private readonly opts: CertRotatorOptions) {
    this.clock = opts.clock ?? (() => new Date());
    this.caLifetimeMs = opts.caLifetimeMs ?? DEFAULT_CA_LIFETIME_MS;
    this.servingLifetimeMs = opts.servingLifetimeMs ?? DEFAULT_SERVING_LIFETIME_MS;
    this.renewFraction = opts.renewBeforeFraction ?? 1 / 3;
    this.dnsNames = serviceDnsNames(opts.serviceName, opts.namespace);
  }

  /** One pass; concurrent callers share it. */
  ensure(): Promise<RotationReport> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      this.ensure().catch((e: unknown) => this.opts.log?.({ msg: 'webhook certificate check failed', error: String(e) }));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private expiring(c: CertInfo, now: Date): boolean {
    const lifetime = c.notAfter.getTime() - c.notBefore.getTime();
    return now.getTime() >= c.notAfter.getTime() - lifetime * this.renewFraction;
  }

  private servingOk(s: PkiState, now: Date): boolean {
    const ca = s.cas[0]!.x509;
    return (
      s.serving.x509.checkIssued(ca) &&
      s.serving.x509.verify(ca.publicKey) &&
      this.dnsNames.every((n) => s.serving.dnsNames.includes(n)) &&
      !this.expiring(s.serving, now)
    );
  }

  private async fresh(now: Date): Promise<{ ca: KeyedCertificate; serving: KeyedCertificate }> {
    const ca = await createCa({ commonName: `${this.opts.serviceName}.${this.opts.namespace} webhook CA`, now, lifetimeMs: this.caLifetimeMs });
    const serving = await issueServingCert(ca, { dnsNames: this.dnsNames, now, lifetimeMs: this.servingLifetimeMs });
    return { ca, serving };
  }

  private secretObject(caPem: string, caKeyPem: string, serving: KeyedCertificate, current?: JsonObject): JsonObject {
    const resourceVersion = stringAt(current, 'metadata', 'resourceVersion');
    // A Secret's type is immutable: keep the one the chart created (Opaque, empty until now).
    const type = stringAt(current, 'type') ?? 'kubernetes.io/tls';
    // Keep the labels and annotations already there: Helm owns the chart-created Secret through
    // them (app.kubernetes.io/managed-by, meta.helm.sh/release-*), and dropping them breaks upgrades.
    const prev = (current?.metadata ?? {}) as JsonObject;
    const metadata: JsonObject = {
      name: this.opts.secretName,
      namespace: this.opts.namespace,
      labels: { ...((prev.labels ?? {}) as JsonObject), 'app.kubernetes.io/name': 'helm-operator', 'app.kubernetes.io/component': 'webhook-tls' },
    };
    if (prev.annotations) metadata.annotations = prev.annotations;
    if (resourceVersion) metadata.resourceVersion = resourceVersion;
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata,
      type,
      data: { 'ca.crt': b64(caPem), 'ca.key': b64(caKeyPem), 'tls.crt': b64(serving.certPem), 'tls.key': b64(serving.keyPem) },
    };
  }

  /** What to write, or undefined when the stored PKI is fine as it is. */
  private async plan(secret: JsonObject | undefined, now: Date): Promise<{ action: RotationAction; object: JsonObject } | undefined> {
    if (!secret) {
      const f = await this.fresh(now);
      return { action: 'created', object: this.secretObject(f.ca.certPem, f.ca.keyPem, f.serving) };
    }
    const state = parseState(secret);
    if (!state || now >= state.cas[0]!.notAfter) {
      const f = await this.fresh(now);
      return { action: 'recreated', object: this.secretObject(f.ca.certPem, f.ca.keyPem, f.serving, secret) };
    }
    const live = state.cas.filter((c) => c.notAfter > now);
    if (this.expiring(state.cas[0]!, now)) {
      const ca = await createCa({ commonName: `${this.opts.serviceName}.${this.opts.namespace} webhook CA`, now, lifetimeMs: this.caLifetimeMs });
      const bundle = [ca.certPem, ...live.map((c) => c.x509.toString())].join('');
      // The serving certificate stays until the new CA has reached the caBundle (next pass),
      // unless it is already unusable.
      const keep = now < state.serving.notAfter;
      const serving = keep ? { certPem: state.servingPem, keyPem: state.servingKeyPem } : await issueServingCert(ca, { dnsNames: this.dnsNames, now, lifetimeMs: this.servingLifetimeMs });
      return { action: 'ca-rotated', object: this.secretObject(bundle, ca.keyPem, serving, secret) };
    }
    if (!this.servingOk(state, now)) {
      const serving = await issueServingCert({ certPem: state.cas[0]!.x509.toString(), keyPem: state.caKeyPem }, { dnsNames: this.dnsNames, now, lifetimeMs: this.servingLifetimeMs });
      return { action: 'serving-rotated', object: this.secretObject(state.caPem, state.caKeyPem, serving, secret) };
    }
    if (live.length < state.cas.length) {
      const bundle = live.map((c) => c.x509.toString()).join('');
      return { action: 'pruned', object: this.secretObject(bundle, state.caKeyPem, { certPem: state.servingPem, keyPem: state.servingKeyPem }, secret) };
    }
    return undefined;
  }

  private async pass(): Promise<RotationReport> {
    const { secrets, namespace, secretName } = this.opts;
    let action: RotationAction = 'none';
    let stored: JsonObject | undefined;
    for (let attempt = 1; ; attempt++) {
      const current = await secrets.get(namespace, secretName);
      const change = await this.plan(current, this.clock());
      if (!change) {
        stored = current;
        break;
      }
      try {
        stored = current ? await secrets.replace(namespace, change.object) : await secrets.create(namespace, change.object);
        action = change.action;
        break;
      } catch (e) {
        // Another replica wrote first: adopt what it wrote (or plan again from it).
        if (statusOf(e) !== 409 || attempt >= MAX_ATTEMPTS) throw e;
        this.opts.log?.({ msg: 'webhook certificate write conflict, re-reading', attempt });
      }
    }
    const state = parseState(stored!);
    if (!state) throw new CertificateError('CERT_PARSE', `webhook TLS Secret ${namespace}/${secretName} is unreadable after the write`);
    if (action !== 'none') this.opts.log?.({ msg: 'webhook certificates updated', action, notAfter: state.serving.notAfter.toISOString() });

    const report: RotationReport = { action, servingFingerprint: state.serving.fingerprint256, caFingerprints: state.cas.map((c) => c.fingerprint256) };
    if (this.opts.webhookConfigs && this.opts.targets?.length) {
      report.caBundle = await ensureCaBundle(this.opts.webhookConfigs, this.opts.targets, { namespace, name: this.opts.serviceName }, state.caPem);
    }
    if (this.delivered !== state.serving.fingerprint256) {
      this.opts.onServingCertificate({ cert: state.servingPem, key: state.servingKeyPem, ca: state.caPem });
      this.delivered = state.serving.fingerprint256;
    }
    return report;
  }
}
