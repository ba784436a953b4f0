// The durable ProofGraph log store (format: docs/spec/store.md).
export { LogWriter, type LogWriterOptions, type LogWriterStats, type RecoveryReport } from './log-writer.js';
export { readLog, readStore, type StoredLog } from './reader.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export { DEFAULT_SEGMENT_MAX_BYTES, MAX_PAYLOAD_BYTES, segmentFileName } from './format.js';
