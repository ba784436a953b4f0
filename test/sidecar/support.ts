// A pod on a temp directory: key files as helmctl keygen writes them, a root-signed KEY_PUBLISH,
// the example bundle (with approvers the tests hold, no timelock or hold) signed by the test
// bundle signer, the scripted model as upstream, and the real sidecar started from flags through
// the real config loader. Plus readers for the log it leaves and the CLI to export and verify it.
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { main as helmctl } from '../../cli/helmctl.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import type { SigningKey } from '../../kernel/crypto/signing-key.js';
import { decodeNode, type DecodedNode } from '../../kernel/contracts/node.js';
import { signBundle, type PolicyBundleDoc } from '../../kernel/guardian/index.js';
import type { Clock } from '../../kernel/proofgraph/clock.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { signKeyEvent } from '../../kernel/trust/events.js';
import { loadConfig, type Env } from '../../sidecar/config/load.js';
import { GuardianSidecar } from '../../sidecar/guardian-sidecar.js';
import { memoryLogger } from '../../sidecar/log.js';
import type { TracingOptions } from '../../sidecar/observe/tracing.js';
import { startScriptedModel, type ScriptedModel, type ScriptedTurn } from '../../sidecar/scripted-model/server.js';
import { testKey } from '../evidence/fixtures.js';
import { bundleSigner } from '../guardian/helpers.js';
import { pepBundle } from '../pep/support.js';

export const WRITER = 'agent-pod-1';
export const ORIGIN = `helm.test/${WRITER}`;
export const PRINCIPAL = 'agent:sup-1';

export const keys = {
  node: testKey(`node-${WRITER}`),
  log: testKey(ORIGIN),
  root: testKey('helm-root'),
  exporter: testKey('helm-exporter'),
};

/** The example bundle: approvals by one of alice/bob/carol, at once, no hold. */
export function sidecarBundle(patch?: (d: PolicyBundleDoc) => void): PolicyBundleDoc {
  return pepBundle((d) => {
    d.approvals!.manager = { ...d.approvals!.manager!, quorum: 1, timelockSeconds: 0, holdSeconds: 0 };
    patch?.(d);
  });
}

export const ROUTES = JSON.stringify({
  'crm.lookup_customer': { connector: 'crm-api' },
  'tickets.update': { connector: 'helpdesk-mcp' },
  'mail.send': { connector: 'mailer' },
  'billing.refund': { connector: 'payments-api' },
  'kb.fetch_article': { sandbox: 'egress-only' },
});

export const call = (id: string, name: string, args: unknown) => ({ id, name, arguments: JSON.stringify(args) });

export interface Running {
  sidecar: GuardianSidecar;
  log: ReturnType<typeof memoryLogger>;
  /** OpenAI SDK pointed at the governed listener, with the agent's own (worthless) key. */
  client: OpenAI;
  admin(path: string, init?: RequestInit): Promise<Response>;
}

export interface StartOptions {
  flags?: string[];
  env?: Env;
  clock?: Clock;
  tracing?: TracingOptions;
  /** Start without --bundle (and its signature and roots). */
  noBundle?: boolean;
}

export class Pod {
  readonly running: Running[] = [];
  private current: (request: unknown, turn: number) => ScriptedTurn = () => ({ content: 'hello' });

  private constructor(
    readonly dir: string,
    readonly model: ScriptedModel,
  ) {}

  static async create(): Promise<Pod> {
    const dir = await mkdtemp(join(tmpdir(), 'helm-sidecar-'));
    let pod: Pod | null = null;
    const model = await startScriptedModel({ script: (r, t) => pod!.current(r, t) });
    pod = new Pod(dir, model);
    await mkdir(join(dir, 'keys'));
    await mkdir(join(dir, 'bundle'));
    await writeFile(pod.path('keys/node.key'), `${keys.node.privateText}\n`, { mode: 0o600 });
    await writeFile(pod.path('keys/log.key'), `${keys.log.privateText}\n`, { mode: 0o600 });
    await writeFile(pod.path('keys/bundle-roots.txt'), `# bundle signers\n${bundleSigner.verifier.vkey}\n`);
    const publish = signKeyEvent(nodeSuite, { event: 'KEY_PUBLISH', purpose: 'node', origin: ORIGIN, key: keys.node.verifier.vkey, fromIndex: 0, issuedAt: '2026-11-21T00:00:00.000Z' }, [keys.root, keys.node]);
    await writeFile(pod.path('keys/publish-node.json'), JSON.stringify(publish));
    await writeFile(pod.path('trust-policy.txt'), [`log ${keys.log.verifier.vkey}`, 'quorum none', `root ${keys.root.verifier.vkey}`, `exporter ${keys.exporter.verifier.vkey}`, ''].join('\n'));
    await writeFile(pod.path('keys/exporter.key'), `${keys.exporter.privateText}\n`, { mode: 0o600 });
    await pod.writeBundle(sidecarBundle());
    return pod;
  }

