// helmctl conformance init: everything a sidecar under test and the runner share. Keys (helmctl
// keygen), a root-signed node key publication (helmctl trust publish), the conformance bundle
// signed by a trusted signer, a trust policy, and sidecar.yaml: the one configuration the sidecar
// must be started with (`helmctl serve --config DIR/sidecar.yaml`).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { keygen } from '../cli/commands/keygen.js';
import { trust } from '../cli/commands/trust.js';
import { loadSigningKey } from '../cli/key-files.js';
import { nodeSuite } from '../kernel/crypto/node.js';
import { bundleContentHash, signBundle } from '../kernel/guardian/index.js';
import { conformanceBundle, SANDBOX_MODULE } from './bundle.js';
import { kitPaths, type KitPaths } from './kit-paths.js';
import { SPIN_MODULE, SPIN_WASM } from './spin-module.js';
import { PRINCIPAL_ID, PRINCIPAL_ROLE, UPSTREAM } from './tools.js';

export const KIT_FORMAT = 'helm-conformance-kit/v1';
export const WRITER_ID = 'conformance-1';
export const ORIGIN = `helm-conformance/${WRITER_ID}`;

/** A built file: from dist/conformance/ or, when running from the sources, the one in dist/. */
function built(rel: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return [resolve(here, '..', rel), resolve(here, '../dist', rel)].find((f) => existsSync(f)) ?? resolve(here, '..', rel);
}
export const helmctlPath = built('cli/helmctl.js');
/** The conformance MCP upstream the sidecar spawns (stdio). */
export const upstreamPath = built('conformance/upstream-main.js');
/** A file of the package (from dist/conformance/ or conformance/). */
function packaged(rel: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return [resolve(here, '..', rel), resolve(here, '../..', rel)].find((f) => existsSync(f)) ?? resolve(here, '..', rel);
}
/** The sandboxed tools' module, copied into the kit beside its bundle (the default module directory). */
export const sandboxModulePath = packaged('examples/sandbox/csv2json.wasm');

export interface KitManifest {
  format: typeof KIT_FORMAT;
  origin: string;
  writerId: string;
  /** Governed listener, admin listener and the runner's scripted model, host:port. */
  listen: string;
  adminListen: string;
  modelListen: string;
  bundleDigest: string;
}

export interface InitOptions {
  listen?: string;
  adminListen?: string;
  modelListen?: string;
}

async function cli(cmd: typeof keygen, args: string[]): Promise<void> {
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } };
  const code = await cmd.run(args, io);
  if (code !== 0) throw new Error(`helmctl ${cmd.name} ${args.join(' ')} failed (${code}): ${out}`);
}

const pub = async (file: string) => (await readFile(`${file}.pub`, 'utf8')).trim();

/** Writes a signed bundle (and its signature) to the kit's bundle files, as a swap would. */
export async function writeSignedBundle(p: KitPaths, doc: unknown, signerKeyFile: string): Promise<string> {
  const signer = await loadSigningKey(signerKeyFile, 'bundle signer key');
  const sig = signBundle(doc, signer, nodeSuite);
  await writeFile(`${p.bundle}.tmp`, JSON.stringify(doc, null, 2));
  await writeFile(`${p.bundleSignature}.tmp`, JSON.stringify(sig, null, 2));
  await rename(`${p.bundle}.tmp`, p.bundle);
  await rename(`${p.bundleSignature}.tmp`, p.bundleSignature);
  return bundleContentHash(doc, nodeSuite);
}

