// The bundle poll runs every 2 s by default: when the bytes are the ones already seen it must not
// parse them again (a YAML parse of the example bundle cost ~18 ms of main-thread time per poll).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBundleFiles } from '../../sidecar/bundle/files.js';

describe('readBundleFiles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helm-bundle-files-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('parses changed bytes and skips the parse of bytes it has seen', async () => {
    const files = { bundle: join(dir, 'bundle.yaml'), signature: join(dir, 'bundle.sig') };
    await writeFile(files.bundle, 'kind: [unclosed');
    await writeFile(files.signature, '{}');
    const first = await readBundleFiles(files, null);
    expect(first).toMatchObject({ ok: false, code: 'BUNDLE_INVALID' });
    // Same bytes: answered from the fingerprint alone; a parse would report BUNDLE_INVALID again.
    expect(await readBundleFiles(files, first.fingerprint)).toEqual({ ok: 'unchanged', fingerprint: first.fingerprint });
    // A change in either file is read and parsed.
    await writeFile(files.signature, 'not json');
    const changed = await readBundleFiles(files, first.fingerprint);
    expect(changed.ok).toBe(false);
    expect(changed.fingerprint).not.toBe(first.fingerprint);
  });
});
