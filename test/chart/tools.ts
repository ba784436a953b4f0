// helm and kubectl for the chart and webhook suites: from scripts/fetch-helm.sh's cache, else from
// PATH. Without them those suites say so and skip; under CI (which runs fetch-helm.sh) a missing
// tool is an error, so a broken fetch cannot turn into silently skipped tests.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/shared.js';

const cacheDir = process.env.HELM_TOOLS_DIR ?? join(repoRoot, 'node_modules', '.cache', 'helm-tools');

function find(name: 'helm' | 'kubectl'): string | undefined {
  const cached = join(cacheDir, name);
  if (existsSync(cached)) return cached;
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export const helmBin = find('helm');
export const kubectlBin = find('kubectl');

function describeWith(tool: string, bin: string | undefined): jest.Describe {
  if (bin) return describe;
  if (process.env.CI) throw new Error(`${tool} not found in ${cacheDir} or on PATH under CI: run scripts/fetch-helm.sh`);
  console.warn(`[helm] ${tool} not found (run scripts/fetch-helm.sh): suites that need it are skipped`);
  return describe.skip as jest.Describe;
}

export const describeWithHelm: jest.Describe = describeWith('helm', helmBin);
export const describeWithKubectl: jest.Describe = describeWith('kubectl', kubectlBin);

/** promtool (Debian package `prometheus`; CI installs it). */
function findPromtool(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
export const promtoolBin = findPromtool();
export const describeWithPromtool: jest.Describe = describeWith('promtool', promtoolBin);
