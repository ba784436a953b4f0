// Dockerfile.sidecar, as far as it can be checked without a container engine: an init process
// (Debian tini) is PID 1 so the children of stdio MCP upstreams are reaped, and the base image is
// pinned by digest or the file says why not and how a release pins it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/shared.js';

const text = readFileSync(join(repoRoot, 'Dockerfile.sidecar'), 'utf8');
const runtime = text.slice(text.lastIndexOf('\nFROM '));

it('installs tini in the runtime stage and runs the sidecar under it', () => {
  expect(runtime).toMatch(/apt-get install -y --no-install-recommends tini/);
  expect(runtime).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
  expect(runtime).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "--max-semi-space-size=8", "\/app\/dist\/bundle\/helmctl\.js"\]$/m);
  // Installed before the switch to the non-root user.
  expect(runtime.indexOf('tini')).toBeLessThan(runtime.indexOf('USER 65532'));
});

it('pins the base image by digest, or documents why not and how a release pins it', () => {
  const arg = /^ARG NODE_IMAGE=(.+)$/m.exec(text)![1]!;
  if (!arg.includes('@sha256:')) {
    expect(text).toMatch(/pinned by tag, not by digest/);
    expect(text).toMatch(/--build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:/);
  }
});

it('ships every file the runtime resolves beside dist/ (the conformance kit copies the sandbox example module)', () => {
  // conformance/kit.ts looks for examples/sandbox/csv2json.wasm at /app/examples/... in the image.
  const kit = readFileSync(join(repoRoot, 'conformance', 'kit.ts'), 'utf8');
  expect(kit).toMatch(/packaged\('examples\/sandbox\/csv2json\.wasm'\)/);
  expect(runtime).toMatch(/^COPY examples\/sandbox examples\/sandbox$/m);
  expect(runtime.indexOf('COPY examples/sandbox')).toBeLessThan(runtime.indexOf('USER 65532'));
});

it('builds the bundle the entry point names (scripts/bundle.ts bundles cli/helmctl.js)', () => {
  const build = text.slice(0, text.indexOf('\nFROM ', text.indexOf('AS build')));
  expect(build).toMatch(/tsc -p tsconfig\.build\.json && node dist\/scripts\/bundle\.js$/m);
  expect(readFileSync(join(repoRoot, 'scripts', 'bundle.ts'), 'utf8')).toMatch(/'cli\/helmctl\.js'/);
});

it('the benchmarks start the sidecar as the image does (same entry point and Node flags)', async () => {
  const { IMAGE } = await import('../../bench/sidecar.js');
  const entry = /^ENTRYPOINT \[(.+)\]$/m.exec(runtime)![1]!.split(', ').map((s) => JSON.parse(s) as string);
  expect(entry.slice(entry.indexOf('node') + 1)).toEqual([...IMAGE.nodeFlags!, '/app/dist/bundle/helmctl.js']);
  expect(IMAGE.main).toMatch(/\/bundle\/helmctl\.js$/); // bench/ runs from dist/, so dist/bundle/helmctl.js
});

it('ships a compile cache filled as the runtime user (the cache directory is per UID), after the switch to it', () => {
  expect(runtime).toMatch(/^ENV NODE_COMPILE_CACHE=\/app\/\.node-compile-cache$/m);
  expect(runtime).toMatch(/^RUN mkdir -p \/app\/\.node-compile-cache && chown 65532:65532 \/app\/\.node-compile-cache$/m);
  const warm = runtime.indexOf('RUN node /app/dist/bundle/helmctl.js serve --help');
  expect(warm).toBeGreaterThan(runtime.indexOf('USER 65532:65532'));
  expect(runtime.indexOf('chown 65532:65532 /app/.node-compile-cache')).toBeLessThan(runtime.indexOf('USER 65532:65532'));
});
