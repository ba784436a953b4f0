// The mutation test of the runner: against each deliberately broken kernel (broken-kernels.ts)
// helmctl conformance must exit 1 and name the requirement the breakage violates. A control run
// against the unpatched in-process sidecar passes, so the failures come from the patches alone.
import { BROKEN_KERNELS } from './broken-kernels.js';
import { failedIds, runAgainst, startInProcessLab } from './support.js';

async function runAt(level: string, patch?: () => () => void) {
  const undo = patch?.();
  const lab = await startInProcessLab().catch((e: unknown) => {
    undo?.();
    throw e;
  });
  try {
    return await runAgainst(lab, level);
  } finally {
    await lab.stop();
    undo?.();
  }
}

it('control: the unpatched in-process sidecar passes L2 (without --crash-command the key rotation and revocation are not applicable)', async () => {
  const r = await runAt('L2');
  expect(failedIds(r.report)).toEqual([]);
  for (const id of ['L2-TRUST-ROTATION', 'L2-TRUST-REVOCATION']) {
    expect(r.report.requirements.find((q) => q.id === id)).toMatchObject({ status: 'not-applicable', detail: [expect.stringMatching(/^no --crash-command/)] });
  }
  expect(r.code).toBe(0);
}, 120_000);

// Those that need --crash-command run in runner.test.ts, on its real sidecar process.
describe.each(BROKEN_KERNELS.filter((b) => !b.needsCrashCommand).map((b) => [b.name, b] as const))('against %s', (_name, broken) => {
  it(`fails ${broken.requirement} and exits 1`, async () => {
    const r = await runAt(broken.level, broken.patch);
    expect(failedIds(r.report)).toContain(broken.requirement);
    expect(r.report.ok).toBe(false);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`${broken.requirement}\\s+L\\d\\s+FAIL`));
  }, 120_000);
});
