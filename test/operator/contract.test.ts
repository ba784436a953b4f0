// Contract between the injector and the sidecar (issue 9, part 3): the exact pod the mutating
// webhook produces for the example bundle's support agent, run for real. The sidecar container's
// env is given to a real `helmctl serve` (dist/; `npm run build` first), its volume mounts mapped
// to temp directories filled the way the kubelet would (the PolicyBundle controller's ConfigMap,
// the Secret of the model key), and the app container's OPENAI_BASE_URL / OPENAI_API_KEY drive the
// real openai SDK: ALLOW, DENY and ESCALATE exactly as examples/bundles/support-desk.yaml says.
//
// Identity: the injected sidecar runs in certified mode against the operator's real /v1/certify
// (HTTPS, TokenReview and pod GET on the API-server double), with the pod's projected token in
// the mapped token volume; the certify URL, CA and root are mapped to that endpoint like paths.
// At the end the pod's log is exported and verified with a trust policy of one `root` line.
// Ports are mapped like paths (127.0.0.1:0): tests run in parallel.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { verifyContent } from '../../operator/controllers/bundle-verify.js';
import { parseAdmissionReview } from '../../operator/webhook/admission.js';
import { mutate } from '../../operator/webhook/handlers.js';
import type { JsonObject } from '../../operator/webhook/json.js';
import { mapLookup } from '../../operator/webhook/lookup.js';
import { startScriptedModel, type ScriptedModel } from '../../sidecar/scripted-model/server.js';
import { decisions } from '../sidecar/support.js';
import { repoRoot } from '../support/shared.js';
import { CLUSTER_ORIGIN, startCertifyOperator, type CertifyOperator, type TestPodRef } from '../support/certify-operator.js';
import { testKey } from '../evidence/fixtures.js';
import { agentPod, APP_NS, applyPatch, certify, config, guardianSidecar, lookupState, review } from './webhook/support.js';
import { bundleSigner, EXAMPLE_TEXT, signedSpec, trust, withIdentity } from './support.js';

const HELMCTL = join(repoRoot, 'dist', 'cli', 'helmctl.js');
const POD_NAME = 'support-agent-7d9f-x2p4q';

/** The bundle's tool routes and the support role: what the GuardianSidecar must carry for an ALLOW. */
const GUARDIAN_SPEC = {
  principal: { id: 'agent:sup-1', roles: ['support'] },
  toolRoutes: {
    'crm.lookup_customer': { connector: 'crm-api' },
    'tickets.update': { connector: 'helpdesk-mcp' },
    'mail.send': { connector: 'mailer' },
    'billing.refund': { connector: 'payments-api' },
    'kb.fetch_article': { sandbox: 'egress-only' },
  },
  mcpUpstreams: [],
  proofGraph: { emptyDir: { acknowledgeEvidenceLoss: true } },
};

const LOOKUP = { id: 'call_lookup_1', name: 'crm.lookup_customer', arguments: JSON.stringify({ customerId: 'cus_12345678' }) };
const MAIL = { id: 'call_mail_1', name: 'mail.send', arguments: JSON.stringify({ to: [{ host: 'mail.example-customer.com', user: 'ann' }], subject: 'Re: ticket', body: 'password: hunter2' }) };
const REFUND = { id: 'call_refund_1', name: 'billing.refund', arguments: JSON.stringify({ paymentId: 'pay_1', amountCents: 20000 }) };
const TOOLS = ['crm.lookup_customer', 'billing.refund', 'mail.send'].map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: {} } } }));

type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };
type Container = { name: string; env?: EnvVar[]; volumeMounts?: { name: string; mountPath: string }[] };
type Volume = { name: string; configMap?: { name: string }; secret?: { secretName: string }; emptyDir?: unknown; projected?: unknown };

let dir: string;
let model: ScriptedModel;
let child: ChildProcess | undefined;
let op: CertifyOperator;
let podRef: TestPodRef;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'helm-contract-'));
  model = await startScriptedModel({ script: () => ({ toolCalls: [LOOKUP, MAIL, REFUND] }) });
  op = await startCertifyOperator();
  podRef = op.seedPod(POD_NAME, { namespace: APP_NS, serviceAccount: 'support-agent' });
  op.registerToken('projected-token-of-the-pod', podRef);
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await op?.close();
  await model.close();
  await rm(dir, { recursive: true, force: true });
});

