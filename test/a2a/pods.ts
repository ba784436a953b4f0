// Two agent pods on one ProofGraph volume, each sidecar a real `helmctl serve` child process from
// dist/ (run `npm run build` first), with its own node and log keys, its own A2A key and its own
// signed bundle. One volume, so one `helmctl export` carries both logs and the cross-log links.
import { spawn, type ChildProcess } from 'node:child_process';
import { main as helmctlMain } from '../../cli/helmctl.js';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeSuite } from '../../kernel/crypto/node.js';
import type { SigningKey } from '../../kernel/crypto/signing-key.js';
import { toB64u } from '../../kernel/a2a/b64url.js';
import { bodyDigest, signRequest, type RequestAuth } from '../../kernel/a2a/request-auth.js';
import { decodeNode, type DecodedNode } from '../../kernel/contracts/node.js';
import { signBundle, type PolicyBundleDoc } from '../../kernel/guardian/index.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { makeKeys, policyText, publishEvent, testKey, type Keys } from '../evidence/fixtures.js';
import { bundleSigner } from '../guardian/helpers.js';
import { repoRoot } from '../support/shared.js';

export const HELMCTL = join(repoRoot, 'dist', 'cli', 'helmctl.js');

export interface Sidecar {
  name: string;
  origin: string;
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** How it was started (restart starts it the same way). */
  args: { principal: string; bundle: PolicyBundleDoc; extra: string[]; env: Record<string, string> };
}

export class Volume {
  readonly keys: Keys;
  readonly sidecars: Sidecar[] = [];

  private constructor(
    readonly dir: string,
    origins: string[],
  ) {
    this.keys = makeKeys(origins);
  }

  static async create(names: string[]): Promise<Volume> {
    if (!existsSync(HELMCTL)) throw new Error(`${HELMCTL} is missing: run npm run build first`);
    const v = new Volume(await mkdtemp(join(tmpdir(), 'helm-a2a-')), names.map((n) => `helm.test/${n}`));
    for (const n of names) {
      const k = v.keys.logs[`helm.test/${n}`]!;
      await writeFile(v.path(`${n}.node.key`), `${k.node.privateText}\n`, { mode: 0o600 });
      await writeFile(v.path(`${n}.log.key`), `${k.log.privateText}\n`, { mode: 0o600 });
      await writeFile(v.path(`${n}.publish.json`), JSON.stringify(publishEvent(v.keys, `helm.test/${n}`)));
      await writeFile(v.path(`${n}.a2a.key`), `${a2aKey(n).privateText}\n`, { mode: 0o600 });
    }
    await writeFile(v.path('roots.txt'), `${bundleSigner.verifier.vkey}\n`);
    await writeFile(v.path('exporter.key'), `${v.keys.exporter.privateText}\n`, { mode: 0o600 });
    await writeFile(v.path('trust-policy.txt'), policyText(v.keys));
    return v;
  }

  path(p: string): string {
    return join(this.dir, p);
  }

