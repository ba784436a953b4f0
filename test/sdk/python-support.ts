// The Python SDK's tests need python3 with cryptography, httpx and pytest (Debian: python3-cryptography,
// python3-httpx, python3-pytest; .ci/run installs them). The first interpreter that has all three
// wins (HELM_PYTHON first, then python3 on PATH, then /usr/bin/python3: a pyenv python3 may lack
// them). Without one the suite says how to install them and skips, like go-support.ts.
import { spawnSync } from 'node:child_process';

const candidates = [process.env.HELM_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);

function usable(py: string): boolean {
  const r = spawnSync(py, ['-c', 'import cryptography, httpx, pytest'], { encoding: 'utf8' });
  return r.status === 0;
}

export const python = candidates.find(usable) ?? null;

if (python === null) {
  console.warn(
    `[helm] Python SDK tests skipped: no python3 with cryptography, httpx and pytest (tried ${candidates.join(', ')}). Install with: apt-get update && apt-get install -y python3 python3-cryptography python3-httpx python3-pytest (or set HELM_PYTHON)`,
  );
}

/** describe() when such a python3 exists, otherwise a skipped suite that says why. */
export const describeWithPython: jest.Describe = python !== null ? describe : (describe.skip as jest.Describe);
