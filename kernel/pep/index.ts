// The Policy Enforcement Point (docs/spec/pep.md): Guardian + state + receipts.
export { Pep, type DecideOptions, type PepOptions } from './pep.js';
export { PepError, type PepErrorCode } from './errors.js';
export type { ApprovalResult, ApprovalRefusalCode } from './approve.js';
export { APPROVAL_DOMAIN, approvalMessage, signApproval, submissionProblem, verifyApproval, type ApprovalSubmission, type ApprovalTarget, type ApprovalVerdict } from './approval-message.js';
export { BlobStore, readBlobs, scanBlobFile, BLOB_FILE, MAX_BLOB_BYTES } from './blob-store.js';
export { callKey } from './request.js';
export type { Basis, BasisKind, Challenge, DecisionRecord, EffectOutcome, EffectReport, EscalationRecord, PepOutcome, PepRequest, RecordRefusalCode, ResultOutcome, ResultReport } from './types.js';
export { guardianReplayer, type ReplayerOptions } from './replay.js';