export async function initKit(dir: string, o: InitOptions = {}): Promise<KitManifest> {
  const p = kitPaths(resolve(dir));
  await mkdir(dirname(p.nodeKey), { recursive: true });
  await mkdir(dirname(p.bundle), { recursive: true });
  const gen = (type: string, name: string, file: string) => cli(keygen, ['--type', type, '--name', name, '--out', file]);
  await gen('root', 'helm-conformance/root', p.rootKey);
  await gen('log', ORIGIN, p.logKey);
  await gen('node', 'helm-conformance/node', p.nodeKey);
  await gen('exporter', 'helm-conformance/exporter', p.exporterKey);
  await gen('root', 'helm-conformance/bundle-signer', p.signerKey);
  await gen('root', 'helm-conformance/untrusted-signer', p.untrustedSignerKey);
  await gen('root', 'helm-conformance/revoked-signer', p.revokedSignerKey);
  await gen('node', 'helm-conformance/approver', p.approverKey);
  await cli(trust, ['publish', '--root-key', p.rootKey, '--key', p.nodeKey, '--origin', ORIGIN, '--from-index', '0', '--out', p.publishNode]);
  await writeFile(p.trustPolicy, [`log ${await pub(p.logKey)}`, 'quorum none', `root ${await pub(p.rootKey)}`, `exporter ${await pub(p.exporterKey)}`, ''].join('\n'));
  // The revoked signer is a trust root too: its bundles are refused for the revocation alone.
  await writeFile(p.bundleRoots, `${await pub(p.signerKey)}\n${await pub(p.revokedSignerKey)}\n`);
  const module = await readFile(sandboxModulePath);
  await writeFile(join(dirname(p.bundle), SANDBOX_MODULE), module);
  const moduleSha256 = `sha256:${createHash('sha256').update(module).digest('hex')}`;
  await writeFile(join(dirname(p.bundle), SPIN_MODULE), SPIN_WASM);
  const spinSha256 = `sha256:${createHash('sha256').update(SPIN_WASM).digest('hex')}`;
  const bundleDigest = await writeSignedBundle(p, conformanceBundle(await pub(p.approverKey), moduleSha256, spinSha256), p.signerKey);
  await writeFile(p.executions, '');
  await writeFile(p.upstreamState, JSON.stringify({ poisoned: false }));

  const listen = o.listen ?? '127.0.0.1:8080';
  const adminListen = o.adminListen ?? '127.0.0.1:9090';
  const modelListen = o.modelListen ?? '127.0.0.1:18090';
  const revokedHandle = (await pub(p.revokedSignerKey)).split('+').slice(0, 2).join('+');
  const config = {
    listen,
    adminListen,
    bundle: p.bundle,
    bundleSignature: p.bundleSignature,
    bundleTrustRoots: [p.bundleRoots],
    bundleRevoked: [revokedHandle],
    bundlePollIntervalMs: 200,
    proofgraphDir: p.store,
    writerId: WRITER_ID,
    nodeKey: p.nodeKey,
    logKey: p.logKey,
    trustEvents: [p.publishNode],
    // A checkpoint after every node: an export taken while the sidecar runs covers every answer.
    checkpointEvery: 1,
    upstreamUrl: `http://${modelListen}/v1`,
    upstreamTimeoutMs: 10_000,
    principalId: PRINCIPAL_ID,
    principalRoles: [PRINCIPAL_ROLE],
    mcpUpstreams: [{ name: UPSTREAM, transport: 'stdio', command: process.execPath, args: [upstreamPath, p.dir], protocol: 'legacy' }],
  };
  await writeFile(p.sidecarConfig, `# helmctl serve --config ${p.sidecarConfig} (docs/conformance.md)\n${stringify(config)}`);
  const manifest: KitManifest = { format: KIT_FORMAT, origin: ORIGIN, writerId: WRITER_ID, listen, adminListen, modelListen, bundleDigest };
  await writeFile(p.manifest, JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

export async function readKit(dir: string): Promise<{ manifest: KitManifest; paths: KitPaths }> {
  const paths = kitPaths(resolve(dir));
  let manifest: KitManifest;
  try {
    manifest = JSON.parse(await readFile(paths.manifest, 'utf8')) as KitManifest;
  } catch (e) {
    throw Object.assign(new Error(`cannot read the conformance kit ${paths.manifest}: ${(e as Error).message}; create it with helmctl conformance init --dir ${dir}`), { code: 'ERR_CONFORMANCE_KIT' });
  }
  if (manifest.format !== KIT_FORMAT) throw Object.assign(new Error(`${paths.manifest} is not a ${KIT_FORMAT} kit`), { code: 'ERR_CONFORMANCE_KIT' });
  return { manifest, paths };
}