  /** Starts `helmctl serve` for pod `name` with its bundle; resolves once it serves. */
  async start(name: string, principal: string, bundle: PolicyBundleDoc, extra: string[], env: Record<string, string> = {}): Promise<Sidecar> {
    await writeFile(this.path(`${name}.bundle.json`), JSON.stringify(bundle));
    await writeFile(this.path(`${name}.bundle.sig.json`), JSON.stringify(signBundle(bundle, bundleSigner, nodeSuite)));
    // prettier-ignore
    const flags = [
      '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0',
      '--proofgraph-dir', this.path('pg'), '--writer-id', name,
      '--node-key', this.path(`${name}.node.key`), '--log-key', this.path(`${name}.log.key`),
      '--trust-event', this.path(`${name}.publish.json`),
      // A pod with a model of its own names it in extra.
      ...(extra.includes('--upstream-url') ? [] : ['--upstream-url', 'http://127.0.0.1:9/v1']),
      '--principal-id', principal,
      '--bundle', this.path(`${name}.bundle.json`), '--bundle-signature', this.path(`${name}.bundle.sig.json`), '--bundle-trust-root', this.path('roots.txt'),
      '--a2a-key', this.path(`${name}.a2a.key`),
      ...extra,
    ];
    const child = spawn(process.execPath, [HELMCTL, 'serve', ...flags], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`sidecar ${name} did not start:\n${err}`)), 30_000);
      const check = () => {
        const line = err.split('\n').find((l) => l.includes('ready to serve'));
        if (line) {
          clearTimeout(t);
          resolve((JSON.parse(line) as { governed: string }).governed);
        }
      };
      child.stderr!.on('data', check);
      child.once('exit', (code) => reject(new Error(`sidecar ${name} exited ${code}:\n${err}`)));
    });
    const s: Sidecar = { name, origin: `helm.test/${name}`, url, child, stderr: () => err, args: { principal, bundle, extra, env } };
    this.sidecars.push(s);
    return s;
  }

  async nodes(name: string): Promise<DecodedNode[]> {
    return (await readLog(this.path(`pg/${name}`))).entries.map((e) => decodeNode(nodeSuite, e));
  }

  /** Stops one sidecar (SIGTERM) and starts it again on the same log: a real restart (a new port). */
  async restart(s: Sidecar): Promise<Sidecar> {
    await new Promise<void>((r) => {
      if (s.child.exitCode !== null) return r();
      s.child.once('exit', () => r());
      s.child.kill('SIGTERM');
    });
    this.sidecars.splice(this.sidecars.indexOf(s), 1);
    return this.start(s.name, s.args.principal, s.args.bundle, s.args.extra, s.args.env);
  }

  /** Stops every sidecar (SIGTERM: shutdown heartbeat and checkpoint). */
  async stop(): Promise<void> {
    await Promise.all(
      this.sidecars.map(
        (s) =>
          new Promise<void>((r) => {
            if (s.child.exitCode !== null) return r();
            s.child.once('exit', () => r());
            s.child.kill('SIGTERM');
          }),
      ),
    );
    this.sidecars.length = 0;
  }

  /** helmctl with args, in process (the CLI the dist binary runs); its exit code and output. */
  async helmctl(args: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } };
    const code = await helmctlMain(args, io);
    return { code, out };
  }

  async cleanup(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The A2A key of a pod (fixed test seed). */
export function a2aKey(name: string) {
  return testKey(`a2a-${name}`);
}

/** An A2A request to `url` (a sidecar's /a2a/in) signed by `signer` for the agent whose key handle is `aud`. */
export async function signedCall(url: string, aud: string, signer: SigningKey, text: string, auth: Partial<RequestAuth> = {}): Promise<{ json: Record<string, unknown>; headers: Headers; send: (to?: string) => Promise<Record<string, unknown>> }> {
  const bytes = new TextEncoder().encode(text);
  const a: RequestAuth = { keyid: signer.verifier.handle, aud, ts: new Date().toISOString(), nonce: toB64u(crypto.getRandomValues(new Uint8Array(16))), parent: null, delegation: null, ...auth };
  const headers = { 'content-type': 'application/json', 'a2a-version': '1.0', ...signRequest(signer, 'POST', '/a2a/in', bodyDigest(nodeSuite, bytes), a) };
  const send = async (to = url) => (await (await fetch(to, { method: 'POST', body: bytes, headers })).json()) as Record<string, unknown>;
  const first = await fetch(url, { method: 'POST', body: bytes, headers });
  return { json: (await first.json()) as Record<string, unknown>, headers: first.headers, send };
}

/** The HELM verdict of a JSON-RPC error answer (null: no error). */
export const helmError = (j: Record<string, unknown>) => (j.error as { message: string; data: { helm: { reasonCode: string; decision: string | null } } } | undefined) ?? null;
