// Sandboxed calls through the real sidecar process (dist/sidecar/main.js): csv2json over REST
// /mcp/v1/execute at c=4 (decision, sandbox run, EFFECT and RESULT durable per call), alone and
// while 4 OpenAI clients drive the proxy (one durable tool-call decision per response) at the
// same time; the proxy alone for reference. Timings are reported, never asserted.
// Run: npm run bench -- sandbox-sidecar
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeSigner, nodeSuite } from '../kernel/crypto/node.js';
import { signingKeyFromSeed } from '../kernel/crypto/signing-key.js';
import { parseBundleText, signBundle, type PolicyBundleDoc } from '../kernel/guardian/index.js';
import { signKeyEvent } from '../kernel/trust/events.js';
import { addSandboxDemoPolicy } from '../sidecar/sandbox/demo-part.js';
import { startScriptedModel } from '../sidecar/scripted-model/server.js';
import { startSidecar, stop } from './sidecar.js';
import { round } from './stats.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CSV = `sku,name,qty\n${Array.from({ length: 200 }, (_, i) => `S-${i},"part ${i}, std",${i * 3}`).join('\n')}\n`;

function post(agent: Agent, url: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `clients` loops for `seconds`: successful answers per second and the other statuses seen. */
async function drive(clients: number, seconds: number, one: (agent: Agent) => Promise<number>) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const end = Date.now() + seconds * 1000;
  let ok = 0;
  let other = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < end) (await one(agent)) === 200 ? ok++ : other++;
  }));
  agent.destroy();
  return { perSecond: round(ok / seconds, 0), ok, non200: other };
}

export async function benchSandboxSidecar(opts: { seconds?: number } = {}) {
  const seconds = opts.seconds ?? 5;
  const dir = await mkdtemp(join(tmpdir(), 'helm-bench-sandbox-'));
  const key = (name: string) => signingKeyFromSeed(name, randomBytes(32), nodeSigner);
  const node = key('bench-sandbox/node');
  const root = key('bench-sandbox/root');
  const signer = key('bench-sandbox/bundle-signer');
  const origin = 'helm.bench/sandbox';
  await mkdir(join(dir, 'keys'));
  await writeFile(join(dir, 'keys', 'node.key'), node.privateText);
  await writeFile(join(dir, 'keys', 'log.key'), key(origin).privateText);
  await writeFile(join(dir, 'keys', 'signer.pub'), signer.verifier.vkey);
  await writeFile(join(dir, 'keys', 'publish.json'), JSON.stringify(signKeyEvent(nodeSuite, { event: 'KEY_PUBLISH', purpose: 'node', origin, key: node.verifier.vkey, fromIndex: 0, issuedAt: new Date().toISOString() }, [root, node])));
  const base = parseBundleText(await readFile(join(repo, 'examples', 'bundles', 'support-desk.yaml'), 'utf8')) as PolicyBundleDoc;
  delete base.budgets;
  delete base.rateLimits;
  base.fixtures = [];
  const doc = await addSandboxDemoPolicy(base, ['support'], repo, dir);
  await writeFile(join(dir, 'bundle.json'), JSON.stringify(doc));
  await writeFile(join(dir, 'bundle.sig.json'), JSON.stringify(signBundle(doc, signer, nodeSuite)));
  await copyFile(join(repo, 'examples', 'sandbox', 'csv2json.wasm'), join(dir, 'csv2json.wasm'));
  let n = 0;
  const model = await startScriptedModel({ script: () => ({ toolCalls: [{ id: `call_${++n}`, name: 'crm.lookup_customer', arguments: '{"customerId":"cus_12345678"}' }] }) });
  const started = await startSidecar([
    '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0',
    '--proofgraph-dir', join(dir, 'proofgraph'), '--writer-id', 'sandbox-bench',
    '--node-key', join(dir, 'keys', 'node.key'), '--log-key', join(dir, 'keys', 'log.key'), '--trust-event', join(dir, 'keys', 'publish.json'),
    '--bundle', join(dir, 'bundle.json'), '--bundle-signature', join(dir, 'bundle.sig.json'), '--bundle-trust-root', join(dir, 'keys', 'signer.pub'),
    '--upstream-url', model.url, '--principal-id', 'agent:bench', '--principal-role', 'support',
    '--tool-route', 'crm.lookup_customer=connector:crm-api', '--sandbox-workers', '4', '--log-level', 'info',
  ]);
  const sandboxed = (agent: Agent) => post(agent, `${started.governed}/mcp/v1/execute`, JSON.stringify({ tool: 'csv2json', arguments: { csv: CSV } }));
  const chat = JSON.stringify({ model: 'scripted-model', messages: [{ role: 'user', content: 'look up the customer' }] });
  const proxied = (agent: Agent) => post(agent, `${started.governed}/v1/chat/completions`, chat, { authorization: 'Bearer agent' });
  try {
    await drive(4, 1, sandboxed); // warm: Workers started, module compiled
    const alone = await drive(4, seconds, sandboxed);
    const proxyAlone = await drive(4, seconds, proxied);
    const [withProxy, proxyMeanwhile] = await Promise.all([drive(4, seconds, sandboxed), drive(4, seconds, proxied)]);
    return { seconds, csvBytes: CSV.length, sandboxedC4: { alone, whileProxyServes: withProxy }, proxyC4: { alone: proxyAlone, whileSandboxServes: proxyMeanwhile } };
  } finally {
    await stop(started.child);
    await model.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchSandboxSidecar(), null, 2));
}
