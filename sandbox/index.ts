// The sandbox runtime: a WasiEngine plus the kernel's runCompute with node:crypto's sha256.
import { createHash } from 'node:crypto';
import { runCompute, type ComputeOutcome, type ComputeRequest, type Sha256 } from '../kernel/sandbox/index.js';
import { WasiEngine, type EngineOptions } from './engine.js';

export { WasiEngine, WASI_FUNCTIONS, type EngineOptions, type EngineStats } from './engine.js';
export { meterModule, MeterError } from './meter.js';

export const nodeSha256: Sha256 = (data) => createHash('sha256').update(data).digest();

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A sandbox: run() never throws; close() stops its Workers. */
export class Sandbox {
  readonly engine: WasiEngine;
  constructor(options: EngineOptions = {}) {
    this.engine = new WasiEngine(options);
  }
  run(request: ComputeRequest): Promise<ComputeOutcome> {
    return runCompute(this.engine, request, nodeSha256);
  }
  close(): Promise<void> {
    return this.engine.close();
  }
}
