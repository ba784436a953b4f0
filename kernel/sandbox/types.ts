// The compute sandbox as the kernel sees it: a pinned module, an input, limits and grants go in;
// an outcome with its usage, or a refusal with a registered reason code, comes out. The engine
// that runs the module lives outside kernel/ (sandbox/) behind the ComputeEngine interface.

/** Reason codes of the sandbox (registered in kernel/guardian/reason-codes.ts). */
export const COMPUTE_CODES = {
  gas: 'ERR_COMPUTE_GAS_EXHAUSTED',
  time: 'ERR_COMPUTE_TIME_EXHAUSTED',
  memory: 'ERR_COMPUTE_MEMORY_EXHAUSTED',
  output: 'ERR_COMPUTE_OUTPUT_EXHAUSTED',
  moduleMismatch: 'ERR_COMPUTE_MODULE_MISMATCH',
  instantiation: 'ERR_COMPUTE_INSTANTIATION_FAILED',
  engine: 'ERR_COMPUTE_ENGINE_FAILURE',
  capability: 'ERR_COMPUTE_CAPABILITY_DENIED',
  guest: 'ERR_COMPUTE_GUEST_FAULT',
  request: 'ERR_COMPUTE_REQUEST_INVALID',
} as const;
export type ComputeCode = (typeof COMPUTE_CODES)[keyof typeof COMPUTE_CODES];

/** A WebAssembly module and the sha256 (lowercase hex) it is pinned to. */
export interface ComputeModule {
  readonly bytes: Uint8Array;
  readonly sha256: string;
}

/** Raw bytes on stdin, or a JSON value delivered on stdin as its RFC 8785 canonical text. */
export type ComputeInput = { readonly bytes: Uint8Array } | { readonly json: unknown };

export interface ComputeLimits {
  /** Instructions the guest may execute (counted per basic block by the load-time meter). */
  readonly gas: number;
  /** Wall-clock milliseconds before the guest is killed. */
  readonly wallMs: number;
  /** Linear-memory ceiling in 64 KiB pages (initial size included). */
  readonly memoryPages: number;
  /** Bytes the guest may write to stdout. */
  readonly outputBytes: number;
}

export interface PreopenGrant {
  /** The directory name the guest sees (e.g. "/data"). */
  readonly guestPath: string;
  /** The host directory behind it. */
  readonly hostPath: string;
  readonly mode: 'ro' | 'rw';
}

/** Everything is denied unless granted here. There is no socket grant: sockets are never offered. */
export interface ComputeGrants {
  readonly preopens: readonly PreopenGrant[];
  readonly env: Readonly<Record<string, string>>;
  readonly clock: boolean;
  readonly random: boolean;
}

export interface ComputeRequest {
  readonly module: ComputeModule;
  readonly input: ComputeInput;
  /** argv[1..]; argv[0] is always "tool". */
  readonly args?: readonly string[];
  readonly limits: ComputeLimits;
  readonly grants: ComputeGrants;
}

export interface ComputeUsage {
  readonly gas: number;
  readonly wallMs: number;
  readonly peakMemoryPages: number;
  readonly outputBytes: number;
}

export interface ComputeSuccess {
  readonly ok: true;
  readonly output: Uint8Array;
  /** sha256 (lowercase hex) of output: what a RESULT node records and replay compares. */
  readonly outputDigest: string;
  readonly usage: ComputeUsage;
}

export interface ComputeRefusal {
  readonly ok: false;
  readonly reasonCode: ComputeCode;
  /** Names the field or limit and the fix. */
  readonly message: string;
  /** Present when the guest ran (a limit was hit or it faulted): what it consumed. */
  readonly usage?: ComputeUsage;
}

export type ComputeOutcome = ComputeSuccess | ComputeRefusal;

/** What the kernel hands the engine after admission: hash checked, input encoded. */
export interface ComputeJob {
  readonly moduleSha256: string;
  readonly moduleBytes: Uint8Array;
  readonly stdin: Uint8Array;
  readonly args: readonly string[];
  readonly limits: ComputeLimits;
  readonly grants: ComputeGrants;
}

/** Why a guest stopped early, as the engine observed it. */
export type EngineStop = 'gas' | 'time' | 'memory' | 'output' | 'capability' | 'guest';

/** The engine's raw report; the kernel turns it into an outcome (settle.ts). */
export type EngineReport =
  | { readonly kind: 'exit'; readonly exitCode: number; readonly stdout: Uint8Array; readonly gas: number; readonly wallMs: number; readonly peakMemoryPages: number }
  | { readonly kind: 'stopped'; readonly stop: EngineStop; readonly detail: string; readonly gas: number; readonly wallMs: number; readonly peakMemoryPages: number; readonly outputBytes: number }
  | { readonly kind: 'refused'; readonly refusal: 'instantiation' | 'engine'; readonly detail: string };

export interface ComputeEngine {
  execute(job: ComputeJob): Promise<EngineReport>;
}
