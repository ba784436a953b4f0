// Opens a pack for inspection: gunzip with an output cap, then the safe tar reader restricted to the
// v1 layout. Nothing is written to disk. Portable.
import { gunzip, type Gunzip } from './gzip-portable.js';
import { acceptMember } from './layout.js';
import { withDefaults, type PackLimits } from './limits.js';
import { readTar } from './tar.js';

/** Slack for tar headers and padding on top of the member byte limit. */
function tarCap(l: PackLimits): number {
  return l.maxTotalBytes + (l.maxEntries + 4) * 1024;
}

/** Member path -> bytes. Throws PackError. */
export function openPack(bytes: Uint8Array, limits?: Partial<PackLimits>, inflate: Gunzip = gunzip): Map<string, Uint8Array> {
  const l = withDefaults(limits);
  const tar = inflate(bytes, tarCap(l));
  const files = new Map<string, Uint8Array>();
  for (const f of readTar(tar, { limits: l, accept: acceptMember })) files.set(f.path, f.data);
  return files;
}
