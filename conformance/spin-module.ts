// The one module the conformance kit adds beside examples/sandbox/csv2json.wasm: a WASI command
// that loops forever. csv2json cannot exhaust a wall-time limit within the arguments a receipt can
// hold (linear, well under 1 ms for the largest input), so L2-SANDBOX-LIMITS proves the wall-time
// kill with this runaway guest instead. Bytes: wabt's wat2wasm of SPIN_WAT (test/conformance/catalog.test.ts checks it).
export const SPIN_MODULE = 'spin.wasm';

export const SPIN_WAT = `(module
  (memory (export "memory") 1)
  (func (export "_start") (loop $forever (br $forever))))`;

export const SPIN_WASM = new Uint8Array(Buffer.from('AGFzbQEAAAABBAFgAAADAgEABQMBAAEHEwIGbWVtb3J5AgAGX3N0YXJ0AAAKCQEHAANADAALCw==', 'base64'));
