// `npm run demo`: one governed agent session, end to end, with the real kernel: keys, a
// root-signed key publication, decisions by the Guardian against a signed policy bundle, receipts
// in a durable ProofGraph, a deterministic evidence pack, offline verification, and a tamper check.
// Everything lands in ./demo-out so the printed verify command can be re-run by hand.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { main as helmctl } from '../cli/helmctl.js';
import { toHex } from '../kernel/crypto/bytes.js';
import { jcs } from '../kernel/crypto/jcs.js';
import { parseVerifierKey } from '../kernel/crypto/keys.js';
import { nodeSigner, nodeSuite } from '../kernel/crypto/node.js';
import { signingKeyFromText } from '../kernel/crypto/signing-key.js';
import type { HashRef } from '../kernel/contracts/node.js';
import { ProofGraphWriter } from '../kernel/proofgraph/graph-writer.js';
import { decisionBody, evaluate, loadPolicy, parseBundleText, requiredCounters, type GuardianPolicy } from '../kernel/guardian/index.js';
import { writeTar, readTar } from '../kernel/evidence/tar.js';
import { gzipDeterministic, gunzipNode } from '../kernel/evidence/gzip-node.js';
import { DEFAULT_LIMITS } from '../kernel/evidence/limits.js';

const repo = resolve(process.env.HELM_DEMO_REPO ?? process.cwd());
const out = resolve(process.env.HELM_DEMO_OUT ?? join(repo, 'demo-out'));
const rel = (p: string) => relative(process.cwd(), p) || '.';
const ORIGIN = 'helm.demo/agents/support-1';
const WRITER = 'support-1';

/** Runs a helmctl command in-process, echoing it like a shell transcript. */
async function run(args: string[], quiet = false): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  let stderr = '';
  const code = await helmctl(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  console.log(`  $ helmctl ${args.join(' ')}`);
  if (!quiet || code !== 0) for (const line of (stdout + stderr).trimEnd().split('\n')) console.log(`    ${line}`);
  return { code, stdout };
}

const digest = (v: unknown): HashRef => `sha256:${toHex(nodeSuite.sha256(jcs(v)))}`;

interface Call {
  callId: string;
  tool: string;
  args: Record<string, unknown>;
  connector?: string;
  sandbox?: string;
  note: string;
}

