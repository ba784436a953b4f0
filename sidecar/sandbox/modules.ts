// Where the sidecar finds the modules sandboxed tools name: files under one directory (by default
// the bundle file's). Read per call (they are small and the engine caches the compiled module by
// its pinned sha256); the kernel refuses bytes that do not hash to the pin before any engine runs.
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';

export type ModuleRead = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly message: string };

export class ModuleStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async read(module: string): Promise<ModuleRead> {
    const path = resolve(this.dir, module);
    if (!path.startsWith(this.dir + sep)) return { ok: false, message: `module ${module} is outside the module directory ${this.dir}` };
    try {
      return { ok: true, bytes: new Uint8Array(await readFile(path)) };
    } catch (e) {
      return { ok: false, message: `module ${module} cannot be read from ${this.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; install the file the bundle pins or set --sandbox-module-dir` };
    }
  }
}
