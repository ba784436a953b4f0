// `npm run demo`: one governed agent session, end to end, with the real pieces: keys, a
// root-signed key publication, a signed policy bundle, the real Guardian sidecar (`helmctl serve`,
// run in-process) in front of a scripted OpenAI-compatible model, an unmodified `openai` SDK
// client as the agent (streaming included), an escalated call approved through the approvals API
// with an Ed25519 signature, then a deterministic evidence pack, offline verification and a
// tamper check. Everything lands in ./demo-out so the printed verify command can be re-run.
import { EventEmitter } from 'node:events';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { stringify as toYaml } from 'yaml';
import { main as helmctl } from '../cli/helmctl.js';
import { nodeSigner, nodeSuite } from '../kernel/crypto/node.js';
import { signingKeyFromText } from '../kernel/crypto/signing-key.js';
import { decodeNode } from '../kernel/contracts/node.js';
import { parseBundleText, signBundle, type PolicyBundleDoc } from '../kernel/guardian/index.js';
import { signApproval } from '../kernel/pep/index.js';
import { readLog } from '../kernel/proofgraph/store/index.js';
import { writeTar, readTar } from '../kernel/evidence/tar.js';
import { gzipDeterministic, gunzipNode } from '../kernel/evidence/gzip-node.js';
import { DEFAULT_LIMITS } from '../kernel/evidence/limits.js';
import type { GuardianSidecar } from '../sidecar/guardian-sidecar.js';
import { runSidecar } from '../sidecar/serve.js';
import { startScriptedModel, type ScriptedTurn } from '../sidecar/scripted-model/server.js';
import { addMcpDemoPolicy, everythingServerPath } from '../sidecar/mcp/demo-part.js';
import { addSandboxDemoPolicy, sandboxDemoCalls } from '../sidecar/sandbox/demo-part.js';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const repo = resolve(process.env.HELM_DEMO_REPO ?? process.cwd());
const out = resolve(process.env.HELM_DEMO_OUT ?? join(repo, 'demo-out'));
const rel = (p: string) => relative(process.cwd(), p) || '.';
const ORIGIN = 'helm.demo/agents/support-1';
const WRITER = 'support-1';
const MODEL = 'scripted-support-model';

/** Runs a helmctl command in-process, echoing it like a shell transcript. */
async function run(args: string[], quiet = false): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  let stderr = '';
  const code = await helmctl(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  console.log(`  $ helmctl ${args.join(' ')}`);
  if (!quiet || code !== 0) for (const line of (stdout + stderr).trimEnd().split('\n')) console.log(`    ${line}`);
  return { code, stdout };
}

const toolCall = (id: string, name: string, args: unknown) => ({ id, name, arguments: JSON.stringify(args) });

/**
 * The model's side of the session, turn by turn: it proposes an allowed lookup, an update with
 * an argument the schema does not declare and a refund that needs a manager; then (streamed) a
 * restart the support role may not do and a fetch from a host off the allowlist; then it retries
 * the refund once approved, and finally answers in prose.
 */
function script(_request: unknown, turn: number): ScriptedTurn {
  switch (turn) {
    case 0:
      return {
        content: 'Let me look at the customer and the ticket.',
        toolCalls: [
          toolCall('call_1', 'crm.lookup_customer', { customerId: 'cus_8842ab12' }),
          toolCall('call_2', 'tickets.update', { ticketId: 311, status: 'pending', assignee: 'root' }),
          toolCall('call_3', 'billing.refund', { paymentId: 'pay_77', amountCents: 25000 }),
        ],
      };
    case 1:
      return {
        content: 'Checking the service and the refund policy page.',
        toolCalls: [toolCall('call_4', 'ops.restart_service', { service: 'payments' }), toolCall('call_5', 'kb.fetch_article', { url: 'https://evil.example.net/steal' })],
      };
    case 2:
      return { toolCalls: [toolCall('call_6', 'billing.refund', { paymentId: 'pay_77', amountCents: 25000 })] };
    default:
      return { content: 'The refund of 250.00 is issued and the customer is informed.' };
  }
}

