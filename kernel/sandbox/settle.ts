// Settlement: the engine's raw report becomes an outcome or a refusal with a registered code.
// Anything the engine reports that is not well formed, or that breaks a limit the engine should
// have enforced, is refused: the kernel does not trust the engine to be right (fail closed).
import { toHex } from '../crypto/bytes.js';
import type { Sha256 } from './admit.js';
import { COMPUTE_CODES, type ComputeCode, type ComputeJob, type ComputeOutcome, type ComputeUsage, type EngineReport, type EngineStop } from './types.js';

const STOP_CODES: Record<EngineStop, ComputeCode> = {
  gas: COMPUTE_CODES.gas,
  time: COMPUTE_CODES.time,
  memory: COMPUTE_CODES.memory,
  output: COMPUTE_CODES.output,
  capability: COMPUTE_CODES.capability,
  guest: COMPUTE_CODES.guest,
};

function stopMessage(stop: EngineStop, job: ComputeJob, detail: string): string {
  const l = job.limits;
  switch (stop) {
    case 'gas': return `limits.gas: the module used its ${l.gas} instructions; raise limits.gas in the sandbox profile or send a smaller input`;
    case 'time': return `limits.wallMs: the module ran past ${l.wallMs} ms and was killed; raise limits.wallMs or fix the module`;
    case 'memory': return `limits.memoryPages: the module needed more than ${l.memoryPages} pages of 64 KiB (${detail}); raise limits.memoryPages`;
    case 'output': return `limits.outputBytes: the module wrote more than ${l.outputBytes} bytes to stdout; raise limits.outputBytes`;
    case 'capability': return `grants: the module used ${detail}, which the sandbox profile does not grant`;
    case 'guest': return `module: the guest faulted (${detail})`;
  }
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

export function settleCompute(job: ComputeJob, report: EngineReport, sha256: Sha256): ComputeOutcome {
  const engineFault = (why: string): ComputeOutcome => ({ ok: false, reasonCode: COMPUTE_CODES.engine, message: `engine: ${why}; the call is refused (fail closed)` });
  if (!report || typeof report !== 'object') return engineFault('no report');
  if (report.kind === 'refused') {
    const code = report.refusal === 'instantiation' ? COMPUTE_CODES.instantiation : COMPUTE_CODES.engine;
    const what = report.refusal === 'instantiation' ? 'module: cannot be loaded' : 'engine: failed';
    return { ok: false, reasonCode: code, message: `${what} (${String(report.detail)})` };
  }
  if (!isCount(report.gas) || !isCount(report.wallMs) || !isCount(report.peakMemoryPages)) return engineFault('malformed usage in the report');
  if (report.kind === 'stopped') {
    const code = STOP_CODES[report.stop];
    if (!code || !isCount(report.outputBytes)) return engineFault(`unknown stop ${String(report.stop)}`);
    const usage: ComputeUsage = { gas: report.gas, wallMs: report.wallMs, peakMemoryPages: report.peakMemoryPages, outputBytes: report.outputBytes };
    return { ok: false, reasonCode: code, message: stopMessage(report.stop, job, String(report.detail)), usage };
  }
  if (report.kind !== 'exit' || !(report.stdout instanceof Uint8Array)) return engineFault('unknown report kind');
  const usage: ComputeUsage = { gas: report.gas, wallMs: report.wallMs, peakMemoryPages: report.peakMemoryPages, outputBytes: report.stdout.length };
  // An engine that let a limit slip is not believed: the limit's own code, as if it had stopped.
  if (usage.gas > job.limits.gas) return { ok: false, reasonCode: COMPUTE_CODES.gas, message: stopMessage('gas', job, ''), usage };
  if (usage.peakMemoryPages > job.limits.memoryPages) return { ok: false, reasonCode: COMPUTE_CODES.memory, message: stopMessage('memory', job, `peak ${usage.peakMemoryPages}`), usage };
  if (usage.outputBytes > job.limits.outputBytes) return { ok: false, reasonCode: COMPUTE_CODES.output, message: stopMessage('output', job, ''), usage };
  if (report.exitCode !== 0) return { ok: false, reasonCode: COMPUTE_CODES.guest, message: stopMessage('guest', job, `exit status ${report.exitCode}`), usage };
  return { ok: true, output: report.stdout, outputDigest: toHex(sha256(report.stdout)), usage };
}
