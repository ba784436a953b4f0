// The manifest's file list against the archive: exactly the files present (besides the two manifest
// files), each with the listed SHA-256 and size; and every log directory accounted for. Portable.
import { toHex } from '../crypto/bytes.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { classifyMember, MANIFEST_DSSE_PATH, MANIFEST_PATH } from './layout.js';
import type { Manifest } from './manifest.js';
import type { Findings } from './problems.js';

export function checkFiles(suite: CryptoSuite, files: ReadonlyMap<string, Uint8Array>, manifest: Manifest, f: Findings): void {
  const listed = new Map(manifest.files.map((x) => [x.path, x]));
  for (const x of manifest.files) {
    if (x.path === MANIFEST_PATH || x.path === MANIFEST_DSSE_PATH) {
      f.problem('ERR_MANIFEST_SCHEMA', MANIFEST_PATH, `the manifest lists ${x.path}, which it must not`);
      continue;
    }
    const data = files.get(x.path);
    if (!data) {
      f.problem('ERR_MANIFEST_FILE_MISSING', x.path, 'listed in the manifest but not in the pack');
      continue;
    }
    if (data.length !== x.size) f.problem('ERR_MANIFEST_FILE_DIGEST', x.path, `file is ${data.length} bytes; the manifest says ${x.size}`);
    else if (toHex(suite.sha256(data)) !== x.sha256) f.problem('ERR_MANIFEST_FILE_DIGEST', x.path, 'file SHA-256 differs from the manifest: the file was changed after export');
  }
  const dirs = new Set(manifest.logs.map((l) => l.dir));
  for (const path of files.keys()) {
    if (path === MANIFEST_PATH || path === MANIFEST_DSSE_PATH) continue;
    if (!listed.has(path)) f.problem('ERR_MANIFEST_FILE_UNLISTED', path, 'file is in the pack but not in the manifest');
    const m = classifyMember(path);
    if (m && 'dir' in m && !dirs.has(m.dir)) f.problem('ERR_PACK_UNEXPECTED_FILE', path, `file belongs to log ${m.dir}, which the manifest does not list`);
  }
}