/** What the agent's executor returns for a tool it ran (a stand-in for the real CRM and payments APIs). */
const TOOL_OUTPUT: Record<string, unknown> = {
  'crm.lookup_customer': { id: 'cus_8842ab12', name: 'Ada', tier: 'pro' },
  'billing.refund': { refundId: 're_1', status: 'succeeded' },
};

async function main(): Promise<void> {
  await rm(out, { recursive: true, force: true });
  await mkdir(join(out, 'keys'), { recursive: true });
  console.log(`HELM OSS demo: a governed agent session through the Guardian sidecar, and its evidence (output in ${rel(out)}/)\n`);

  console.log('1. Keys (C2SP signed-note format; the .pub files hold the verifier keys)');
  const keyFile = (n: string) => rel(join(out, 'keys', `${n}.key`));
  await run(['keygen', '--type', 'root', '--name', 'helm-demo/root', '--out', keyFile('root')], true);
  await run(['keygen', '--type', 'log', '--name', ORIGIN, '--out', keyFile('log')], true);
  await run(['keygen', '--type', 'node', '--name', 'helm-demo/support-1/node', '--out', keyFile('node')], true);
  await run(['keygen', '--type', 'exporter', '--name', 'helm-demo/exporter', '--out', keyFile('exporter')], true);
  await run(['keygen', '--type', 'root', '--name', 'helm-demo/bundle-signer', '--out', keyFile('bundle-signer')], true);
  await run(['keygen', '--type', 'node', '--name', 'helm-demo/approver-alice', '--out', keyFile('approver-alice')], true);
  const vkey = async (n: string) => (await readFile(`${keyFile(n)}.pub`, 'utf8')).trim();
  const signer = async (n: string) => signingKeyFromText((await readFile(keyFile(n), 'utf8')).trim(), nodeSigner);

  console.log('\n2. Trust: the root key authorises the node key for this log');
  const publishFile = rel(join(out, 'trust', 'publish-node.json'));
  await mkdir(join(out, 'trust'), { recursive: true });
  await run(['trust', 'publish', '--root-key', keyFile('root'), '--key', keyFile('node'), '--origin', ORIGIN, '--from-index', '0', '--out', publishFile], true);
  const policyFile = rel(join(out, 'trust-policy.txt'));
  await writeFile(
    policyFile,
    ['# Trust policy for the demo pack: trust comes from here, never from the pack.', `log ${await vkey('log')}`, 'quorum none', `root ${await vkey('root')}`, `exporter ${await vkey('exporter')}`, ''].join('\n'),
  );

  console.log('\n3. Policy: the example bundle, with the demo approver as the manager, signed by the bundle signer');
  // The example bundle plus the tools of a real MCP server (server-everything) for the MCP part.
  await mkdir(join(out, 'policy'), { recursive: true });
  // ...and the sandboxed csv2json tool of examples/sandbox (its module is copied beside the bundle).
  const doc = await addSandboxDemoPolicy(addMcpDemoPolicy(parseBundleText(await readFile(join(repo, 'examples/bundles/support-desk.yaml'), 'utf8')) as PolicyBundleDoc, ['support']), ['support'], repo, join(out, 'policy'));
  doc.metadata.version = `${doc.metadata.version ?? '0'}-demo`;
  doc.approvals!.manager = { ...doc.approvals!.manager!, approvers: [await vkey('approver-alice')], quorum: 1, timelockSeconds: 0, holdSeconds: 0 };
  const sig = signBundle(doc, await signer('bundle-signer'), nodeSuite);
  await mkdir(join(out, 'policy'), { recursive: true });
  const bundleFile = rel(join(out, 'policy', 'support-desk.yaml'));
  const sigFile = rel(join(out, 'policy', 'support-desk.signature.json'));
  await writeFile(bundleFile, toYaml(doc));
  await writeFile(sigFile, `${JSON.stringify(sig, null, 2)}\n`);
  await writeFile(join(out, 'keys', 'upstream-api-key'), 'sk-demo-held-by-the-sidecar-only\n', { mode: 0o600 });
  console.log(`  ${bundleFile}  ${sig.contentHash}  signed by ${sig.signerKeyId}`);

  console.log('\n4. The Guardian sidecar in front of a scripted OpenAI-compatible model');
  const model = await startScriptedModel({ script, model: MODEL });
  const argv = [
    '--listen', '127.0.0.1:0',
    '--admin-listen', '127.0.0.1:0',
    '--proofgraph-dir', rel(join(out, 'proofgraph')),
    '--writer-id', WRITER,
    '--node-key', keyFile('node'),
    '--log-key', keyFile('log'),
    '--trust-event', publishFile,
    '--bundle', bundleFile,
    '--bundle-signature', sigFile,
    '--bundle-trust-root', `${keyFile('bundle-signer')}.pub`,
    '--upstream-url', model.url,
    '--upstream-api-key-file', rel(join(out, 'keys', 'upstream-api-key')),
    '--principal-id', 'agent:support-1',
    '--principal-role', 'support',
    '--tool-route', 'crm.lookup_customer=connector:crm-api',
    '--tool-route', 'tickets.update=connector:helpdesk-mcp',
    '--tool-route', 'billing.refund=connector:payments-api',
    '--tool-route', 'kb.fetch_article=sandbox:egress-only',
  ];
  const everything = everythingServerPath();
  if (everything === null) throw new Error('@modelcontextprotocol/server-everything is missing: run npm install');
  const mcpUpstreams = [{ name: 'everything', transport: 'stdio', command: process.execPath, args: [everything, 'stdio'], protocol: 'legacy' }];
  argv.push('--mcp-upstreams', JSON.stringify(mcpUpstreams));
  console.log(`  $ helmctl serve ${argv.map((a) => (a.startsWith('[') ? `'${a.replace(everything, '<server-everything>')}'` : a)).join(' ')}`);
  const signals = new EventEmitter();
  const logFile = join(out, 'sidecar.log.jsonl');
  let logText = '';
  let started: GuardianSidecar | null = null;
  const served = runSidecar(argv, { stdout: process.stdout, stderr: { write: (s: string) => (logText += s) } }, { env: { HELM_LOG_LEVEL: 'info' }, signals, onStarted: (s) => (started = s) });
  const sidecar = await Promise.race([
    served.then(() => {
      throw new Error(`the sidecar stopped during start:\n${logText}`);
    }),
    new Promise<GuardianSidecar>((res) => {
      const t = setInterval(() => {
        if (started) {
          clearInterval(t);
          res(started);
        }
      }, 5);
    }),
  ]);
  const ready = await (await fetch(`${sidecar.adminUrl}/readyz`)).json();
  console.log(`  governed ${sidecar.governedUrl}/v1   admin ${sidecar.adminUrl}   /readyz: ${JSON.stringify({ ready: (ready as { ready: boolean }).ready })}`);
  console.log(`  (JSON log lines of the sidecar: ${rel(logFile)})`);

  console.log('\n5. The agent: an unmodified OpenAI SDK client; only its base URL points at the sidecar');
  const client = new OpenAI({ baseURL: `${sidecar.governedUrl}/v1`, apiKey: 'the-agent-has-no-provider-key', maxRetries: 0 });
  const delivered = new Set<string>();
  const messages: ChatCompletionMessageParam[] = [{ role: 'system', content: 'You are a support agent.' }, { role: 'user', content: 'Customer cus_8842ab12 asks for a refund of 250.00 on pay_77 (ticket 311).' }];
  const execute = (msg: OpenAI.Chat.Completions.ChatCompletionMessage) => {
    messages.push(msg as ChatCompletionMessageParam);
    for (const t of msg.tool_calls ?? []) {
      if (t.type !== 'function') continue;
      delivered.add(t.id);
      messages.push({ role: 'tool', tool_call_id: t.id, content: JSON.stringify(TOOL_OUTPUT[t.function.name] ?? { ok: true }) });
    }
  };
  const say = (what: string, msg: OpenAI.Chat.Completions.ChatCompletionMessage) => {
    const calls = (msg.tool_calls ?? []).map((t) => (t.type === 'function' ? `${t.id} ${t.function.name}` : t.id));
    console.log(`  ${what}: tool calls delivered [${calls.join(', ')}]`);
    for (const line of (msg.content ?? '').split('\n').filter((l) => l.startsWith('[HELM]'))) console.log(`    ${line.length > 160 ? `${line.slice(0, 157)}...` : line}`);
  };

  const first = await client.chat.completions.create({ model: MODEL, messages });
  say('turn 1 (whole response)', first.choices[0]!.message);
  execute(first.choices[0]!.message);
  const stream = client.chat.completions.stream({ model: MODEL, messages, stream: true });
  const second = await stream.finalChatCompletion();
  say('turn 2 (streamed, finalChatCompletion)', second.choices[0]!.message);
  execute(second.choices[0]!.message);

  console.log('\n6. Approval: the manager reads the pending escalation and signs it (Ed25519; the signature is the authentication)');
  const pending = ((await (await fetch(`${sidecar.adminUrl}/v1/approvals`)).json()) as { pending: Array<{ callId: string; tool: string; decision: `sha256:${string}`; policyDigest: `sha256:${string}`; nonce: string }> }).pending;
  for (const p of pending) console.log(`  GET /v1/approvals: ${p.callId} ${p.tool} nonce ${p.nonce} decision ${p.decision}`);
  const approval = signApproval(pending[0]!, await signer('approver-alice'));
  const posted = await fetch(`${sidecar.adminUrl}/v1/approvals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(approval) });
  console.log(`  POST /v1/approvals signed by ${approval.approver}: ${posted.status} ${JSON.stringify(await posted.json())}`);

  const third = await client.chat.completions.create({ model: MODEL, messages });
  say('turn 3 (the model retries the refund)', third.choices[0]!.message);
  execute(third.choices[0]!.message);
  const last = await client.chat.completions.create({ model: MODEL, messages });
  console.log(`  turn 4: ${last.choices[0]!.message.content}`);
  const auth = new Set(model.requests.map((r) => r.headers.authorization));
  console.log(`  the model provider saw only the sidecar's key: ${JSON.stringify([...auth])}`);

  console.log('\n6b. The same sidecar governs MCP: a real MCP server (server-everything) behind the gateway at /mcp');
  const mcp = new McpClient({ name: 'helm-demo-agent', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${sidecar.governedUrl}/mcp`)));
  console.log(`  tools/list (only what the bundle grants): ${(await mcp.listTools()).tools.map((t) => t.name).join(', ')}`);
  for (const message of ['hello from the governed MCP gateway', 'my password is hunter2']) {
    try {
      const r = await mcp.callTool({ name: 'everything__echo', arguments: { message } });
      console.log(`  tools/call everything__echo ${JSON.stringify(message)}: ${JSON.stringify(r.content).slice(0, 80)}`);
    } catch (e) {
      console.log(`  tools/call everything__echo ${JSON.stringify(message)}: refused: ${(e as Error).message.slice(0, 120)}`);
    }
  }
  console.log('\n6c. A sandboxed tool: csv2json is a WebAssembly module the sidecar runs itself (built-in sandbox upstream, no filesystem, network, clock or randomness)');
  await sandboxDemoCalls(mcp, (line) => console.log(`  ${line}`));
  await mcp.close();

  signals.emit('SIGTERM');
  await served;
  await model.close();
  await writeFile(logFile, logText);
  console.log('  sidecar stopped: in-flight calls drained, shutdown heartbeat, final checkpoint');

  console.log('\n7. What the ProofGraph recorded (one signed decision per proposed tool call)');
  const nodes = (await readLog(join(out, 'proofgraph', WRITER))).entries.map((e) => decodeNode(nodeSuite, e));
  const surfaceOf = new Map(nodes.filter((n) => n.kind === 'intent').map((n) => [(n.statement.predicate.body as { callId: string }).callId, (n.statement.predicate.body as { surface: string }).surface]));
  const rows: string[][] = [['call', 'tool', 'verdict', 'reason', 'receipt', 'the agent got']];
  for (const n of nodes) {
    if (n.kind !== 'decision') continue;
    const b = n.statement.predicate.body as { callId: string; tool: string; verdict: string; reasonCode: string };
    const viaMcp = surfaceOf.get(b.callId) === 'mcp';
    const got = viaMcp
      ? b.verdict === 'ALLOW' ? 'the tool result (MCP)' : 'an MCP error with the reason'
      : delivered.has(b.callId) ? 'the tool call' : b.verdict === 'ESCALATE' ? 'an approval id instead' : 'an explanation instead';
    rows.push([b.callId, b.tool, b.verdict, b.reasonCode, `#${n.statement.predicate.index}`, got]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(`  ${r.map((x, i) => x.padEnd(widths[i]!)).join('  ')}`.trimEnd());
  const kinds = new Map<string, number>();
  for (const n of nodes) kinds.set(n.kind, (kinds.get(n.kind) ?? 0) + 1);
  console.log(`  ${nodes.length} nodes: ${[...kinds].map(([k, c]) => `${k} ${c}`).join(', ')}`);

  console.log('\n8. Export a deterministic evidence pack');
  const pack = rel(join(out, 'pack.tar.gz'));
  await run(['export', '--store', rel(join(out, 'proofgraph')), '--out', pack, '--key', keyFile('exporter')]);

  console.log('\n9. Verify it offline, trusting only the trust policy');
  const ok = await run(['verify', pack, '--trust-policy', policyFile]);
  if (ok.code !== 0) throw new Error('the demo pack did not verify');

  console.log('\n10. Tamper check: change one decision from DENY to ALLOW in a copy, re-pack, verify again');
  const tampered = rel(join(out, 'tampered.tar.gz'));
  await writeFile(tampered, await tamperOneVerdict(await readFile(pack)));
  const bad = await run(['verify', tampered, '--trust-policy', policyFile]);
  if (bad.code !== 1) throw new Error('the tampered pack was not rejected');

  console.log('\nCheck the evidence yourself (after npm install, which builds dist/):');
  console.log(`  node dist/cli/helmctl.js verify ${pack} --trust-policy ${policyFile}`);
}

/** Flips the first DENY verdict in the pack's entries to ALLOW, keeping the JSON well formed. */
async function tamperOneVerdict(gz: Uint8Array): Promise<Uint8Array> {
  const files = readTar(await gunzipNode(gz, DEFAULT_LIMITS.maxTotalBytes), { limits: DEFAULT_LIMITS, accept: () => true });
  const edited = files.map((f) => {
    if (!f.path.endsWith('entries.jsonl')) return f;
    const lines = new TextDecoder().decode(f.data).split('\n');
    const i = lines.findIndex((l) => l.length > 0 && Buffer.from(JSON.parse(l).payload, 'base64').toString().includes('"verdict":"DENY"'));
    const env = JSON.parse(lines[i]!);
    env.payload = Buffer.from(Buffer.from(env.payload, 'base64').toString().replace('"verdict":"DENY"', '"verdict":"ALLOW"')).toString('base64');
    lines[i] = JSON.stringify(env);
    return { ...f, data: new TextEncoder().encode(lines.join('\n')) };
  });
  return gzipDeterministic(writeTar(edited));
}

main().catch((e) => {
  console.error(`demo failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
