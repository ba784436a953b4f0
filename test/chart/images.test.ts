// What can be checked of the Dockerfiles, the kind config and the scripts without a container
// engine: their shell syntax, that every COPY source and entry point exists and is not excluded
// from the build context, Node 24 bases, a numeric non-root user, production-only dependencies.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../support/shared.js';

const read = (f: string) => readFileSync(join(repoRoot, f), 'utf8');

describe.each([
  ['Dockerfile.sidecar', 'cli/helmctl.ts', '/app/dist/bundle/helmctl.js'],
  ['Dockerfile.operator', 'operator/main.ts', '/app/dist/operator/main.js'],
])('%s', (file, source, entry) => {
  const text = read(file);
  const stages = text.split('\n').filter((l) => /^FROM /.test(l));

  it('is multi-stage on Node 24 and runs the compiled entry point as a numeric non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    const runtime = text.slice(text.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER 65532:65532$/m);
    expect(runtime).toMatch(new RegExp(`"node", ("--[a-z-]+=\\d+", )?"${entry}"`));
    expect(runtime).toContain('COPY --from=deps /app/node_modules node_modules');
    expect(text).toMatch(/npm install --omit=dev/);
    expect(existsSync(join(repoRoot, source))).toBe(true);
  });

  it('copies only sources that exist and that .dockerignore lets through', () => {
    const ignore = read('.dockerignore').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/\*\*$/, ''));
    const copies = [...text.matchAll(/^COPY (?!--from)(.+)$/gm)].map((m) => m[1]!.trim().split(/\s+/).slice(0, -1)).flat();
    expect(copies.length).toBeGreaterThan(3);
    for (const src of copies) {
      expect([src, existsSync(join(repoRoot, src))]).toEqual([src, true]);
      expect([src, ignore.includes(src)]).toEqual([src, true]);
    }
    const build = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    for (const dir of build.include) if (existsSync(join(repoRoot, dir))) expect(copies).toContain(dir);
  });
});

describe('kind config and scripts', () => {
  it('kind-config.yaml is a kind Cluster with a control plane and a worker', () => {
    const c = parseYaml(read('kind-config.yaml')) as { kind: string; apiVersion: string; nodes: { role: string }[] };
    expect([c.kind, c.apiVersion]).toEqual(['Cluster', 'kind.x-k8s.io/v1alpha4']);
    expect(c.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker']);
  });

  it.each(['scripts/kind-e2e.sh', 'scripts/fetch-helm.sh'])('%s is valid bash', (script) => {
    expect(() => execFileSync('bash', ['-n', join(repoRoot, script)])).not.toThrow();
  });

  it('the e2e script uses the helmctl commands and chart values that exist', () => {
    const script = read('scripts/kind-e2e.sh');
    for (const cmd of ['keygen', 'bundle sign', 'export', 'verify', 'replay']) expect(script).toContain(`helmctl ${cmd}`);
    for (const f of ['cli/commands/keygen.ts', 'cli/commands/bundle/sign.ts', 'cli/commands/export.ts', 'cli/commands/verify.ts', 'cli/commands/replay.ts', 'sidecar/scripted-model/server.ts']) {
      expect([f, existsSync(join(repoRoot, f))]).toEqual([f, true]);
    }
    const values = parseYaml(read('charts/helm-operator/values.yaml')) as Record<string, unknown>;
    for (const key of ['image', 'trustRoots', 'clusterOrigin', 'certification.rootKeySecret', 'rbac.governedNamespaces']) expect(values).toHaveProperty(key);
    // Every --set of the script names a value the chart has (a typo there is silently ignored by helm).
    for (const m of script.matchAll(/--set(?:-json)? "?([A-Za-z.]+)=/g)) expect([m[1], values]).toEqual([m[1], expect.objectContaining({ [m[1]!.split('.')[0]!]: expect.anything() })]);
  });
});
