// The operator's certification endpoint as it runs: the webhook HTTPS server with POST /v1/certify,
// a certification root, and the API-server double answering TokenReviews and pod GETs. Seeds one
// injected pod; tests register the pod's projected token (or not) and point sidecars at `url`.
import { Kube } from '../../operator/runtime/kube.js';
import { kubeCertifyDeps } from '../../operator/certify/kube.js';
import { certifyRoute } from '../../operator/certify/route.js';
import { CERTIFY_AUDIENCE } from '../../operator/certify/certify.js';
import { WebhookServer } from '../../operator/webhook/server.js';
import type { WebhookDeps } from '../../operator/webhook/handlers.js';
import { createCa, issueServingCert } from '../../operator/webhook/tls/certs.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import type { SigningKey } from '../../kernel/crypto/signing-key.js';
import { ApiServerDouble } from '../k8s/api-server-double.js';
import { testKey } from '../evidence/fixtures.js';

export const CLUSTER_ORIGIN = 'helm/test-cluster';

export interface TestPodRef {
  namespace: string;
  name: string;
  uid: string;
  serviceAccount: string;
}

export interface CertifyOperator {
  url: string;
  caPem: string;
  root: SigningKey;
  double: ApiServerDouble;
  /** Seeds an injected pod (or a plain one) and returns it with the uid the double gave it. */
  seedPod(name: string, o?: { injected?: boolean; namespace?: string; serviceAccount?: string }): TestPodRef;
  /** Registers a projected token for the pod (audience helm.mindburn.org/certify unless given). */
  registerToken(token: string, pod: TestPodRef, audiences?: string[]): void;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startCertifyOperator(): Promise<CertifyOperator> {
  const double = await ApiServerDouble.start();
  const namespaces = new Set<string>();
  const root = testKey('helm/certify-root');
  const now = new Date();
  const ca = await createCa({ commonName: 'test webhook CA', now, lifetimeMs: 86_400_000 });
  const serving = await issueServingCert(ca, { dnsNames: ['localhost'], now, lifetimeMs: 3_600_000 });
  const logs: Array<Record<string, unknown>> = [];
  const kube = new Kube(double.kubeConfig());
  const route = certifyRoute({ root, clusterOrigin: CLUSTER_ORIGIN, suite: nodeSuite, now: () => new Date(), log: (e) => logs.push(e), ...kubeCertifyDeps(kube) });
  const server = new WebhookServer({ port: 0, host: '127.0.0.1', deps: {} as WebhookDeps, certify: route });
  const port = await server.start({ cert: serving.certPem, key: serving.keyPem });
  return {
    url: `https://localhost:${port}/v1/certify`,
    caPem: ca.certPem,
    root,
    double,
    logs,
    seedPod(name, o = {}) {
      const namespace = o.namespace ?? 'shop';
      const serviceAccount = o.serviceAccount ?? 'agent';
      if (!namespaces.has(namespace)) {
        double.seed('', 'namespaces', { metadata: { name: namespace } });
        namespaces.add(namespace);
      }
      const injected = o.injected ?? true;
      const pod = double.seed('', 'pods', {
        metadata: { name, namespace, labels: injected ? { 'helm.mindburn.org/injected': 'true' } : {} },
        spec: { serviceAccountName: serviceAccount, containers: [{ name: 'agent', image: 'agent:1' }, ...(injected ? [{ name: 'helm-guardian', image: 'helm-guardian:0.1.0' }] : [])] },
      });
      return { namespace, name, uid: String(pod.metadata?.uid), serviceAccount };
    },
    registerToken(token, pod, audiences = [CERTIFY_AUDIENCE]) {
      double.tokenReviews.registerPodToken(token, pod, audiences);
    },
    async close() {
      await server.close();
      await double.stop();
    },
  };
}
