// `npm run bench`: every benchmark, one after another in one process, printed as JSON and as a
// short table of ratios against the targets. Timings are never asserted in tests; see README.
// Select some with arguments: npm run bench -- sign store
import { benchDecision } from './decision.js';
import { benchExport } from './export.js';
import { benchMcp } from './mcp.js';
import { benchNodeSign } from './node-sign.js';
import { benchProxy } from './proxy.js';
import { benchSidecar } from './sidecar.js';
import { benchStartup } from './startup.js';
import { benchStoreAppend } from './store-append.js';
import { benchVerify } from './verify.js';
import { benchWebhook } from './webhook.js';

const BENCHES: Record<string, () => Promise<unknown>> = {
  sign: () => benchNodeSign(),
  store: () => benchStoreAppend(),
  verify: () => benchVerify(),
  export: () => benchExport(),
  decision: () => benchDecision(),
  proxy: () => benchProxy(),
  mcp: () => benchMcp(),
  sidecar: () => benchSidecar(),
  webhook: () => benchWebhook(),
  startup: () => benchStartup({ sizes: (process.env.HELM_BENCH_STARTUP_SIZES ?? '10000,100000').split(',').map(Number) }),
};

const picked = process.argv.slice(2).filter((a) => a in BENCHES);
const names = picked.length ? picked : Object.keys(BENCHES);
const results: Record<string, unknown> = {};
for (const name of names) {
  const t = Date.now();
  process.stderr.write(`running ${name} ...\n`);
  results[name] = await BENCHES[name]!();
  process.stderr.write(`  ${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}
console.log(JSON.stringify({ node: process.version, cpus: (await import('node:os')).cpus().length, results }, null, 2));
