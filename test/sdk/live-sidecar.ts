// A live `helmctl serve` (the built dist/cli/helmctl.js, as a child process) for SDK tests in any
// language. The jest test that owns it starts it, runs the language's own test runner with the
// environment below, and stops it. Needs `npm run build` first.
//
// ENV CONTRACT (what a native SDK test reads; every value is set, MCP_URL may be empty):
//   HELM_SDK_BASE_URL        OpenAI base URL of the governed proxy, ending in /v1
//   HELM_SDK_ADMIN_URL       admin listener (GET/POST /v1/approvals), no trailing slash, no auth
//   HELM_SDK_MCP_URL         MCP gateway URL (Streamable HTTP), "" unless started with { mcp: true }:
//                            then tool everything__echo (server-everything over stdio) is allowed,
//                            and denied (rule echo-no-secrets) when its message contains "password"
//   HELM_SDK_TRUST_POLICY    trust policy file (docs/spec/trust-policy.md) of this sidecar's log
//   HELM_SDK_APPROVER_KEY    Ed25519 private key file (PRIVATE+KEY+... line) of an approver the
//                            bundle lists (quorum 1, no timelock, no hold)
//   HELM_SDK_APPROVER_HANDLE that approver's key handle (name+keyid)
//   HELM_SDK_MODEL           model name to send ("scripted-model"; any name works)
//   HELM_SDK_PROMPT_ALLOWED  user message that makes the model propose one call that is ALLOWed
//   HELM_SDK_PROMPT_DENIED   ... one call that is DENYed (a tool the bundle does not grant)
//   HELM_SDK_PROMPT_ESCALATED ... one call that ESCALATEs to an approval ceremony; send it again
//                            after approving and the retry (a new tool-call id) is ALLOWed
//   HELM_SDK_TOOL_ALLOWED / _DENIED / _ESCALATED  the tool names those calls use
//   HELM_SDK_EXPORT_URL      POST (empty body) after your calls: the harness waits until a signed
//                            checkpoint covers every entry, then (re)writes HELM_SDK_PACK_DIR and
//                            answers 200 {"receipts": n}. Test plumbing, not a sidecar endpoint.
//   HELM_SDK_PACK_DIR        written by an export:
//                              receipts/<64 hex>.json        the entry (JCS DSSE envelope) whose
//                                                            entry hash is sha256:<64 hex>
//                              receipts/<64 hex>.tlog-proof  c2sp.org/tlog-proof@v1 for it
//                              trust-events.jsonl            the root-signed key events recorded
//                                                            as trust nodes, one envelope a line
//                              pack.tar.gz                   `helmctl export` of the whole store
// Every call's X-Helm-Receipt-Id / helm.decisions[].receiptId is such an entry hash.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { decodeNode } from '../../kernel/contracts/node.js';
import { CachedMerkleTree } from '../../kernel/evidence/cached-tree.js';
import { parseNote } from '../../kernel/crypto/note.js';
import { parseCheckpointText } from '../../kernel/proofgraph/checkpoint.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { formatTlogProof } from '../../kernel/proofgraph/tlog-proof.js';
import { approvers } from '../pep/support.js';
import type { PolicyBundleDoc } from '../../kernel/guardian/index.js';
import { call, Pod, ROUTES, sidecarBundle } from '../sidecar/support.js';
import { repoRoot } from '../support/shared.js';

