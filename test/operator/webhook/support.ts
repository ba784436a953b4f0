// Fixtures for the webhook suites: raw pods and custom resources, AdmissionReview bodies, an
// RFC 6902 applier (to check what a patch does), and an HTTPS client that trusts a given CA.
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import type { CertifyContext } from '../../../operator/webhook/certify-context.js';
import { injectorConfig, type InjectorConfig } from '../../../operator/webhook/config.js';
import type { Json, JsonObject, PatchOp } from '../../../operator/webhook/json.js';
import { mapLookup, type LookupState } from '../../../operator/webhook/lookup.js';

export const OPERATOR_NS = 'helm-system';
export const APP_NS = 'agents';

/** Certified-identity values as the operator would inject them (the root vkey is a fixed test key). */
export const CERTIFY: CertifyContext = {
  clusterOrigin: 'helm/test-cluster',
  url: 'https://helm-operator-webhook.helm-system.svc:443/v1/certify',
  caBundle: '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n',
  rootVkey: 'example-bundle-signer+7383a887+AYFGZA8CSTr0+8VP4zOI513CyTeuC3cnzCsq+xt1GZo+',
};
export const certify = () => CERTIFY;

export const config = (overrides: Partial<InjectorConfig> = {}): InjectorConfig => injectorConfig(OPERATOR_NS, overrides);

export function agentPod(overrides: { annotations?: Record<string, string>; labels?: Record<string, string>; extra?: JsonObject } = {}): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'support-agent-7d9f-',
      namespace: APP_NS,
      labels: { app: 'support-agent', 'helm.mindburn.org/inject': 'true', ...overrides.labels },
      annotations: { 'helm.mindburn.org/inject': 'true', 'example.com/owner~team': 'a/b', ...overrides.annotations },
    },
    spec: {
      serviceAccountName: 'support-agent',
      containers: [
        {
          name: 'agent',
          image: 'ghcr.io/example/agent:1.2.3',
          env: [
            { name: 'OPENAI_BASE_URL', value: 'https://api.openai.com/v1' },
            { name: 'LOG_LEVEL', value: 'debug' },
          ],
          ports: [{ containerPort: 3000, name: 'http' }],
          // A field from a future Kubernetes version: must survive injection untouched.
          futureField: { keep: true },
        },
        { name: 'worker', image: 'ghcr.io/example/worker:1.2.3' },
      ],
      volumes: [{ name: 'scratch', emptyDir: {} }],
      ...overrides.extra,
    },
  };
}

export function guardianSidecar(overrides: { name?: string; namespace?: string; spec?: JsonObject; deleting?: boolean } = {}): JsonObject {
  const metadata: JsonObject = { name: overrides.name ?? 'support', namespace: overrides.namespace ?? APP_NS, resourceVersion: '7', generation: 1 };
  if (overrides.deleting) metadata.deletionTimestamp = '2026-11-22T00:00:00Z';
  return {
    apiVersion: 'helm.mindburn.org/v1alpha1',
    kind: 'GuardianSidecar',
    metadata,
    spec: {
      image: 'ghcr.io/mindburn/helm-sidecar:0.1.0',
      conformanceLevel: 'L2',
      policyBundleRef: 'support-desk',
      llmUpstream: { url: 'https://api.openai.com/v1', apiKeySecretRef: { name: 'openai', key: 'api-key' } },
      mcpUpstreams: [{ name: 'crm', url: 'http://crm-mcp.tools:8000/mcp', authSecretRef: { name: 'crm-token', key: 'token' } }],
      proofGraph: { emptyDir: { acknowledgeEvidenceLoss: true } },
      ...overrides.spec,
    },
  };
}

/** A ClusterGuardianSidecar whose PolicyBundle lives in the operator's namespace. */
export function clusterGuardianSidecar(overrides: { name?: string; spec?: JsonObject } = {}): JsonObject {
  const gs = guardianSidecar({ name: overrides.name ?? 'fleet', spec: { policyBundleNamespace: OPERATOR_NS, image: 'ghcr.io/mindburn/helm-sidecar:fleet', ...overrides.spec } });
  delete (gs.metadata as JsonObject).namespace;
  gs.kind = 'ClusterGuardianSidecar';
  return gs;
}

