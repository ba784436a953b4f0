// Opens a pack for inspection: a streaming gunzip with an output cap feeds the incremental tar
// reader restricted to the v1 layout, so only member contents (within the member and total limits)
// are ever held, whatever the compression ratio. Nothing is written to disk. Portable.
import { gunzipTo, type GunzipStream } from './gzip-portable.js';
import { acceptMember } from './layout.js';
import { withDefaults, type PackLimits } from './limits.js';
import { TarStream, type TarFile } from './tar.js';

/** Slack for tar headers, padding and end-of-archive blocks on top of the member byte limit. */
function tarCap(l: PackLimits): number {
  return l.maxTotalBytes + (l.maxEntries + 4) * 1024;
}

function toMap(files: TarFile[]): Map<string, Uint8Array> {
  return new Map(files.map((f) => [f.path, f.data]));
}

/** Member path -> bytes, with the portable (synchronous) gunzip. Throws PackError. */
export function openPack(bytes: Uint8Array, limits?: Partial<PackLimits>): Map<string, Uint8Array> {
  const l = withDefaults(limits);
  const tar = new TarStream({ limits: l, accept: acceptMember });
  gunzipTo(bytes, tarCap(l), (c) => tar.push(c));
  return toMap(tar.finish());
}

/** As openPack, with any streaming gunzip (the node verifier passes node:zlib's). Rejects with PackError. */
export async function openPackWith(bytes: Uint8Array, limits: Partial<PackLimits> | undefined, inflate: GunzipStream): Promise<Map<string, Uint8Array>> {
  const l = withDefaults(limits);
  const tar = new TarStream({ limits: l, accept: acceptMember });
  await inflate(bytes, tarCap(l), (c) => tar.push(c));
  return toMap(tar.finish());
}
