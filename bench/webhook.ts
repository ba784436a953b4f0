// Admission webhook latency over real TLS: AdmissionReview v1 bodies (an opted-in pod to inject,
// and a Deployment to validate) posted at a fixed 50 requests/s on keep-alive connections, as the
// API server does. Target: p99 <= 20 ms (the API server's budget is 10 s, but every pod start
// waits on this). Run alone: npm run build && node dist/bench/webhook.js
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:https';
import { pathToFileURL } from 'node:url';
import { injectorConfig } from '../operator/webhook/config.js';
import { mapLookup } from '../operator/webhook/lookup.js';
import { WebhookServer } from '../operator/webhook/server.js';
import { createCa, issueServingCert, serviceDnsNames } from '../operator/webhook/tls/certs.js';
import { round, summarize } from './stats.js';

const NS = 'agents';

function pod(): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'agent-', namespace: NS, labels: { app: 'agent', 'helm.mindburn.org/inject': 'true' }, annotations: { 'helm.mindburn.org/inject': 'true' } },
    spec: {
      serviceAccountName: 'agent',
      containers: [
        { name: 'agent', image: 'agent:1', env: [{ name: 'LOG_LEVEL', value: 'info' }], ports: [{ containerPort: 3000 }] },
        { name: 'worker', image: 'worker:1' },
      ],
      volumes: [{ name: 'scratch', emptyDir: {} }],
    },
  };
}

function review(kind: 'mutate' | 'validate'): string {
  const p = pod();
  const object =
    kind === 'mutate'
      ? p
      : { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'agent', namespace: NS, annotations: { 'helm.mindburn.org/conformance-level': 'L1' } }, spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: p.metadata, spec: p.spec } } };
  const gvk = kind === 'mutate' ? { group: '', version: 'v1', kind: 'Pod' } : { group: 'apps', version: 'v1', kind: 'Deployment' };
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: randomUUID(), kind: gvk, resource: { group: gvk.group, version: 'v1', resource: kind === 'mutate' ? 'pods' : 'deployments' }, namespace: NS, operation: 'CREATE', object, dryRun: false },
  });
}

export async function benchWebhook(opts: { ratePerSecond?: number; seconds?: number } = {}) {
  const rate = opts.ratePerSecond ?? 50;
  const total = Math.round(rate * (opts.seconds ?? 20));
  const now = new Date();
  const ca = await createCa({ commonName: 'bench CA', now, lifetimeMs: 86_400_000 });
  const serving = await issueServingCert(ca, { dnsNames: serviceDnsNames('helm-operator-webhook', 'helm-system'), now, lifetimeMs: 3_600_000 });
  const guardian = {
    apiVersion: 'helm.mindburn.org/v1alpha1',
    kind: 'GuardianSidecar',
    metadata: { name: 'g', namespace: NS },
    spec: {
      image: 'helm-sidecar:bench',
      conformanceLevel: 'L2',
      policyBundleRef: 'b',
      llmUpstream: { url: 'https://api.openai.com/v1', apiKeySecretRef: { name: 'k', key: 'api-key' } },
      proofGraph: { emptyDir: { acknowledgeEvidenceLoss: true } },
    },
  };
  const bundle = { metadata: { name: 'b', namespace: NS }, spec: { bundleId: 'bench', conformanceLevel: 'L1' }, status: { phase: 'Active' } };
  const server = new WebhookServer({
    port: 0,
    host: '127.0.0.1',
    deps: {
      config: injectorConfig('helm-system'),
      lookup: mapLookup({ namespaces: { [NS]: { 'helm.mindburn.org/governed': 'true' } }, guardianSidecars: [guardian], policyBundles: [bundle] }),
      // Certified identity as the operator injects it (values only; nothing dials the URL here).
      certify: () => ({ clusterOrigin: 'helm/bench', url: 'https://helm-operator-webhook.helm-system.svc:443/v1/certify', caBundle: ca.certPem, rootVkey: 'bench-root+00000000+AAAA' }),
    },
  });
  const port = await server.start({ cert: serving.certPem, key: serving.keyPem });
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ca: ca.certPem });
  const post = (path: string, body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, servername: 'helm-operator-webhook.helm-system.svc', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });

  const samples: Record<'mutate' | 'validate', number[]> = { mutate: [], validate: [] };
  // Warm up TLS sessions and the JIT, untimed.
  for (let i = 0; i < 50; i++) await post('/mutate', review('mutate'));
  const interval = 1000 / rate;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const kind = i % 5 === 4 ? 'validate' : 'mutate';
    const body = review(kind);
    const t = process.hrtime.bigint();
    inflight.push(post(`/${kind}`, body).then(() => void samples[kind].push(Number(process.hrtime.bigint() - t))));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  await server.close();
  const all = summarize([...samples.mutate, ...samples.validate]);
  const m = summarize(samples.mutate);
  const v = summarize(samples.validate);
  return {
    requests: total,
    achievedRatePerSecond: round(total / elapsed, 1),
    p50Ms: round(all.p50Us / 1000, 3),
    p99Ms: round(all.p99Us / 1000, 3),
    mutate: { n: m.n, p50Ms: round(m.p50Us / 1000, 3), p99Ms: round(m.p99Us / 1000, 3) },
    validate: { n: v.n, p50Ms: round(v.p50Us / 1000, 3), p99Ms: round(v.p99Us / 1000, 3) },
    target: 'p99 <= 20 ms at 50 requests/s',
    met: all.p99Us / 1000 <= 20,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchWebhook(), null, 2));
}
