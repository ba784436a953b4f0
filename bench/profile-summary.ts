// Where a V8 CPU profile (node --cpu-prof) spent its time: self time by function and by source
// area (kernel/..., sidecar/..., a package under node_modules, node: internals, GC, idle), as JSON.
// Run: node dist/bench/profile-summary.js <file.cpuprofile> [--top N]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The area a script URL belongs to: a package, a first-level folder of ours, or node internals. */
export function areaOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const ours = /\/dist\/([^/]+\/[^/]+)/.exec(url);
  return ours ? ours[1]!.replace(/\.js$/, '') : url;
}

export function summarizeProfile(p: CpuProfile, top = 25) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const file = n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/');
    const key = `${name} ${file}:${n.callFrame.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const area = areaOf(n.callFrame.url, name);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ what: k, ms: Math.round(us / 100) / 10, share: Math.round((us / total) * 1000) / 10 }));
  return { busyMs: Math.round(total / 1000), idleMs: Math.round(idle / 1000), areas: rank(areas), functions: rank(fns) };
}

if (process.argv[1]?.endsWith('profile-summary.js')) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile-summary.js <file.cpuprofile> [--top N]\n');
    process.exit(2);
  }
  const i = process.argv.indexOf('--top');
  console.log(JSON.stringify(summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, i > 0 ? Number(process.argv[i + 1]) : 25), null, 1));
}
