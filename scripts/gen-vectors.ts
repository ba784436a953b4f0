// Writes docs/spec/schemas/, docs/spec/vectors/ and the precompiled schema validators (npm run vectors).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchemas, buildVectors } from './spec-artifacts.js';
import { GENERATED_VALIDATORS } from './validators.js';

const here = dirname(fileURLToPath(import.meta.url));
// Works from scripts/ (tsx) and from dist/scripts/ (compiled).
const repo = resolve(here, here.includes(`${'/'}dist${'/'}`) || here.endsWith('/dist/scripts') ? '../..' : '..');
for (const [dir, files] of [['schemas', buildSchemas()], ['vectors', buildVectors()]] as const) {
  const base = join(repo, 'docs', 'spec', dir);
  rmSync(base, { recursive: true, force: true });
  for (const [name, text] of files) {
    mkdirSync(dirname(join(base, name)), { recursive: true });
    writeFileSync(join(base, name), text);
  }
  console.log(`wrote ${files.size} files to ${base}`);
}
for (const g of GENERATED_VALIDATORS) {
  writeFileSync(join(repo, g.file), g.build());
  console.log(`wrote ${g.file}`);
}
