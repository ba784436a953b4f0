// kernel/sandbox is trusted core: pure, no clock, randomness, I/O or runtime imports.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/shared.js';

describe('purity of kernel/sandbox', () => {
  const dir = join(repoRoot, 'kernel', 'sandbox');
  const files = readdirSync(dir).filter((n) => n.endsWith('.ts'));
  it('has files to check', () => expect(files.length).toBeGreaterThan(2));
  it.each(files)('%s reads no clock, randomness, environment or I/O and imports only kernel/crypto', (name) => {
    const src = readFileSync(join(dir, name), 'utf8');
    expect(src).not.toMatch(/from ['"]node:/);
    expect(src).not.toMatch(/\bDate\.now\(|new Date\(\)|Math\.random|performance\.now|crypto\.getRandomValues|\bprocess\.|\brequire\(|setTimeout|\bWorker\b/);
    for (const m of src.matchAll(/from ['"]([^'"]+)['"]/g)) expect(m[1]).toMatch(/^(\.\/[a-z-]+\.js|\.\.\/crypto\/[a-z-]+\.js)$/);
  });
});
