// Failures of the PEP itself (not verdicts: those are reason codes). Each carries a code and the
// context to act on.
export type PepErrorCode = 'ERR_PEP_LOG_MISMATCH' | 'ERR_PEP_CLOSED';

export class PepError extends Error {
  constructor(
    readonly code: PepErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PepError';
  }
}
