// The sandbox part of `npm run demo`: the csv2json tool of examples/sandbox (a WebAssembly module
// pinned by sha256, run under the compute-small profile) added to the demo bundle, its module
// copied beside the bundle file, and two calls through the MCP gateway's built-in sandbox upstream.
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { parseBundleText, type PolicyBundleDoc } from '../../kernel/guardian/index.js';
import { META_COMPUTE } from './call.js';

/** Adds the example's data domain, compute profile, csv2json tool and rule to `doc`, with a grant for `roles`. */
export async function addSandboxDemoPolicy(doc: PolicyBundleDoc, roles: string[], repo: string, bundleDir: string): Promise<PolicyBundleDoc> {
  const example = parseBundleText(await readFile(join(repo, 'examples/sandbox/bundle.yaml'), 'utf8')) as PolicyBundleDoc;
  await copyFile(join(repo, 'examples/sandbox/csv2json.wasm'), join(bundleDir, 'csv2json.wasm'));
  return {
    ...doc,
    domains: { ...doc.domains, ...example.domains },
    grants: [...doc.grants, { id: 'sandbox-demo-agents', principals: { roles }, domains: Object.keys(example.domains), profile: 'read-only' }],
    sandbox: { ...doc.sandbox, profiles: { ...doc.sandbox?.profiles, ...example.sandbox!.profiles } },
    tools: { ...doc.tools, ...example.tools },
    rules: [...doc.rules, ...example.rules],
  };
}

/** Calls csv2json twice (a clean CSV, then one with an unterminated quote) and prints what came back. */
export async function sandboxDemoCalls(mcp: Client, print: (line: string) => void): Promise<void> {
  const inputs = [
    ['a CSV export', 'sku,name,qty\nB-12,"bolt, hex",40\nN-07,nut,250\n'],
    ['a CSV with an unterminated quote', 'sku,name\nB-12,"bolt\n'],
  ];
  for (const [what, csv] of inputs) {
    try {
      const r = await mcp.callTool({ name: 'csv2json', arguments: { csv } });
      const c = (r._meta as Record<string, Record<string, unknown>>)[META_COMPUTE]!;
      const text = (r.content as Array<{ text: string }>)[0]!.text;
      print(`tools/call csv2json (${what}): ${text}`);
      print(`  ran in the WASI sandbox: gas ${String(c.gas)}, ${String(c.wallMs)} ms, ${String(c.peakMemoryPages)} pages, output ${String(c.outputDigest).slice(0, 23)}...`);
    } catch (e) {
      print(`tools/call csv2json (${what}): refused: ${(e as Error).message.slice(0, 140)}`);
    }
  }
}