/** The pod as admitted: the webhook's patch applied to an opted-in pod. */
async function injectedPod(): Promise<JsonObject> {
  const state = lookupState();
  state.guardianSidecars = [guardianSidecar({ spec: { ...GUARDIAN_SPEC, llmUpstream: { url: `${model.url}`, apiKeySecretRef: { name: 'openai', key: 'api-key' } } } })];
  const pod = agentPod({ extra: {} });
  (pod.metadata as JsonObject).name = POD_NAME;
  const parsed = parseAdmissionReview(JSON.stringify(review(pod)));
  if (!parsed.ok) throw new Error(parsed.message);
  const m = await mutate(parsed.request, { config: config({ bundleTrustRoots: [bundleSigner.verifier.vkey] }), lookup: mapLookup(state), certify });
  if (!m.result.allowed) throw new Error(m.result.message);
  return applyPatch(pod, m.result.patch ?? []);
}

/** What the kubelet would put in each volume the sidecar mounts, under dir/<volume name>. */
async function materialize(volumes: Volume[], mounts: { name: string; mountPath: string }[]): Promise<Map<string, string>> {
  const spec = signedSpec(withIdentity(EXAMPLE_TEXT, 'support-desk', 1));
  const verified = verifyContent(spec.inline!, spec, trust, nodeSuite);
  if (!verified.ok) throw new Error(verified.message);
  const paths = new Map<string, string>();
  for (const m of mounts) {
    const v = volumes.find((x) => x.name === m.name)!;
    const local = join(dir, m.name);
    await mkdir(local, { recursive: true });
    if (v.configMap) {
      // The PolicyBundle controller's ConfigMap: bundle.json (canonical text) and signature.json.
      await writeFile(join(local, 'bundle.json'), verified.canonicalText);
      await writeFile(join(local, 'signature.json'), `${JSON.stringify(verified.signature, null, 2)}\n`);
    } else if (v.secret) {
      await writeFile(join(local, 'api-key'), 'sk-upstream-held-by-the-sidecar');
    } else if (v.projected) {
      // The kubelet's projected ServiceAccount token (audience helm.mindburn.org/certify).
      await writeFile(join(local, 'token'), 'projected-token-of-the-pod');
    }
    paths.set(m.mountPath, local);
  }
  return paths;
}

function fieldValue(path: string, pod: JsonObject): string {
  const fields: Record<string, string> = { 'metadata.namespace': APP_NS, 'metadata.name': POD_NAME, 'metadata.uid': podRef.uid, 'spec.serviceAccountName': 'support-agent' };
  if (!(path in fields)) throw new Error(`unmapped fieldRef ${path} in ${JSON.stringify(pod.metadata)}`);
  return fields[path]!;
}

