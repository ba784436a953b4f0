// The Go SDK (sdk/go) against a live helmctl serve: `go test` runs its vector suites and its live
// test (governance of an allowed, a denied and an escalated call; the approval signed in Go and
// accepted by the sidecar; each receipt verified offline). Needs `npm run build` first.
import { existsSync } from 'node:fs';
import { vectorsDir } from '../support/shared.js';
import { useLiveSidecar } from '../sdk/live-sidecar.js';
import { describeWithToolchain, run, sdkDir, toolVersion } from './native.js';

const go = toolVersion('go', ['version']);

describeWithToolchain('Go', go !== null, 'apt-get install -y golang-go (Go >= 1.19; the SDK needs only the standard library)')('Go SDK', () => {
  const live = useLiveSidecar({ mcp: true });

  it('passes its vectors and drives the live sidecar (allowed, denied, approved, verified offline)', async () => {
    const r = await run('go', ['test', '-count=1', '-v', './...'], sdkDir('go'), { ...live().env(), GOPROXY: 'off', GOFLAGS: '-mod=mod' });
    if (r.code !== 0) throw new Error(`go test failed (${go}):\n${r.out}\n--- sidecar log ---\n${live().stderr()}`);
    expect(r.out).toMatch(/--- PASS: TestLiveSidecar/);
    expect(r.out).toMatch(/live: 7 receipts verified offline \(3 from the MCP gateway\)/);
    expect(r.out).toMatch(/--- PASS: TestSpecNegativeVectorsFailWithTheirCode/);
    expect(r.out).not.toMatch(/--- FAIL/);
    // The JCS and Wycheproof suites run whenever ../shared/vectors is there (they skip with a message otherwise).
    if (existsSync(vectorsDir)) expect(r.out).not.toMatch(/--- SKIP/);
  }, 600_000);
});
