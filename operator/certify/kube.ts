// The two API calls certification makes, through the operator's kubeconfig: create a TokenReview
// (needs the system:auth-delegator ClusterRole or tokenreviews create) and get a pod.
import { AuthenticationV1Api } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { nodeSigner } from '../../kernel/crypto/node.js';
import { signingKeyFromText, type SigningKey } from '../../kernel/crypto/signing-key.js';
import { isNotFound, OperatorError } from '../runtime/errors.js';
import type { Kube } from '../runtime/kube.js';
import type { CertifyDeps } from './certify.js';

export function kubeCertifyDeps(kube: Kube): Pick<CertifyDeps, 'reviewToken' | 'getPod'> {
  const auth = kube.config.makeApiClient(AuthenticationV1Api);
  return {
    async reviewToken(token, audiences) {
      const r = await auth.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } } });
      return JSON.parse(JSON.stringify(r.status ?? {}));
    },
    async getPod(namespace, name) {
      try {
        return JSON.parse(JSON.stringify(await kube.core.readNamespacedPod({ namespace, name })));
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
  };
}

/** HELM_CERTIFY_ROOT_KEY_FILE: a private key written by `helmctl keygen --type root`. */
export function loadCertifyRoot(path: string): SigningKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OperatorError('ERR_CONFIG', `cannot read the certification root key ${path} (HELM_CERTIFY_ROOT_KEY_FILE): ${(e as Error).message}`, { path });
  }
  try {
    return signingKeyFromText(text.trim(), nodeSigner);
  } catch (e) {
    throw new OperatorError('ERR_CONFIG', `${path} (HELM_CERTIFY_ROOT_KEY_FILE) is not a private key written by helmctl keygen --type root: ${(e as Error).message}`, { path });
  }
}