async function main(): Promise<void> {
  await rm(out, { recursive: true, force: true });
  await mkdir(join(out, 'keys'), { recursive: true });
  console.log(`HELM OSS demo: a governed agent session and its evidence (output in ${rel(out)}/)\n`);

  console.log('1. Keys (C2SP signed-note format; the .pub files hold the verifier keys)');
  const keyFile = (n: string) => rel(join(out, 'keys', `${n}.key`));
  await run(['keygen', '--type', 'root', '--name', 'helm-demo/root', '--out', keyFile('root')], true);
  await run(['keygen', '--type', 'log', '--name', ORIGIN, '--out', keyFile('log')], true);
  await run(['keygen', '--type', 'node', '--name', 'helm-demo/support-1/node', '--out', keyFile('node')], true);
  await run(['keygen', '--type', 'exporter', '--name', 'helm-demo/exporter', '--out', keyFile('exporter')], true);

  console.log('\n2. Trust: the root key authorises the node key for this log');
  const publishFile = rel(join(out, 'trust', 'publish-node.json'));
  await mkdir(join(out, 'trust'), { recursive: true });
  await run(['trust', 'publish', '--root-key', keyFile('root'), '--key', keyFile('node'), '--origin', ORIGIN, '--from-index', '0', '--out', publishFile], true);
  const vkey = async (n: string) => (await readFile(`${keyFile(n)}.pub`, 'utf8')).trim();
  const policyFile = rel(join(out, 'trust-policy.txt'));
  await writeFile(
    policyFile,
    [
      '# Trust policy for the demo pack: trust comes from here, never from the pack.',
      `log ${await vkey('log')}`,
      'quorum none',
      `root ${await vkey('root')}`,
      `exporter ${await vkey('exporter')}`,
      '',
    ].join('\n'),
  );

  console.log('\n3. Policy: the example bundle, verified against its signer before use');
  const bundleText = await readFile(join(repo, 'examples/bundles/support-desk.yaml'), 'utf8');
  const signature = JSON.parse(await readFile(join(repo, 'examples/bundles/support-desk.signature.json'), 'utf8'));
  const signer = parseVerifierKey((await readFile(join(repo, 'examples/bundles/example-bundle-signer.vkey'), 'utf8')).trim());
  const policy: GuardianPolicy = loadPolicy({ bundle: parseBundleText(bundleText), signature }, { roots: [signer], revoked: [] }, nodeSuite);
  if (policy.status !== 'ready') throw new Error(`the example bundle did not load: ${policy.reasonCode}`);
  console.log(`  examples/bundles/support-desk.yaml  ${policy.bundle.contentHash}  signed by ${signer.handle}`);

  console.log('\n4. Session: every proposed tool call gets an intent and a signed decision receipt');
  const load = async (n: string) => signingKeyFromText(await readFile(keyFile(n), 'utf8'), nodeSigner);
  const writer = await ProofGraphWriter.open({
    root: join(out, 'proofgraph'),
    writerId: WRITER,
    origin: ORIGIN,
    nodeKey: await load('node'),
    logKey: await load('log'),
    clock: Date.now,
    trustEvents: [JSON.parse(await readFile(publishFile, 'utf8'))],
    policyDigest: policy.bundle.contentHash,
  });
  const principal = { id: 'agent:support-1', roles: ['support'] };
  const calls: Call[] = [
    { callId: 'call_1', tool: 'crm.lookup_customer', args: { customerId: 'cus_8842ab12' }, connector: 'crm-api', note: 'read a customer record' },
    { callId: 'call_2', tool: 'tickets.update', args: { ticketId: 311, status: 'pending', assignee: 'root' }, connector: 'helpdesk-mcp', note: 'an argument the schema does not declare' },
    { callId: 'call_3', tool: 'billing.refund', args: { paymentId: 'pay_77', amountCents: 25000 }, connector: 'payments-api', note: 'a refund above 100.00 needs a manager' },
    { callId: 'call_4', tool: 'ops.restart_service', args: { service: 'payments' }, note: 'the ops domain is not granted to support agents' },
    { callId: 'call_5', tool: 'kb.fetch_article', args: { url: 'https://evil.example.net/steal' }, sandbox: 'egress-only', note: 'a destination not on the allowlist' },
  ];
  const rows: string[][] = [];
  for (const c of calls) {
    const nowMs = Date.now();
    const time = new Date(nowMs).toISOString();
    const intent = await writer.append('intent', { surface: 'cli', callId: c.callId, tool: c.tool, principal: principal.id, argsDigest: digest(c.args), args: c.args });
    // A fresh session: every applicable budget is unused and every bucket full (the stateful PEP
    // keeps real counters across calls).
    const t = policy.bundle.tools.get(c.tool);
    const req = t ? requiredCounters(t.budgets, t.rateLimits, principal.id, c.tool, nowMs) : { budgets: [], rates: [] };
    const caps = new Map((t?.rateLimits ?? []).map((r) => [r.id, r.capacity]));
    const state = {
      budgets: Object.fromEntries(req.budgets.map((b) => [b.id, { key: b.key, windowStart: b.windowStart, calls: 0, cost: 0 }])),
      rates: Object.fromEntries(req.rates.map((r) => [r.id, { key: r.key, tokens: caps.get(r.id)!, updatedAt: time }])),
    };
    const d = evaluate(policy, {
      callId: c.callId, surface: 'cli', principal, tool: c.tool, args: c.args,
      connector: c.connector ?? null, sandbox: c.sandbox ?? null, time, policyDigest: policy.bundle.contentHash, state,
    });
    const decision = await writer.append('decision', decisionBody(d, c.callId, c.tool), { parents: [{ hash: intent.entryHash }] });
    if (d.verdict === 'ALLOW') {
      const effect = await writer.append('effect', { callId: c.callId, tool: c.tool, status: 'executed', confirmed: true, durationUs: 1800 }, { parents: [{ hash: decision.entryHash }] });
      await writer.append('result', { callId: c.callId, tool: c.tool, status: 'ok', outputDigest: digest({ id: 'cus_8842ab12', name: 'Ada', tier: 'pro' }) }, { parents: [{ hash: effect.entryHash }] });
    }
    rows.push([c.callId, c.tool, d.verdict, d.reasonCode, `#${decision.index}`, c.note]);
  }
  await writer.close();
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(`  ${r.map((x, i) => x.padEnd(widths[i]!)).join('  ')}`);

  console.log('\n5. Export a deterministic evidence pack');
  const pack = rel(join(out, 'pack.tar.gz'));
  await run(['export', '--store', rel(join(out, 'proofgraph')), '--out', pack, '--key', keyFile('exporter')]);

  console.log('\n6. Verify it offline, trusting only the trust policy');
  const ok = await run(['verify', pack, '--trust-policy', policyFile]);
  if (ok.code !== 0) throw new Error('the demo pack did not verify');

  console.log('\n7. Tamper check: change one decision from DENY to ALLOW in a copy, re-pack, verify again');
  const tampered = rel(join(out, 'tampered.tar.gz'));
  await writeFile(tampered, await tamperOneVerdict(await readFile(pack)));
  const bad = await run(['verify', tampered, '--trust-policy', policyFile]);
  if (bad.code !== 1) throw new Error('the tampered pack was not rejected');

  console.log('\nCheck the evidence yourself (after npm install, which builds dist/):');
  console.log(`  node dist/cli/helmctl.js verify ${pack} --trust-policy ${policyFile}`);
}

/** Flips the first DENY verdict in the pack's entries to ALLOW, keeping the JSON well formed. */
async function tamperOneVerdict(gz: Uint8Array): Promise<Uint8Array> {
  const files = readTar(gunzipNode(gz, DEFAULT_LIMITS.maxTotalBytes), { limits: DEFAULT_LIMITS, accept: () => true });
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
