// A CA and a serving certificate for the webhook Service name, made once per suite.
import { createCa, issueServingCert, serviceDnsNames, type KeyedCertificate } from '../../../operator/webhook/tls/certs.js';

export interface TestPki {
  ca: KeyedCertificate;
  serving: KeyedCertificate;
}

export async function testPki(now = new Date()): Promise<TestPki> {
  const ca = await createCa({ commonName: 'test webhook CA', now, lifetimeMs: 86_400_000 });
  const serving = await issueServingCert(ca, { dnsNames: serviceDnsNames('helm-operator-webhook', 'helm-system'), now, lifetimeMs: 3_600_000 });
  return { ca, serving };
}
