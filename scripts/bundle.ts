// Bundles the compiled entry points the sidecar image runs (helmctl, the sidecar's main and the
// pack-verify worker) into dist/bundle/ with esbuild: one file per entry plus shared chunks, each
// lazily imported feature (MCP, shipping, tracing, other helmctl commands) in its own chunk. A
// start then reads a handful of files instead of ~600 modules (docs/benchmarks.md). Identifiers
// are kept, so stack traces still name our functions. Run by `npm run build` after tsc.
import { build, type Plugin } from 'esbuild';
import { rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Entry files under dist/; their names are what dist/bundle/ holds (flat, see below). */
export const BUNDLE_ENTRIES = ['cli/helmctl.js', 'sidecar/main.js', 'kernel/evidence/verify-worker.js'];

/**
 * Node's built-in modules through require, not as ES modules: an ES import of a built-in builds
 * its ES facade, which reads every export, and node:http's lazy getters then load undici (the
 * fetch implementation, ~40 ms of a start the sidecar does not need). Through require, esbuild's
 * interop reads an export only where the code uses it.
 */
const builtinsThroughRequire: Plugin = {
  name: 'builtins-through-require',
  setup(b) {
    const names = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    // Static imports only: a dynamic import() of the CommonJS wrapper would yield { default }
    // alone (the OTLP exporter's `const { Agent } = await import('http')` broke).
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (a) => (names.has(a.path) && a.namespace === 'file' && a.kind === 'import-statement' ? { path: a.path, namespace: 'builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (a) => ({ contents: `module.exports = require(${JSON.stringify(a.path)});`, loader: 'js' }));
  },
};

export async function bundle(outdir = join(dist, 'bundle')): Promise<void> {
  await rm(outdir, { recursive: true, force: true });
  await build({
    entryPoints: BUNDLE_ENTRIES.map((e) => join(dist, e)),
    outdir,
    // Flat: verify-node.ts finds its worker as ./verify-worker.js next to itself (a chunk here).
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    // CommonJS packages inside an ES module bundle call require for Node's built-in modules.
    banner: { js: "import { createRequire as __helmCreateRequire } from 'node:module'; const require = __helmCreateRequire(import.meta.url);" },
    logLevel: 'warning',
    plugins: [builtinsThroughRequire],
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await bundle();
