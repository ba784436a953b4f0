// Certificates for the webhook's own CA and serving certificate: ECDSA P-256 keys from the
// platform's WebCrypto, X.509 encoding by @peculiar/x509 (node:crypto parses certificates but
// cannot create them). tsyringe, which @peculiar/x509 2.x uses inside, needs the Reflect metadata
// polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, randomBytes, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** Certificates start this far in the past: clocks on nodes and API servers drift. */
export const BACKDATE_MS = 5 * 60 * 1000;

export interface KeyedCertificate {
  certPem: string;
  keyPem: string;
}

export class CertificateError extends Error {
  constructor(
    readonly code: 'CERT_PARSE' | 'CERT_KEY_MISMATCH',
    message: string,
  ) {
    super(message);
  }
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive INTEGER
  return b.toString('hex');
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64.endsWith('\n') ? b64 : `${b64}\n`}-----END ${label}-----\n`;
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

async function importKey(keyPem: string): Promise<webcrypto.CryptoKey> {
  const b64 = keyPem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  try {
    return await webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), ALG, false, ['sign']);
  } catch (e) {
    throw new CertificateError('CERT_PARSE', `CA key is not a PKCS#8 P-256 key: ${(e as Error).message}`);
  }
}

export async function createCa(opts: { commonName: string; now: Date; lifetimeMs: number }): Promise<KeyedCertificate> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${opts.commonName}`,
    notBefore: new Date(opts.now.getTime() - BACKDATE_MS),
    notAfter: new Date(opts.now.getTime() + opts.lifetimeMs),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

/** A serving certificate for dnsNames, signed by ca; never outlives the CA. */
export async function issueServingCert(
  ca: KeyedCertificate,
  opts: { dnsNames: string[]; now: Date; lifetimeMs: number },
): Promise<KeyedCertificate> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const signingKey = await importKey(ca.keyPem);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const notAfter = Math.min(opts.now.getTime() + opts.lifetimeMs, caCert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.dnsNames[0]}`,
    issuer: caCert.subject,
    notBefore: new Date(opts.now.getTime() - BACKDATE_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(opts.dnsNames.map((value) => ({ type: 'dns' as const, value }))),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

export interface CertInfo {
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  fingerprint256: string;
  x509: X509Certificate;
}

/** Every certificate in a PEM bundle, in order. */
export function parseBundle(pemText: string): CertInfo[] {
  const blocks = pemText.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => {
    let c: X509Certificate;
    try {
      c = new X509Certificate(b);
    } catch (e) {
      throw new CertificateError('CERT_PARSE', `not an X.509 certificate: ${(e as Error).message}`);
    }
    const dnsNames = (c.subjectAltName ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.startsWith('DNS:'))
      .map((s) => s.slice(4));
    return { notBefore: new Date(c.validFrom), notAfter: new Date(c.validTo), dnsNames, fingerprint256: c.fingerprint256, x509: c };
  });
}

/** The DNS names the API server may use for the webhook Service. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, `${service}.${namespace}`, service];
}