export const HELMCTL = join(repoRoot, 'dist', 'cli', 'helmctl.js');
const EVERYTHING = join(repoRoot, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
export const MCP_TOOL = 'everything__echo';

/** The MCP part of the bundle: echo is allowed unless its message mentions a password. */
function withEcho(d: PolicyBundleDoc): void {
  d.domains.demo = { description: 'server-everything tools' };
  d.grants[0]!.domains.push('demo');
  d.tools[MCP_TOOL] = { domain: 'demo', sideEffect: 'read', args: { type: 'object', properties: { message: { type: 'string', maxLength: 2000 } }, required: ['message'] } };
  d.rules.push({ id: 'allow-echo', match: { tools: [MCP_TOOL] }, verdict: 'ALLOW' }, { id: 'echo-no-secrets', match: { tools: [MCP_TOOL] }, when: "args.message.contains('password')", verdict: 'DENY' });
}

/** The three scripted calls: prompt → [tool, arguments]. */
export const SCRIPT = {
  allowed: { prompt: 'sdk: allowed call', tool: 'crm.lookup_customer', args: { customerId: 'cus_12345678' } },
  denied: { prompt: 'sdk: denied call', tool: 'shell.exec', args: { command: 'cat /etc/shadow' } },
  escalated: { prompt: 'sdk: escalated call', tool: 'billing.refund', args: { paymentId: 'pay_1', amountCents: 25000 } },
} as const;

export interface LiveSidecar {
  baseUrl: string;
  adminUrl: string;
  /** null: no MCP upstream is configured. */
  mcpUrl: string | null;
  trustPolicy: string;
  approverKey: string;
  approverHandle: string;
  packDir: string;
  exportUrl: string;
  /** Waits for a checkpoint covering every entry, then writes packDir (layout above). */
  exportPack(): Promise<number>;
  /** The environment of the contract above, to pass to a native test runner. */
  env(): Record<string, string>;
  /** Everything the sidecar logged (JSON lines), for failure messages. */
  stderr(): string;
  stop(): Promise<void>;
}

function userText(request: unknown): string {
  const messages = (request as { messages?: Array<{ role?: string; content?: unknown }> }).messages ?? [];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  return typeof last?.content === 'string' ? last.content : '';
}

/** A live sidecar for the enclosing describe(): started before its tests, stopped after them. */
export function useLiveSidecar(o: { mcp?: boolean } = {}): () => LiveSidecar {
  let live: LiveSidecar | undefined;
  beforeAll(async () => {
    live = await startLiveSidecar(o);
  }, 120_000);
  afterAll(async () => {
    await live?.stop();
  });
  return () => {
    if (!live) throw new Error('the live sidecar did not start (see beforeAll)');
    return live;
  };
}

export async function startLiveSidecar(o: { mcp?: boolean } = {}): Promise<LiveSidecar> {
  const pod = await Pod.create();
  if (o.mcp) await pod.writeBundle(sidecarBundle(withEcho));
  let n = 0;
  pod.script((request) => {
    const want = Object.values(SCRIPT).find((s) => s.prompt === userText(request));
    return want ? { toolCalls: [call(`call_sdk_${++n}`, want.tool, want.args)] } : { content: 'hello from the scripted model' };
  });
  const approverKey = pod.path('keys/approver-alice.key');
  await writeFile(approverKey, `${approvers.alice.privateText}\n`, { mode: 0o600 });
  const packDir = pod.path('pack');

  const flags = [...pod.flags(), '--checkpoint-every', '1', '--bundle-poll-interval-ms', '3600000'];
  if (o.mcp) flags.push('--mcp-upstreams', JSON.stringify([{ name: 'everything', transport: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'], protocol: 'legacy' }]));
  const child: ChildProcess = spawn(process.execPath, [HELMCTL, 'serve', ...flags], {
    env: { PATH: process.env.PATH ?? '', HELM_TOOL_ROUTES: ROUTES },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const deadline = Date.now() + 30_000;
  while (!err.includes('ready to serve')) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      await pod.cleanup();
      throw new Error(`helmctl serve did not start (run npm run build first):\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const ready = JSON.parse(err.split('\n').find((l) => l.includes('ready to serve'))!) as { governed: string; admin: string };

  const exportPack = async (): Promise<number> => {
    const logDir = pod.logDir;
    const t0 = Date.now();
    let log = await readLog(logDir);
    const covered = () => Math.max(0, ...log.checkpoints.map((c) => parseCheckpointText(parseNote(c).text).size));
    while (covered() < log.entries.length) {
      if (Date.now() - t0 > 10_000) throw new Error(`no checkpoint covers all ${log.entries.length} entries`);
      await new Promise((r) => setTimeout(r, 25));
      log = await readLog(logDir);
    }
    const size = covered();
    const note = log.checkpoints.find((c) => parseCheckpointText(parseNote(c).text).size === size)!;
    const tree = new CachedMerkleTree(nodeSuite);
    for (let i = 0; i < size; i++) tree.appendEntry(log.entries[i]!);
    await rm(packDir, { recursive: true, force: true });
    await mkdir(join(packDir, 'receipts'), { recursive: true });
    const events: string[] = [];
    for (let i = 0; i < size; i++) {
      const node = decodeNode(nodeSuite, log.entries[i]!);
      const hex = node.entryHash.slice('sha256:'.length);
      await writeFile(join(packDir, 'receipts', `${hex}.json`), log.entries[i]!);
      await writeFile(join(packDir, 'receipts', `${hex}.tlog-proof`), formatTlogProof({ index: i, proof: tree.inclusionProof(i, size), checkpoint: note }));
      if (node.kind === 'trust') events.push(JSON.stringify((node.statement.predicate.body as { event: unknown }).event));
    }
    await writeFile(join(packDir, 'trust-events.jsonl'), events.map((e) => `${e}\n`).join(''));
    await runHelmctl(['export', '--store', pod.path('proofgraph'), '--out', join(packDir, 'pack.tar.gz'), '--key', pod.path('keys/exporter.key')]);
    return size;
  };

  const control: Server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/export') {
      res.writeHead(404).end();
      return;
    }
    req.resume();
    exportPack().then(
      (receipts) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ receipts, dir: packDir })),
      (e: Error) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: e.message })),
    );
  });
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
  const exportUrl = `http://127.0.0.1:${(control.address() as { port: number }).port}/export`;

  const live: LiveSidecar = {
    baseUrl: `${ready.governed}/v1`,
    adminUrl: ready.admin,
    mcpUrl: o.mcp ? `${ready.governed}/mcp` : null,
    trustPolicy: pod.path('trust-policy.txt'),
    approverKey,
    approverHandle: approvers.alice.verifier.handle,
    packDir,
    exportUrl,
    exportPack,
    env: () => ({
      HELM_SDK_BASE_URL: live.baseUrl,
      HELM_SDK_ADMIN_URL: live.adminUrl,
      HELM_SDK_MCP_URL: live.mcpUrl ?? '',
      HELM_SDK_TRUST_POLICY: live.trustPolicy,
      HELM_SDK_APPROVER_KEY: live.approverKey,
      HELM_SDK_APPROVER_HANDLE: live.approverHandle,
      HELM_SDK_MODEL: 'scripted-model',
      HELM_SDK_PROMPT_ALLOWED: SCRIPT.allowed.prompt,
      HELM_SDK_PROMPT_DENIED: SCRIPT.denied.prompt,
      HELM_SDK_PROMPT_ESCALATED: SCRIPT.escalated.prompt,
      HELM_SDK_TOOL_ALLOWED: SCRIPT.allowed.tool,
      HELM_SDK_TOOL_DENIED: SCRIPT.denied.tool,
      HELM_SDK_TOOL_ESCALATED: SCRIPT.escalated.tool,
      HELM_SDK_EXPORT_URL: live.exportUrl,
      HELM_SDK_PACK_DIR: live.packDir,
    }),
    stderr: () => err,
    stop: async () => {
      await new Promise<void>((r) => control.close(() => r()));
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      await pod.cleanup();
    },
  };
  return live;
}

/** Runs the built helmctl; rejects with its output on a non-zero exit. */
export function runHelmctl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [HELMCTL, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`helmctl ${args[0]} exited ${code}:\n${out}`))));
  });
}
