// What the injector tells a sidecar about certified identity (BRIEF contract, docs/operator.md):
// the cluster origin, the operator's certify endpoint, the CA that signs its serving certificate
// and the certification root's verifier key. The CA can rotate, so it is read at each admission.
import { readFileSync } from 'node:fs';
import { parseVerifierKey } from '../../kernel/crypto/keys.js';
import { nodeSigner } from '../../kernel/crypto/node.js';
import { signingKeyFromText } from '../../kernel/crypto/signing-key.js';

export const CERTIFY_PATH = '/v1/certify';
export const DEFAULT_CLUSTER_ORIGIN = 'helm/cluster';

export interface CertifyContext {
  /** Cluster part of every sidecar origin: <clusterOrigin>/<namespace>/<podUid>/<boot>. */
  clusterOrigin: string;
  /** https://<webhook service>.<operator namespace>.svc:<service port>/v1/certify */
  url: string;
  /** PEM bundle of the CA(s) that sign the webhook serving certificate. */
  caBundle: string;
  /** Verifier key of the certification root (signed-note vkey). */
  rootVkey: string;
}

export function certifyUrl(service: string, namespace: string, port: number): string {
  return `https://${service}.${namespace}.svc:${port}${CERTIFY_PATH}`;
}

export class CertifyConfigError extends Error {
  readonly code = 'ERR_CERTIFY_CONFIG';
}

/**
 * The root vkey from HELM_CERTIFY_ROOT (a verifier key) or, failing that, derived from the private
 * key file HELM_CERTIFY_ROOT_KEY_FILE (helmctl keygen --type root) the certify endpoint signs with.
 * undefined when neither is set: then the webhook refuses to inject (no sidecar could certify).
 */
export function certifyRootFrom(env: Readonly<Record<string, string | undefined>>, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): string | undefined {
  const vkey = env.HELM_CERTIFY_ROOT?.trim();
  if (vkey) {
    try {
      return parseVerifierKey(vkey).vkey;
    } catch (e) {
      throw new CertifyConfigError(`HELM_CERTIFY_ROOT is not a verifier key: ${(e as Error).message}`);
    }
  }
  const file = env.HELM_CERTIFY_ROOT_KEY_FILE?.trim();
  if (!file) return undefined;
  try {
    return signingKeyFromText(read(file).trim(), nodeSigner).verifier.vkey;
  } catch (e) {
    throw new CertifyConfigError(`HELM_CERTIFY_ROOT_KEY_FILE ${file}: ${(e as Error).message}; make one with helmctl keygen --type root`);
  }
}