describe('the injected pod, run for real', () => {
  it('gets ALLOW, DENY and ESCALATE through the openai SDK as the example bundle says, each receipted', async () => {
    const pod = await injectedPod();
    const spec = pod.spec as unknown as { initContainers: Container[]; containers: Container[]; volumes: Volume[] };
    const sidecar = spec.initContainers.find((c) => c.name === 'helm-guardian')!;
    const app = spec.containers.find((c) => c.name === 'agent')!;
    const mounts = await materialize(spec.volumes, sidecar.volumeMounts ?? []);
    const mapPath = (value: string) => {
      for (const [mountPath, local] of mounts) if (value === mountPath || value.startsWith(`${mountPath}/`)) return local + value.slice(mountPath.length);
      return value;
    };

    const env: Record<string, string> = {};
    for (const e of sidecar.env ?? []) env[e.name] = e.valueFrom?.fieldRef ? fieldValue(e.valueFrom.fieldRef.fieldPath, pod) : mapPath(e.value ?? '');
    expect(env.HELM_PRINCIPAL_ROLES).toBe('support');
    expect(env.HELM_UPSTREAM_API_KEY_FILE).toBe(join(dir, 'helm-guardian-upstream-credentials', 'api-key'));
    // Ports, like paths, are mapped: tests run in parallel.
    env.HELM_LISTEN = '127.0.0.1:0';
    env.HELM_ADMIN_LISTEN = '127.0.0.1:0';
    // Certified identity, as injected; the endpoint, its CA and root are this test's operator.
    expect(env.HELM_IDENTITY).toBe('certified');
    expect(env.HELM_NODE_KEY).toBeUndefined();
    expect(env.HELM_CERTIFY_TOKEN_FILE).toBe(join(dir, 'helm-guardian-token', 'token'));
    expect(env.HELM_CERTIFY_URL).toMatch(/^https:\/\/.+\.svc:\d+\/v1\/certify$/);
    Object.assign(env, { HELM_CERTIFY_URL: op.url, HELM_CERTIFY_CA: op.caPem, HELM_CERTIFY_ROOT: op.root.verifier.vkey, HELM_CLUSTER_ORIGIN: CLUSTER_ORIGIN });

    child = spawn(process.execPath, [HELMCTL, 'serve'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));
    const deadline = Date.now() + 30_000;
    while (!err.includes('ready to serve')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`helmctl serve did not start:\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const ready = JSON.parse(err.split('\n').find((l) => l.includes('ready to serve'))!) as { governed: string; admin: string };
    // Ready only once the operator certified this boot's keys (until then every call is denied).
    while ((await fetch(`${ready.admin}/readyz`).catch(() => null))?.status !== 200) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the sidecar never became ready:\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const appEnv = Object.fromEntries((app.env ?? []).map((e) => [e.name, e.value ?? '']));
    expect(appEnv.OPENAI_BASE_URL).toBe('http://127.0.0.1:8080/v1');
    const client = new OpenAI({ baseURL: appEnv.OPENAI_BASE_URL!.replace('http://127.0.0.1:8080', ready.governed), apiKey: appEnv.OPENAI_API_KEY!, maxRetries: 0, timeout: 20_000 });
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-test', messages: [{ role: 'user', content: 'help the customer' }], tools: TOOLS })
      .withResponse();
    const helm = (data as unknown as { helm: { decisions: { toolCallId: string; verdict: string; reasonCode: string; delivered: boolean }[] } }).helm;
    expect(helm.decisions.map((d) => [d.toolCallId, d.verdict, d.reasonCode, d.delivered])).toEqual([
      [LOOKUP.id, 'ALLOW', 'ALLOWED', true],
      [MAIL.id, 'DENY', 'DATA_EGRESS_BLOCKED', false],
      [REFUND.id, 'ESCALATE', 'APPROVAL_REQUIRED', false],
    ]);
    expect(data.choices[0]!.message.tool_calls?.map((c) => c.id)).toEqual([LOOKUP.id]);
    expect(response.headers.get('x-helm-decision')).toBe('DENY');
    // The model got the sidecar's key, never the app's placeholder.
    expect(model.requests.at(-1)!.headers.authorization).toBe('Bearer sk-upstream-held-by-the-sidecar');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const store = mapPath('/var/lib/helm/proofgraph');
    const boots = await readdir(join(store, APP_NS, POD_NAME));
    expect(boots).toHaveLength(1);
    const log = await readLog(join(store, APP_NS, POD_NAME, boots[0]!));
    const receipted = decisions(log.entries.map((e) => decodeNode(nodeSuite, e)));
    expect(receipted.map(([id, tool, verdict]) => [id, tool, verdict])).toEqual([
      [LOOKUP.id, 'crm.lookup_customer', 'ALLOW'],
      [MAIL.id, 'mail.send', 'DENY'],
      [REFUND.id, 'billing.refund', 'ESCALATE'],
    ]);

    // The pod's receipts verify offline under one root line: the operator certified its keys.
    const exporter = testKey('contract/exporter');
    await writeFile(join(dir, 'exporter.key'), exporter.privateText, { mode: 0o600 });
    await writeFile(join(dir, 'policy.txt'), ['quorum none', `root ${op.root.verifier.vkey}`, `exporter ${exporter.verifier.vkey}`, ''].join('\n'));
    const pack = join(dir, 'pack.tar.gz');
    const exported = spawnSync(process.execPath, [HELMCTL, 'export', '--store', store, '--namespace', APP_NS, '--pod', POD_NAME, '--out', pack, '--key', join(dir, 'exporter.key')], { encoding: 'utf8' });
    expect(exported.stderr).toBe('');
    expect(exported.status).toBe(0);
    const verified = spawnSync(process.execPath, [HELMCTL, 'verify', pack, '--trust-policy', join(dir, 'policy.txt')], { encoding: 'utf8' });
    expect(verified.status).toBe(0);
  });
});
