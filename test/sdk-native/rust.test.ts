// The Rust SDK (sdk/rust) against a live helmctl serve: `cargo test --offline` (Debian's crates,
// sdk/rust/.cargo/config.toml) runs its vector suites and its live test. Debian's toolchain in
// /usr/bin (rustc 1.63) is preferred over a rustup one on PATH. Needs `npm run build` first.
import { existsSync } from 'node:fs';
import { vectorsDir } from '../support/shared.js';
import { useLiveSidecar } from '../sdk/live-sidecar.js';
import { describeWithToolchain, run, sdkDir, toolVersion } from './native.js';

const PATH = existsSync('/usr/bin/cargo') ? `/usr/bin:${process.env.PATH ?? ''}` : (process.env.PATH ?? '');
const cargo = toolVersion('env', [`PATH=${PATH}`, 'cargo', '--version']);
const crates = existsSync('/usr/share/cargo/registry/ring-0.16.20');

describeWithToolchain('Rust', cargo !== null && crates, 'apt-get install -y cargo librust-ring-dev librust-serde-json-dev librust-sha2-dev librust-base64-dev')('Rust SDK', () => {
  const live = useLiveSidecar({ mcp: true });

  it('passes its vectors and drives the live sidecar (allowed, denied, approved, verified offline)', async () => {
    const r = await run('cargo', ['test', '--offline', '--', '--nocapture'], sdkDir('rust'), { ...live().env(), PATH });
    if (r.code !== 0) throw new Error(`cargo test failed (${cargo}):\n${r.out}\n--- sidecar log ---\n${live().stderr()}`);
    expect(r.out).toMatch(/live_sidecar: 7 receipts verified offline \(3 from the MCP gateway\)/);
    expect(r.out).toMatch(/test spec_negative_vectors_fail_with_their_code \.\.\. ok/);
    expect(r.out).not.toMatch(/FAILED/);
    // The JCS and Wycheproof suites run whenever ../shared/vectors is there (they skip with a message otherwise).
    if (existsSync(vectorsDir)) expect(r.out).not.toMatch(/third-party vectors skipped/);
  }, 900_000);
});
