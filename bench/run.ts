// `npm run bench`: every benchmark, one after another in one process, printed as JSON and as a
// short table of ratios against the targets. Timings are never asserted in tests; see README.
// Select some with arguments: npm run bench -- sign store
import { benchCompare } from './compare.js';
import { benchDecision } from './decision.js';
import { benchExport } from './export.js';
import { benchMcp } from './mcp.js';
import { benchNodeSign } from './node-sign.js';
import { benchProxy } from './proxy.js';
import { benchSandbox } from './sandbox.js';
import { benchSandboxSidecar } from './sandbox-sidecar.js';
import { benchSidecar } from './sidecar.js';
import { benchStartup } from './startup.js';
import { benchStoreAppend } from './store-append.js';
import { benchVerify } from './verify.js';
import { benchWebhook } from './webhook.js';

// --smoke: tiny counts, to check that every benchmark runs to the end (CI), not to measure.
const smoke = process.argv.includes('--smoke');
const BENCHES: Record<string, () => Promise<unknown>> = {
  sign: () => benchNodeSign(smoke ? { iterations: 200 } : {}),
  store: () => benchStoreAppend(smoke ? { entries: 500 } : {}),
  verify: () => benchVerify(smoke ? { nodes: 300, bareSamples: 100 } : {}),
  export: () => benchExport(smoke ? { nodes: 300 } : {}),
  decision: () => benchDecision(smoke ? { iterations: 100 } : {}),
  proxy: () => benchProxy(smoke ? { c1Requests: 50, c16Requests: 100 } : {}),
  mcp: () => benchMcp(smoke ? { iterations: 20, warmup: 5 } : {}),
  sidecar: () => benchSidecar(smoke ? { starts: 1, frameworkRequests: 100, loadSeconds: 1 } : {}),
  webhook: () => benchWebhook(smoke ? { ratePerSecond: 20, seconds: 1 } : {}),
  compare: () => benchCompare(smoke ? { rounds: 1, c1: 20, c16: 48 } : {}),
  sandbox: () => benchSandbox(smoke ? { iterations: 20, coldStarts: 1, concurrentCalls: 40 } : {}),
  'sandbox-sidecar': () => benchSandboxSidecar(smoke ? { seconds: 1 } : {}),
  // HELM_BENCH_FLEET_WRITERS / _RECEIPTS: the pack size is 100 writers x 1,000 receipts.
  fleet: async () => (await import('./fleet.js')).benchFleet(smoke ? { writers: 2, receiptsPerWriter: 300, hotPath: { decisions: 200, pairs: 2, rate: 100, seconds: 1 } } : { writers: Number(process.env.HELM_BENCH_FLEET_WRITERS ?? 10), receiptsPerWriter: Number(process.env.HELM_BENCH_FLEET_RECEIPTS ?? 2000) }),
  startup: () => benchStartup({ sizes: smoke ? [200] : (process.env.HELM_BENCH_STARTUP_SIZES ?? '10000,100000').split(',').map(Number) }),
};

const picked = process.argv.slice(2).filter((a) => a in BENCHES);
const names = picked.length ? picked : Object.keys(BENCHES);
const results: Record<string, unknown> = {};
for (const name of names) {
  const t = Date.now();
  process.stderr.write(`running ${name} ...\n`);
  results[name] = await BENCHES[name]!();
  // Each result as soon as it is known (one JSON line on stderr): a later crash loses nothing.
  process.stderr.write(`  ${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s\n  ${name} result ${JSON.stringify(results[name])}\n`);
}
console.log(JSON.stringify({ node: process.version, cpus: (await import('node:os')).cpus().length, results }, null, 2));
