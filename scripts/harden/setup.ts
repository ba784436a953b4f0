// The harden lab: keys (helmctl keygen), a root-signed node key publication, the example bundle
// plus the counter tools (one budget per tool) signed by a fresh bundle signer, a trust policy,
// the scripted model, and the `helmctl serve` flags that tie them together. Everything lives in a
// temporary directory on loopback only.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main as helmctl } from '../../cli/helmctl.js';
import { nodeSigner, nodeSuite } from '../../kernel/crypto/node.js';
import { signingKeyFromText } from '../../kernel/crypto/signing-key.js';
import { parseBundleText, signBundle, type PolicyBundleDoc } from '../../kernel/guardian/index.js';
import { startScriptedModel, type ScriptedModel, type ScriptedTurn } from '../../sidecar/scripted-model/server.js';
import { COUNTER_TOOL_NAMES } from './tools.js';

export const ORIGIN = 'helm.harden/agents/fuzz-1';
export const WRITER = 'fuzz-1';
export const MODEL = 'harden-scripted-model';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/scripts/harden -> repository root (the examples are read from the source tree). */
export const repoRoot = resolve(here, '../../..');
export const helmctlPath = resolve(here, '../../cli/helmctl.js');
export const countingMcpPath = resolve(here, 'counting-mcp.js');

export interface Lab {
  readonly dir: string;
  readonly storeDir: string;
  readonly counterFile: string;
  readonly trustPolicy: string;
  readonly exporterKey: string;
  readonly model: ScriptedModel;
  /** helmctl serve flags (without listen addresses). */
  readonly flags: string[];
  readonly budget: number;
}

async function run(args: string[]): Promise<string> {
  let out = '';
  const code = await helmctl(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } });
  if (code !== 0) throw new Error(`helmctl ${args.join(' ')} failed (${code}): ${out}`);
  return out;
}

/** The example bundle, plus a domain of counter tools that share one per-tool calls budget. */
export function hardenBundle(example: PolicyBundleDoc, budget: number): PolicyBundleDoc {
  const d = structuredClone(example);
  d.domains.harden = { description: 'Counter tools of the harden harness' };
  d.grants.push({ id: 'harden-agents', principals: { roles: ['support'] }, domains: ['harden'], profile: 'write-limited' });
  for (const name of COUNTER_TOOL_NAMES) d.tools[name] = { domain: 'harden', sideEffect: 'write', args: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } };
  d.rules.push({ id: 'harden-allow', verdict: 'ALLOW', match: { domains: ['harden'] } });
  // The example's own budgets would stop a long run for reasons that are not under test.
  d.budgets = (d.budgets ?? []).map((b) => ({ ...b, ...(b.maxCalls !== undefined ? { maxCalls: 1_000_000_000 } : {}), ...(b.maxCost !== undefined ? { maxCost: 1_000_000_000 } : {}) }));
  d.rateLimits = (d.rateLimits ?? []).map((r) => ({ ...r, capacity: 1_000_000, refillTokens: 1_000_000 }));
  d.budgets.push({ id: 'harden-per-tool', scope: 'tool', windowSeconds: 315_360_000, maxCalls: budget, match: { domains: ['harden'] } });
  return d;
}

/** What the scripted model answers: a tool call whose arguments text the request picks. */
export function modelScript(hostileArgs: readonly string[]): (request: unknown, turn: number) => ScriptedTurn {
  return (request) => {
    const messages = (request as { messages?: Array<{ content?: unknown }> })?.messages;
    const last = Array.isArray(messages) ? messages.at(-1)?.content : undefined;
    const m = typeof last === 'string' ? /^hostile-args:(\d+)$/.exec(last) : null;
    const args = m ? (hostileArgs[Number(m[1]) % hostileArgs.length] ?? '{}') : JSON.stringify({ customerId: 'cus_12345678' });
    return { content: 'calling a tool', toolCalls: [{ id: `call_${Math.random().toString(36).slice(2, 10)}`, name: 'crm.lookup_customer', arguments: args }] };
  };
}

export async function createLab(dir: string, budget: number, hostileArgs: readonly string[]): Promise<Lab> {
  const keys = join(dir, 'keys');
  await mkdir(keys, { recursive: true });
  const key = (n: string) => join(keys, `${n}.key`);
  await run(['keygen', '--type', 'root', '--name', 'helm-harden/root', '--out', key('root')]);
  await run(['keygen', '--type', 'log', '--name', ORIGIN, '--out', key('log')]);
  await run(['keygen', '--type', 'node', '--name', 'helm-harden/node', '--out', key('node')]);
  await run(['keygen', '--type', 'exporter', '--name', 'helm-harden/exporter', '--out', key('exporter')]);
  await run(['keygen', '--type', 'root', '--name', 'helm-harden/bundle-signer', '--out', key('bundle-signer')]);
  const vkey = async (n: string) => (await readFile(`${key(n)}.pub`, 'utf8')).trim();
  const publish = join(dir, 'publish-node.json');
  await run(['trust', 'publish', '--root-key', key('root'), '--key', key('node'), '--origin', ORIGIN, '--from-index', '0', '--out', publish]);
  const trustPolicy = join(dir, 'trust-policy.txt');
  await writeFile(trustPolicy, [`log ${await vkey('log')}`, 'quorum none', `root ${await vkey('root')}`, `exporter ${await vkey('exporter')}`, ''].join('\n'));

  const example = parseBundleText(await readFile(join(repoRoot, 'examples/bundles/support-desk.yaml'), 'utf8')) as PolicyBundleDoc;
  const doc = hardenBundle(example, budget);
  const signer = signingKeyFromText((await readFile(key('bundle-signer'), 'utf8')).trim(), nodeSigner);
  const bundleFile = join(dir, 'bundle.json');
  const sigFile = join(dir, 'bundle.signature.json');
  await writeFile(bundleFile, JSON.stringify(doc, null, 2));
  await writeFile(sigFile, JSON.stringify(signBundle(doc, signer, nodeSuite), null, 2));
  await writeFile(join(keys, 'upstream-api-key'), 'sk-harden-held-by-the-sidecar-only\n', { mode: 0o600 });

  const model = await startScriptedModel({ script: modelScript(hostileArgs), model: MODEL });
  const counterFile = join(dir, 'executions.jsonl');
  await writeFile(counterFile, '');
  const storeDir = join(dir, 'proofgraph');
  const upstreams = [{ name: 'counter', transport: 'stdio', command: process.execPath, args: [countingMcpPath, counterFile], protocol: 'legacy' }];
  const flags = [
    '--proofgraph-dir', storeDir,
    '--writer-id', WRITER,
    '--node-key', key('node'),
    '--log-key', key('log'),
    '--trust-event', publish,
    '--bundle', bundleFile,
    '--bundle-signature', sigFile,
    '--bundle-trust-root', `${key('bundle-signer')}.pub`,
    '--upstream-url', model.url,
    '--upstream-api-key-file', join(keys, 'upstream-api-key'),
    '--principal-id', 'agent:harden-1',
    '--principal-role', 'support',
    '--tool-route', 'crm.lookup_customer=connector:crm-api',
    '--tool-route', 'tickets.update=connector:helpdesk-mcp',
    '--tool-route', 'billing.refund=connector:payments-api',
    '--tool-route', 'kb.fetch_article=sandbox:egress-only',
    '--mcp-upstreams', JSON.stringify(upstreams),
  ];
  return { dir, storeDir, counterFile, trustPolicy, exporterKey: key('exporter'), model, flags, budget };
}
