// The logs of a ProofGraph volume for `helmctl export`: every directory holding a LOG file, at any
// depth up to <namespace>/<pod>/<boot> (the certified layout, docs/sidecar.md §Identity) — or the
// directory itself when --store names one log. Each gets a pack directory name (its path under
// the store with '/' turned into '_'; Kubernetes names never hold '_') and, in the certified
// layout, the namespace and pod it belongs to for --namespace / --pod.
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { readLog, type StoredLog } from '../kernel/proofgraph/store/index.js';
import { ExportError } from '../kernel/evidence/window.js';

export interface FoundLog extends StoredLog {
  /** Path under the store ('' when the store is the log itself). */
  path: string;
  namespace: string | null;
  pod: string | null;
}

const MAX_DEPTH = 3;

async function isLog(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, 'LOG'))).isFile();
  } catch {
    return false;
  }
}

async function walk(dir: string, depth: number, out: string[]): Promise<void> {
  if (await isLog(dir)) {
    out.push(dir);
    return;
  }
  if (depth === MAX_DEPTH) return;
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (e) {
    throw new ExportError('ERR_EXPORT_IO', `cannot list ${dir}: ${(e as Error).message}`);
  }
  for (const n of names.sort()) await walk(join(dir, n), depth + 1, out);
}

/** Pack directory names are at most 128 characters: a longer path keeps its start and gets a digest of the whole. */
function packDirName(name: string): string {
  if (name.length <= 128) return name;
  return `${name.slice(0, 111)}-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

export async function findLogs(store: string): Promise<FoundLog[]> {
  const dirs: string[] = [];
  await walk(store, 0, dirs);
  const logs: FoundLog[] = [];
  for (const dir of dirs) {
    const path = relative(store, dir).split(sep).join('/');
    const parts = path === '' ? [] : path.split('/');
    const log = await readLog(dir);
    const packDir = parts.length === 0 ? log.writerId : packDirName(parts.join('_'));
    logs.push({ ...log, writerId: packDir, path, namespace: parts.length === 3 ? parts[0]! : null, pod: parts.length === 3 ? parts[1]! : parts.length === 1 ? parts[0]! : parts.length === 0 ? log.writerId : null });
  }
  return logs;
}

/** --namespace and --pod: certified-layout logs by their path; a flat log is its pod's (writer id = pod name) but has no namespace. */
export function selectLogs(logs: readonly FoundLog[], sel: { namespace?: string; pod?: string }): FoundLog[] {
  return logs.filter((l) => (sel.namespace === undefined || l.namespace === sel.namespace) && (sel.pod === undefined || l.pod === sel.pod));
}
