// Starting a sidecar with identity certified against the test operator (test/support/certify-operator.ts).
import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../../sidecar/config/load.js';
import { GuardianSidecar } from '../../sidecar/guardian-sidecar.js';
import { memoryLogger } from '../../sidecar/log.js';
import { CLUSTER_ORIGIN, type CertifyOperator, type TestPodRef } from '../support/certify-operator.js';
import { call, Pod, ROUTES } from './support.js';

/** The environment of a certified sidecar (as the webhook injects it), with its token file written. */
export async function certifiedEnv(pod: Pod, op: CertifyOperator, p: TestPodRef): Promise<Record<string, string>> {
  await writeFile(pod.path(`token-${p.name}`), `tok-${p.name}\n`);
  return {
    HELM_IDENTITY: 'certified',
    HELM_LISTEN: '127.0.0.1:0',
    HELM_ADMIN_LISTEN: '127.0.0.1:0',
    HELM_PROOFGRAPH_DIR: pod.path('proofgraph'),
    HELM_UPSTREAM_URL: pod.model.url,
    HELM_CLUSTER_ORIGIN: CLUSTER_ORIGIN,
    HELM_CERTIFY_URL: op.url,
    HELM_CERTIFY_CA: op.caPem,
    HELM_CERTIFY_TOKEN_FILE: pod.path(`token-${p.name}`),
    HELM_CERTIFY_ROOT: op.root.verifier.vkey,
    POD_NAMESPACE: p.namespace,
    POD_NAME: p.name,
    POD_UID: p.uid,
    POD_SERVICE_ACCOUNT: p.serviceAccount,
    HELM_PRINCIPAL_ROLES: 'support',
    HELM_TOOL_ROUTES: ROUTES,
    HELM_BUNDLE: pod.path('bundle/bundle.yaml'),
    HELM_BUNDLE_SIGNATURE: pod.path('bundle/bundle.signature.json'),
    HELM_BUNDLE_TRUST_ROOTS: pod.path('keys/bundle-roots.txt'),
  };
}

export async function startCertified(pod: Pod, op: CertifyOperator, p: TestPodRef): Promise<GuardianSidecar> {
  const { config } = await loadConfig([], await certifiedEnv(pod, op, p));
  return GuardianSidecar.start({ config, log: memoryLogger(), env: {} });
}

export async function chat(pod: Pod, s: GuardianSidecar, id: string): Promise<Response> {
  pod.script(() => ({ toolCalls: [call(id, 'crm.lookup_customer', { customerId: 'cus_12345678' })] }));
  return fetch(`${s.governedUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) });
}

