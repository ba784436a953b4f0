// verify-core.ts and verify-portable.ts must run in a browser: nothing they import, directly or
// through other repository files, may come from node: or a Node built-in module.
import { builtinModules } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../support/shared.js';

const ALLOWED_PACKAGES = [/^@noble\//, /^fflate$/, /^ajv(\/|$)/, /^canonicalize$/];
const builtins = new Set(builtinModules);

function specifiers(source: string): string[] {
  const out: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

function closure(entry: string): { files: string[]; external: Array<[string, string]> } {
  const seen = new Set<string>();
  const external: Array<[string, string]> = [];
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const ts = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
        if (!existsSync(ts)) throw new Error(`${relative(repoRoot, file)} imports ${spec}, which does not resolve to a .ts file`);
        walk(ts);
      } else external.push([relative(repoRoot, file), spec]);
    }
  };
  walk(join(repoRoot, entry));
  return { files: [...seen].map((f) => relative(repoRoot, f)), external };
}

describe.each(['kernel/evidence/verify-core.ts', 'kernel/evidence/verify-portable.ts', 'kernel/evidence/replay.ts'])('%s is portable', (entry) => {
  const { files, external } = closure(entry);

  it('reaches the checks it is meant to run', () => {
    expect(files).toEqual(expect.arrayContaining(['kernel/evidence/pack-reader.ts', 'kernel/contracts/node.ts', 'kernel/proofgraph/merkle.ts']));
  });

  it('imports nothing from node: or a Node built-in, only allowed packages', () => {
    const bad = external.filter(([, spec]) => spec.startsWith('node:') || builtins.has(spec.split('/')[0]!) || !ALLOWED_PACKAGES.some((re) => re.test(spec)));
    expect(bad).toEqual([]);
  });

  it('the import scanner does see node: imports (it would catch one)', () => {
    expect(specifiers("import { x } from 'node:fs';\nexport { y } from \"node:path\";\nconst z = await import('node:os');")).toEqual(['node:fs', 'node:path', 'node:os']);
  });
});

describe('kernel/fleet/verify-portable.ts (the browser fleet-pack verifier) is portable', () => {
  const { files, external } = closure('kernel/fleet/verify-portable.ts');

  it('reaches the fleet checks, the tar reader and the portable suite', () => {
    expect(files).toEqual(expect.arrayContaining(['kernel/fleet/pack.ts', 'kernel/evidence/tar.ts', 'kernel/crypto/portable.ts', 'kernel/proofgraph/merkle.ts']));
  });

  it('imports nothing from node: or a Node built-in, only allowed packages', () => {
    const bad = external.filter(([, spec]) => spec.startsWith('node:') || builtins.has(spec.split('/')[0]!) || !ALLOWED_PACKAGES.some((re) => re.test(spec)));
    expect(bad).toEqual([]);
  });
});
