// Webhook TLS: the operator's own CA and serving certificate, kept in a Secret with optimistic
// concurrency, renewed before expiry, copied into the webhook configurations' caBundle, and
// hot-swapped into the running server.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWebhook } from '../../../operator/webhook/index.js';
import { createCa, issueServingCert, parseBundle, serviceDnsNames } from '../../../operator/webhook/tls/certs.js';
import { CertRotator } from '../../../operator/webhook/tls/rotation.js';
import type { CaBundleTarget } from '../../../operator/webhook/tls/ca-bundle.js';
import type { JsonObject } from '../../../operator/webhook/json.js';
import type { ServingCertificate } from '../../../operator/webhook/server.js';
import { FakeApi, webhookConfiguration } from './fake-api.js';
import { agentPod, config, lookup, post, review } from './support.js';

const NS = 'helm-system';
const SERVICE = 'helm-operator-webhook';
const SECRET_KEY = `Secret/${NS}/helm-operator-webhook-tls`;
const TARGETS: CaBundleTarget[] = [
  { kind: 'MutatingWebhookConfiguration', name: 'helm-operator' },
  { kind: 'ValidatingWebhookConfiguration', name: 'helm-operator' },
];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function installChartObjects(api: FakeApi): void {
  for (const t of TARGETS) api.put(`${t.kind}/${t.name}`, webhookConfiguration(t.kind, t.name));
}

