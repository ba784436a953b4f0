// runCompute: admit, execute on the injected engine, settle. Never throws: an engine that throws
// or rejects gives ERR_COMPUTE_ENGINE_FAILURE, so every call ends in an outcome to receipt.
import { admitCompute, type Sha256 } from './admit.js';
import { settleCompute } from './settle.js';
import { COMPUTE_CODES, type ComputeEngine, type ComputeOutcome, type ComputeRequest, type EngineReport } from './types.js';

export * from './types.js';
export { admitCompute, LIMIT_CEILINGS, type Sha256 } from './admit.js';
export { settleCompute } from './settle.js';

export async function runCompute(engine: ComputeEngine, request: ComputeRequest, sha256: Sha256): Promise<ComputeOutcome> {
  let job;
  try {
    job = admitCompute(request, sha256);
  } catch (e) {
    return { ok: false, reasonCode: COMPUTE_CODES.request, message: `request: ${(e as Error).message}` };
  }
  if ('ok' in job) return job;
  let report: EngineReport;
  try {
    report = await engine.execute(job);
  } catch (e) {
    return { ok: false, reasonCode: COMPUTE_CODES.engine, message: `engine: ${(e as Error)?.message ?? String(e)}; the call is refused (fail closed)` };
  }
  try {
    return settleCompute(job, report, sha256);
  } catch (e) {
    return { ok: false, reasonCode: COMPUTE_CODES.engine, message: `engine: unreadable report (${(e as Error).message})` };
  }
}
