// A bundle of sandboxed test tools (real modules assembled from WAT) and its module files: one
// tool per limit and denial, plus csv2json and an upper-case transform.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PolicyBundleDoc } from '../../kernel/guardian/index.js';
import { CSV_TO_JSON } from '../../sandbox/tools/wat.js';
import { CAT_FILE, HUGE_OUTPUT, IMPORTS_ENV, INFINITE_LOOP, MEMORY_BOMB, READ_CLOCK, READ_RANDOM, UPPERCASE, sha256, wat2wasm } from './modules.js';

const TEXT_ARGS = { type: 'object', properties: { text: { type: 'string', maxLength: 100000 } }, required: ['text'] };
const NO_ARGS = { type: 'object', properties: {} };
const BASE = { gas: 50_000_000, wallMs: 10_000, memoryPages: 16, outputBytes: 65_536 };

/** tool → [module source, profile, wasm extras, args schema] */
const TOOLS: Record<string, [string, string, Record<string, unknown>, Record<string, unknown>]> = {
  upper: [UPPERCASE, 'base', { stdin: { arg: 'text' }, stdout: 'text' }, TEXT_ARGS],
  csv2json: [CSV_TO_JSON, 'base', { stdin: { arg: 'text' } }, TEXT_ARGS],
  loop: [INFINITE_LOOP, 'gas', {}, NO_ARGS],
  spin: [INFINITE_LOOP, 'time', {}, NO_ARGS],
  bomb: [MEMORY_BOMB, 'memory', {}, NO_ARGS],
  huge: [HUGE_OUTPUT, 'output', { stdout: 'text' }, NO_ARGS],
  cat: [CAT_FILE, 'base', { stdout: 'text' }, NO_ARGS],
  clock: [READ_CLOCK, 'base', { stdout: 'text' }, NO_ARGS],
  random: [READ_RANDOM, 'base', { stdout: 'text' }, NO_ARGS],
  hostimport: [IMPORTS_ENV, 'base', {}, NO_ARGS],
};

export interface SandboxFixture {
  doc: PolicyBundleDoc;
  /** module file name → bytes */
  files: Map<string, Uint8Array>;
}

export async function sandboxFixture(roles: string[] = ['support']): Promise<SandboxFixture> {
  const files = new Map<string, Uint8Array>();
  const tools: Record<string, unknown> = {};
  for (const [name, [wat, profile, extra, args]] of Object.entries(TOOLS)) {
    const bytes = await wat2wasm(wat);
    files.set(`${name}.wasm`, bytes);
    tools[name] = { domain: 'data', sideEffect: 'read', sandbox: profile, args, wasm: { module: `${name}.wasm`, sha256: `sha256:${sha256(bytes)}`, ...extra } };
  }
  // Pinned to upper.wasm's hash, but its file holds other bytes.
  const impostor = await wat2wasm(INFINITE_LOOP);
  files.set('impostor.wasm', impostor);
  tools.impostor = { ...(tools.upper as object), wasm: { module: 'impostor.wasm', sha256: `sha256:${sha256(files.get('upper.wasm')!)}`, stdin: { arg: 'text' }, stdout: 'text' } };
  (tools.csv2json as Record<string, unknown>).output = { type: 'array', items: { type: 'object', additionalProperties: { type: 'string' } } };
  const profile = (compute: object) => ({ network: 'none', filesystem: 'none', compute: { ...BASE, ...compute } });
  const doc = {
    apiVersion: 'helm-policy-bundle/v1',
    kind: 'PolicyBundle',
    metadata: { name: 'sandbox-tests' },
    domains: { data: {} },
    grants: [{ id: 'agents', principals: { roles }, domains: ['data'], profile: 'read-only' }],
    sandbox: {
      profiles: {
        base: profile({}),
        gas: profile({ gas: 1_000_000 }),
        // Long enough that a concurrent call on a loaded machine finishes first.
        time: profile({ gas: Number.MAX_SAFE_INTEGER, wallMs: 2000 }),
        memory: profile({ memoryPages: 4 }),
        output: profile({ outputBytes: 4096 }),
      },
    },
    tools,
    rules: [{ id: 'data-allowed', match: { domains: ['data'] }, verdict: 'ALLOW' }],
  } as unknown as PolicyBundleDoc;
  return { doc, files };
}

export async function writeModules(dir: string, files: Map<string, Uint8Array>): Promise<void> {
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
}