export function policyBundle(overrides: { name?: string; namespace?: string; phase?: string; reason?: string; spec?: JsonObject } = {}): JsonObject {
  return {
    apiVersion: 'helm.mindburn.org/v1alpha1',
    kind: 'PolicyBundle',
    metadata: { name: overrides.name ?? 'support-desk', namespace: overrides.namespace ?? APP_NS, resourceVersion: '3' },
    spec: {
      bundleId: 'support-desk',
      version: 3,
      contentHash: `sha256:${'a'.repeat(64)}`,
      signature: 'c2ln',
      signerKeyId: 'example-bundle-signer+7383a887',
      conformanceLevel: 'L1',
      configMapRef: { name: 'support-desk-bundle' },
      ...overrides.spec,
    },
    status: {
      phase: overrides.phase ?? 'Active',
      conditions: [
        { type: 'Ready', status: overrides.phase && overrides.phase !== 'Active' ? 'False' : 'True', reason: overrides.reason ?? 'Verified', message: '', lastTransitionTime: '2026-11-22T00:00:00Z' },
      ],
    },
  };
}

export function lookupState(): LookupState {
  return {
    namespaces: { [APP_NS]: { 'kubernetes.io/metadata.name': APP_NS }, [OPERATOR_NS]: { 'kubernetes.io/metadata.name': OPERATOR_NS } },
    guardianSidecars: [guardianSidecar()],
    policyBundles: [policyBundle()],
  };
}

export const lookup = (state = lookupState()) => mapLookup(state);

export function review(
  object: JsonObject | undefined,
  opts: { kind?: { group: string; version: string; kind: string }; resource?: string; operation?: string; namespace?: string; oldObject?: JsonObject; uid?: string } = {},
): JsonObject {
  const kind = opts.kind ?? { group: '', version: 'v1', kind: 'Pod' };
  const request: JsonObject = {
    uid: opts.uid ?? randomUUID(),
    kind,
    resource: { group: kind.group, version: kind.version, resource: opts.resource ?? `${kind.kind.toLowerCase()}s` },
    requestKind: kind,
    requestResource: { group: kind.group, version: kind.version, resource: opts.resource ?? `${kind.kind.toLowerCase()}s` },
    namespace: opts.namespace ?? APP_NS,
    operation: opts.operation ?? 'CREATE',
    userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', uid: randomUUID(), groups: ['system:serviceaccounts'] },
    options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    dryRun: false,
  };
  if (object !== undefined) request.object = object;
  if (opts.oldObject !== undefined) request.oldObject = opts.oldObject;
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

function unescape(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** RFC 6902 add/replace (what the injector emits) on a deep copy. Throws on an invalid path. */
export function applyPatch<T extends Json>(doc: T, ops: readonly PatchOp[]): T {
  const out = structuredClone(doc);
  for (const op of ops) {
    const tokens = op.path.split('/').slice(1).map(unescape);
    const last = tokens.pop();
    if (last === undefined) throw new Error(`bad path ${op.path}`);
    let parent: unknown = out;
    for (const t of tokens) {
      parent = Array.isArray(parent) ? parent[Number(t)] : (parent as Record<string, unknown> | undefined)?.[t];
      if (typeof parent !== 'object' || parent === null) throw new Error(`path ${op.path} does not exist`);
    }
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(i) || i < 0 || i > parent.length || (op.op === 'replace' && i >= parent.length)) throw new Error(`bad index in ${op.path}`);
      if (op.op === 'add') parent.splice(i, 0, structuredClone(op.value));
      else parent[i] = structuredClone(op.value);
    } else {
      const o = parent as Record<string, unknown>;
      if (op.op === 'replace' && !(last in o)) throw new Error(`replace of missing ${op.path}`);
      o[last] = structuredClone(op.value);
    }
  }
  return out;
}

export interface HttpsAnswer {
  status: number;
  body: string;
  json: () => JsonObject;
  peerFingerprint: string;
}

export function post(port: number, path: string, body: string | Buffer, ca: string, headers: Record<string, string> = {}, method = 'POST'): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        ca,
        servername: 'helm-operator-webhook.helm-system.svc',
        agent: false,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        const socket = res.socket as import('node:tls').TLSSocket;
        const peerFingerprint = socket.getPeerCertificate?.().fingerprint256 ?? '';
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            body: text,
            json: () => JSON.parse(text) as JsonObject,
            peerFingerprint,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function decodePatch(response: JsonObject): PatchOp[] {
  const r = response.response as JsonObject;
  if (r.patch === undefined) return [];
  expect(r.patchType).toBe('JSONPatch');
  return JSON.parse(Buffer.from(String(r.patch), 'base64').toString('utf8')) as PatchOp[];
}
