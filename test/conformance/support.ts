// A conformance kit on a temp directory with free loopback ports, the sidecar under test started
// from its sidecar.yaml (as a `helmctl serve` process, or in-process so a test can patch the
// kernel it runs), and helmctl conformance run against it.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as helmctl } from '../../cli/helmctl.js';
import { helmctlPath, initKit } from '../../conformance/kit.js';
import type { SignedReport } from '../../conformance/report.js';
import { freePort } from '../../scripts/harden/sidecar-proc.js';
import { loadConfig } from '../../sidecar/config/load.js';
import { GuardianSidecar } from '../../sidecar/guardian-sidecar.js';
import { memoryLogger } from '../../sidecar/log.js';

export interface Lab {
  dir: string;
  /** A shell command that SIGKILLs the sidecar and starts it again (process labs only). */
  crashCommand?: string;
  kit: string;
  reportKey: string;
  governedUrl: string;
  adminUrl: string;
  stop(): Promise<void>;
}

export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await helmctl(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

async function prepare(): Promise<{ dir: string; kit: string; reportKey: string; listen: string; admin: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'helm-conformance-test-'));
  const kit = join(dir, 'kit');
  const [g, a, m] = [await freePort(), await freePort(), await freePort()];
  await initKit(kit, { listen: `127.0.0.1:${g}`, adminListen: `127.0.0.1:${a}`, modelListen: `127.0.0.1:${m}` });
  const reportKey = join(dir, 'report.key');
  const k = await cli(['keygen', '--type', 'root', '--name', 'helm-conformance/report-signer', '--out', reportKey]);
  if (k.code !== 0) throw new Error(k.err);
  return { dir, kit, reportKey, listen: `127.0.0.1:${g}`, admin: `127.0.0.1:${a}` };
}

/** The real sidecar: `helmctl serve --config KIT/sidecar.yaml` as a child process (dist/). */
export async function startProcessLab(): Promise<Lab> {
  const p = await prepare();
  const pidFile = join(p.dir, 'sidecar.pid');
  const logFile = join(p.dir, 'sidecar.log');
  const serve = `${JSON.stringify(process.execPath)} ${JSON.stringify(helmctlPath)} serve --config ${JSON.stringify(join(p.kit, 'sidecar.yaml'))}`;
  const child = spawn(process.execPath, [helmctlPath, 'serve', '--config', join(p.kit, 'sidecar.yaml')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HELM_LOG_LEVEL: 'warn' } });
  await writeFile(pidFile, String(child.pid));
  let log = '';
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  const admin = `http://${p.admin}`;
  for (let t0 = Date.now(); ; ) {
    if (child.exitCode !== null) throw new Error(`helmctl serve exited ${child.exitCode}: ${log}`);
    if (Date.now() - t0 > 60_000) throw new Error(`helmctl serve was not ready in 60 s: ${log}`);
    if (await fetch(`${admin}/readyz`).then((r) => r.status === 200, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    dir: p.dir,
    kit: p.kit,
    reportKey: p.reportKey,
    governedUrl: `http://${p.listen}`,
    adminUrl: admin,
    // SIGKILL returns before the process is gone: wait (up to 10 s) until its pid is, or the new
    // sidecar finds the store's LOCK held by a pid still running (ERR_STORE_LOCKED) and exits.
    crashCommand: `pid="$(cat ${pidFile})" && kill -9 "$pid" && for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done && (HELM_LOG_LEVEL=warn ${serve} >/dev/null 2>>${logFile} & echo $! > ${pidFile})`,
    stop: async () => {
      const pid = Number(await readFile(pidFile, 'utf8'));
      if (pid === child.pid) {
        child.kill('SIGTERM');
        await exited;
      } else {
        // The restarted sidecar is not our child: signal it and wait until it is gone.
        try {
          process.kill(pid, 'SIGTERM');
          for (let t0 = Date.now(); Date.now() - t0 < 30_000; ) {
            process.kill(pid, 0);
            await new Promise((r) => setTimeout(r, 100));
          }
        } catch {
          // gone
        }
      }
      await rm(p.dir, { recursive: true, force: true });
    },
  };
}

/** The same sidecar in this process, so a test can patch the kernel classes it uses first. */
export async function startInProcessLab(): Promise<Lab> {
  const p = await prepare();
  const { config } = await loadConfig(['--config', join(p.kit, 'sidecar.yaml')], {});
  const sidecar = await GuardianSidecar.start({ config, log: memoryLogger(), env: {} });
  const t0 = Date.now();
  while ((await fetch(`${sidecar.adminUrl}/readyz`)).status !== 200) {
    if (Date.now() - t0 > 30_000) throw new Error('the in-process sidecar did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    dir: p.dir,
    kit: p.kit,
    reportKey: p.reportKey,
    governedUrl: sidecar.governedUrl,
    adminUrl: sidecar.adminUrl,
    stop: async () => {
      await sidecar.stop();
      await rm(p.dir, { recursive: true, force: true });
    },
  };
}

export async function runAgainst(lab: Lab, level: string): Promise<{ code: number; report: SignedReport; out: string; err: string; reportFile: string }> {
  const reportFile = join(lab.dir, `report-${level}.json`);
  const crash = lab.crashCommand ? ['--crash-command', lab.crashCommand] : [];
  const r = await cli(['conformance', '--level', level, '--target', lab.governedUrl, '--admin', lab.adminUrl, '--kit', lab.kit, '--key', lab.reportKey, '--out', reportFile, ...crash]);
  let report: SignedReport;
  try {
    report = JSON.parse(await readFile(reportFile, 'utf8')) as SignedReport;
  } catch {
    throw new Error(`no report (exit ${r.code}): ${r.err}${r.out}`);
  }
  return { ...r, report, reportFile };
}

export const failedIds = (r: SignedReport) => r.requirements.filter((q) => q.status === 'fail').map((q) => q.id);