  path(p: string): string {
    return join(this.dir, p);
  }

  get logDir(): string {
    return this.path(`proofgraph/${WRITER}`);
  }

  script(next: (request: unknown, turn: number) => ScriptedTurn): void {
    this.current = next;
  }

  /** Writes bundle and signature as a swap would: new files renamed into place. */
  async writeBundle(doc: unknown, signer: SigningKey = bundleSigner, o: { signature?: unknown } = {}): Promise<void> {
    const sig = o.signature ?? signBundle(doc, signer, nodeSuite);
    await writeFile(this.path('bundle/.bundle.tmp'), JSON.stringify(doc, null, 2));
    await writeFile(this.path('bundle/.sig.tmp'), JSON.stringify(sig));
    await rename(this.path('bundle/.bundle.tmp'), this.path('bundle/bundle.yaml'));
    await rename(this.path('bundle/.sig.tmp'), this.path('bundle/bundle.signature.json'));
  }

  /** The flags of a pod's sidecar (every port 0: tests run in parallel). */
  flags(o: { noBundle?: boolean } = {}): string[] {
    return [
      '--listen', '127.0.0.1:0',
      '--admin-listen', '127.0.0.1:0',
      '--proofgraph-dir', this.path('proofgraph'),
      '--writer-id', WRITER,
      '--node-key', this.path('keys/node.key'),
      '--log-key', this.path('keys/log.key'),
      '--trust-event', this.path('keys/publish-node.json'),
      '--upstream-url', this.model.url,
      '--upstream-timeout-ms', '5000',
      '--principal-id', PRINCIPAL,
      '--principal-role', 'support',
      ...(o.noBundle ? [] : ['--bundle', this.path('bundle/bundle.yaml'), '--bundle-signature', this.path('bundle/bundle.signature.json'), '--bundle-trust-root', this.path('keys/bundle-roots.txt')]),
    ];
  }

  async start(o: StartOptions = {}): Promise<Running> {
    const env: Env = { HELM_TOOL_ROUTES: ROUTES, HELM_BUNDLE_POLL_INTERVAL_MS: '100', ...o.env };
    const { config } = await loadConfig([...this.flags({ noBundle: o.noBundle }), ...(o.flags ?? [])], env);
    const log = memoryLogger();
    const sidecar = await GuardianSidecar.start({ config, log, env, ...(o.clock ? { clock: o.clock } : {}), ...(o.tracing ? { tracing: o.tracing } : {}) });
    const r: Running = {
      sidecar,
      log,
      client: new OpenAI({ baseURL: `${sidecar.governedUrl}/v1`, apiKey: 'agent-own-key', maxRetries: 0, timeout: 20_000 }),
      admin: (p, init) => fetch(`${sidecar.adminUrl}${p}`, init),
    };
    this.running.push(r);
    return r;
  }

  async nodes(): Promise<DecodedNode[]> {
    return (await readLog(this.logDir)).entries.map((e) => decodeNode(nodeSuite, e));
  }

  /** helmctl export + verify of the whole store; returns verify's exit code and output. */
  async exportAndVerify(): Promise<{ code: number; out: string }> {
    const pack = this.path(`pack-${Date.now()}.tar.gz`);
    const io = () => {
      let out = '';
      return { io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } }, text: () => out };
    };
    const e = io();
    const ec = await helmctl(['export', '--store', this.path('proofgraph'), '--out', pack, '--key', this.path('keys/exporter.key')], e.io);
    if (ec !== 0) return { code: ec, out: e.text() };
    const v = io();
    const code = await helmctl(['verify', pack, '--trust-policy', this.path('trust-policy.txt')], v.io);
    return { code, out: v.text() };
  }

  async cleanup(): Promise<void> {
    for (const r of this.running) await r.sidecar.stop();
    await this.model.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export const body = (n: DecodedNode) => n.statement.predicate.body as Record<string, unknown>;

/** Decisions in the log, as [callId, tool, verdict, reasonCode]. */
export function decisions(nodes: readonly DecodedNode[]): Array<[string, string, string, string]> {
  return nodes.filter((n) => n.kind === 'decision').map((n) => [String(body(n).callId), String(body(n).tool), String(body(n).verdict), String(body(n).reasonCode)]);
}

export async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
