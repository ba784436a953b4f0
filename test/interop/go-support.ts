// The Go interop suite needs `go` and Debian's golang.org/x/mod sources (packages golang-go and
// golang-golang-x-mod-dev; .ci/run installs them). Where they are absent the suite says so and
// skips, like describeWithVectors; CI has them, so there it runs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const goPath = process.env.HELM_GOPATH ?? '/usr/share/gocode';
const xmod = join(goPath, 'src', 'golang.org', 'x', 'mod', 'sumdb');

function goVersion(): string | null {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export const goVersionText = goVersion();
const haveXmod = existsSync(join(xmod, 'note')) && existsSync(join(xmod, 'tlog'));
export const haveGo = goVersionText !== null && haveXmod;

if (!haveGo) {
  const missing = goVersionText === null ? '`go` is not on PATH' : `golang.org/x/mod is not under ${goPath}/src`;
  console.warn(
    `[helm] Go interop (I1-I3) skipped: ${missing}. Install with: apt-get update && apt-get install -y golang-go golang-golang-x-mod-dev (or set HELM_GOPATH)`,
  );
}

/** describe() when Go and x/mod are installed, otherwise a skipped suite that says why. */
export const describeWithGo: jest.Describe = haveGo ? describe : (describe.skip as jest.Describe);