function secretData(api: FakeApi): Record<string, string> {
  const data = (api.objects.get(SECRET_KEY)!.data ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

function caBundles(api: FakeApi): (string | undefined)[] {
  return TARGETS.flatMap((t) =>
    ((api.objects.get(`${t.kind}/${t.name}`)!.webhooks as JsonObject[]) ?? []).map((w) => (w.clientConfig as JsonObject).caBundle as string | undefined),
  );
}

function rotator(api: FakeApi, clock: { now: Date }, delivered: ServingCertificate[], extra: Partial<ConstructorParameters<typeof CertRotator>[0]> = {}) {
  return new CertRotator({
    namespace: NS,
    secretName: 'helm-operator-webhook-tls',
    serviceName: SERVICE,
    secrets: api.secrets(),
    webhookConfigs: api.webhookConfigs(),
    targets: TARGETS,
    clock: () => clock.now,
    caLifetimeMs: 300 * DAY,
    servingLifetimeMs: 30 * DAY,
    onServingCertificate: (m) => delivered.push(m),
    ...extra,
  });
}

describe('certificates', () => {
  it('issues a serving certificate for the Service names, chained to the CA, never outliving it', async () => {
    const now = new Date();
    const ca = await createCa({ commonName: 'ca', now, lifetimeMs: DAY });
    const leaf = await issueServingCert(ca, { dnsNames: serviceDnsNames(SERVICE, NS), now, lifetimeMs: 10 * DAY });
    const caX = new X509Certificate(ca.certPem);
    const leafX = new X509Certificate(leaf.certPem);
    expect(caX.ca).toBe(true);
    expect(leafX.ca).toBe(false);
    expect(leafX.checkIssued(caX)).toBe(true);
    expect(leafX.verify(caX.publicKey)).toBe(true);
    expect(leafX.checkHost(`${SERVICE}.${NS}.svc`)).toBe(`${SERVICE}.${NS}.svc`);
    expect(leafX.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    expect(new Date(leafX.validTo).getTime()).toBeLessThanOrEqual(new Date(caX.validTo).getTime());
    const other = await createCa({ commonName: 'other', now, lifetimeMs: DAY });
    expect(leafX.verify(new X509Certificate(other.certPem).publicKey)).toBe(false);
  });
});

describe('CertRotator', () => {
  it('creates the Secret and patches caBundle only into webhooks that call our Service', async () => {
    const api = new FakeApi();
    installChartObjects(api);
    const delivered: ServingCertificate[] = [];
    const report = await rotator(api, { now: new Date() }, delivered).ensure();
    expect(report.action).toBe('created');
    expect(api.objects.get(SECRET_KEY)!.type).toBe('kubernetes.io/tls');
    const data = secretData(api);
    expect(Object.keys(data).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const ca = Buffer.from(data['ca.crt']!).toString('base64');
    expect(caBundles(api)).toEqual([ca, 'b3RoZXI=', ca, ca]);
    // The CA bundle travels with the pair: the injector hands it to sidecars as HELM_CERTIFY_CA.
    expect(delivered).toEqual([{ cert: data['tls.crt'], key: data['tls.key'], ca: data['ca.crt'] }]);
    expect(report.caBundle).toEqual({ updated: TARGETS.map((t) => `${t.kind}/${t.name}`), unchanged: [], missing: [] });
  });

  it('does nothing on a second pass: no writes, no redelivery', async () => {
    const api = new FakeApi();
    installChartObjects(api);
    const delivered: ServingCertificate[] = [];
    const r = rotator(api, { now: new Date() }, delivered);
    await r.ensure();
    const writes = api.writes;
    const again = await r.ensure();
    expect(again.action).toBe('none');
    expect(again.caBundle!.unchanged).toHaveLength(2);
    expect(api.writes).toBe(writes);
    expect(delivered).toHaveLength(1);
  });

  it('never recreates webhook configurations that are gone (helm uninstall)', async () => {
    const api = new FakeApi();
    const report = await rotator(api, { now: new Date() }, []).ensure();
    expect(report.caBundle!.missing).toEqual(TARGETS.map((t) => `${t.kind}/${t.name}`));
    expect([...api.objects.keys()]).toEqual([SECRET_KEY]);
  });

  it('renews the serving certificate before it expires, keeping the CA', async () => {
    const api = new FakeApi();
    installChartObjects(api);
    const clock = { now: new Date('2026-11-22T00:00:00Z') };
    const delivered: ServingCertificate[] = [];
    const r = rotator(api, clock, delivered);
    await r.ensure();
    const before = secretData(api);
    clock.now = new Date(clock.now.getTime() + 15 * DAY);
    expect((await r.ensure()).action).toBe('none');
    clock.now = new Date(clock.now.getTime() + 6 * DAY); // 21 of 30 days: inside the last third
    const report = await r.ensure();
    expect(report.action).toBe('serving-rotated');
    const after = secretData(api);
    expect(after['ca.crt']).toBe(before['ca.crt']);
    expect(after['tls.crt']).not.toBe(before['tls.crt']);
    expect(report.caBundle!.unchanged).toHaveLength(2);
    expect(delivered.map((d) => d.cert)).toEqual([before['tls.crt'], after['tls.crt']]);
    const leaf = parseBundle(after['tls.crt']!)[0]!;
    expect(leaf.notBefore.getTime()).toBe(clock.now.getTime() - 5 * 60_000);
  });

  it('rotates the CA in two passes: new CA joins the bundle first, then the serving certificate moves, then the old CA leaves', async () => {
    const api = new FakeApi();
    installChartObjects(api);
    const clock = { now: new Date('2026-11-22T00:00:00Z') };
    const delivered: ServingCertificate[] = [];
    const r = rotator(api, clock, delivered, { servingLifetimeMs: 250 * DAY });
    await r.ensure();
    const oldCa = parseBundle(secretData(api)['ca.crt']!)[0]!;
    clock.now = new Date(clock.now.getTime() + 210 * DAY);
    const first = await r.ensure();
    expect(first.action).toBe('ca-rotated');
    const cas = parseBundle(secretData(api)['ca.crt']!);
    expect(cas).toHaveLength(2);
    expect(cas[1]!.fingerprint256).toBe(oldCa.fingerprint256);
    expect(first.caBundle!.updated).toHaveLength(2);
    expect(caBundles(api)[0]).toBe(Buffer.from(secretData(api)['ca.crt']!).toString('base64'));
    expect(delivered).toHaveLength(1); // still the certificate issued by the old CA
    const second = await r.ensure();
    expect(second.action).toBe('serving-rotated');
    const leaf = new X509Certificate(secretData(api)['tls.crt']!);
    expect(leaf.checkIssued(cas[0]!.x509)).toBe(true);
    expect(delivered).toHaveLength(2);
    clock.now = new Date(oldCa.notAfter.getTime() + 1000);
    const third = await r.ensure();
    expect(third.action).toBe('pruned');
    expect(parseBundle(secretData(api)['ca.crt']!).map((c) => c.fingerprint256)).toEqual([cas[0]!.fingerprint256]);
  });

  it('two replicas racing on an empty namespace end up serving the same certificate', async () => {
    const api = new FakeApi();
    installChartObjects(api);
    const a: ServingCertificate[] = [];
    const b: ServingCertificate[] = [];
    const now = { now: new Date() };
    const [ra, rb] = await Promise.all([rotator(api, now, a).ensure(), rotator(api, now, b).ensure()]);
    expect([ra.action, rb.action].sort()).toEqual(['created', 'none']);
    expect(a.at(-1)).toEqual(b.at(-1));
    expect(ra.servingFingerprint).toBe(rb.servingFingerprint);
  });

  it('re-reads after a conflicting write and adopts what the other replica wrote', async () => {
    const api = new FakeApi();
    installChartObjects(api);
    const clock = { now: new Date('2026-11-22T00:00:00Z') };
    const a: ServingCertificate[] = [];
    const b: ServingCertificate[] = [];
    await rotator(api, clock, a).ensure();
    clock.now = new Date(clock.now.getTime() + 25 * DAY);
    let interfered = false;
    api.beforeWrite = async () => {
      if (interfered) return;
      interfered = true;
      api.beforeWrite = undefined;
      await rotator(api, clock, b).ensure(); // the other replica renews first
    };
    const report = await rotator(api, clock, a).ensure();
    expect(report.action).toBe('none');
    expect(a.at(-1)).toEqual(b.at(-1));
  });

  it('fills the empty Opaque Secret the chart creates, keeping its (immutable) type', async () => {
    const api = new FakeApi();
    installChartObjects(api);
    api.put(SECRET_KEY, { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'helm-operator-webhook-tls', namespace: NS } });
    const report = await rotator(api, { now: new Date() }, []).ensure();
    expect(report.action).toBe('recreated');
    expect(api.objects.get(SECRET_KEY)!.type).toBe('Opaque');
    expect(Object.keys(secretData(api)).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  });

  it('replaces an unreadable Secret', async () => {
    const api = new FakeApi();
    installChartObjects(api);
    api.put(SECRET_KEY, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'helm-operator-webhook-tls', namespace: NS }, data: { 'tls.crt': 'bm9wZQ==' } });
    const report = await rotator(api, { now: new Date() }, []).ensure();
    expect(report.action).toBe('recreated');
    expect(Object.keys(secretData(api)).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  });
});

describe('hot swap in the running server', () => {
  it('a client sees the renewed certificate on its next connection; the server never restarts', async () => {
    const api = new FakeApi();
    installChartObjects(api);
    // Certificates are checked against real time by the client, so the rotator's clock starts
    // 50 minutes in the past and then catches up to now.
    const clock = { now: new Date(Date.now() - 50 * 60_000) };
    const hook = await startWebhook({
      port: 0,
      host: '127.0.0.1',
      config: config(),
      lookup: lookup(),
      certs: { mode: 'self-managed', serviceName: SERVICE, namespace: NS, secretName: 'helm-operator-webhook-tls', secrets: api.secrets(), webhookConfigs: api.webhookConfigs(), targets: TARGETS, servingLifetimeMs: HOUR, clock: () => clock.now, checkIntervalMs: 3_600_000 },
    });
    try {
      const ca = secretData(api)['ca.crt']!;
      const first = await post(hook.port, '/mutate', JSON.stringify(review(agentPod())), ca);
      expect(first.status).toBe(200);
      clock.now = new Date();
      const report = await hook.checkCertificates();
      expect(typeof report === 'object' && report.action).toBe('serving-rotated');
      const second = await post(hook.port, '/mutate', JSON.stringify(review(agentPod())), ca);
      expect(second.status).toBe(200);
      expect(second.peerFingerprint).not.toBe(first.peerFingerprint);
      expect(second.peerFingerprint).toBe(new X509Certificate(secretData(api)['tls.crt']!).fingerprint256);
      expect(hook.server.ready).toBe(true);
    } finally {
      await hook.close();
    }
  });

  it('cert-manager mode reloads the mounted files when they change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helm-webhook-certs-'));
    const now = new Date();
    const ca = await createCa({ commonName: 'cert-manager CA', now, lifetimeMs: DAY });
    const write = async () => {
      const leaf = await issueServingCert(ca, { dnsNames: serviceDnsNames(SERVICE, NS), now, lifetimeMs: HOUR });
      writeFileSync(join(dir, 'tls.crt'), leaf.certPem);
      writeFileSync(join(dir, 'tls.key'), leaf.keyPem);
      return new X509Certificate(leaf.certPem).fingerprint256;
    };
    const fp1 = await write();
    const hook = await startWebhook({ port: 0, host: '127.0.0.1', config: config(), lookup: lookup(), certs: { mode: 'files', dir, pollIntervalMs: 3_600_000 } });
    try {
      expect((await post(hook.port, '/healthz', '', ca.certPem, {}, 'GET')).peerFingerprint).toBe(fp1);
      const fp2 = await write();
      expect(await hook.checkCertificates()).toBe(fp2);
      expect((await post(hook.port, '/healthz', '', ca.certPem, {}, 'GET')).peerFingerprint).toBe(fp2);
    } finally {
      await hook.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
