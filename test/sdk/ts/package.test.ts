// @helm-oss/sdk is its own package: everything its sources reach (the kernel modules it compiles
// in) imports only node: built-ins and the dependencies its package.json declares.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SDK_VERSION } from '../../../sdk/ts/src/index.js';
import { repoRoot } from '../../support/shared.js';

function bareImports(entry: string): { files: string[]; bare: Set<string> } {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:')) bare.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  visit(entry);
  return { files: [...seen], bare };
}

describe('@helm-oss/sdk package', () => {
  it('declares every package its code imports, and nothing from sidecar/, operator/ or cli/', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'sdk/ts/package.json'), 'utf8')) as { dependencies: Record<string, string>; name: string; version: string };
    expect(SDK_VERSION).toBe(pkg.version);
    const { files, bare } = bareImports(join(repoRoot, 'sdk/ts/src/index.ts'));
    expect(pkg.name).toBe('@helm-oss/sdk');
    expect([...bare].sort()).toEqual(Object.keys(pkg.dependencies).sort());
    const outside = files.map((f) => f.slice(repoRoot.length + 1)).filter((f) => !f.startsWith('sdk/ts/src/') && !f.startsWith('kernel/'));
    expect(outside).toEqual([]);
  });
});
