// Every failure of the store carries one of these codes plus the file, offset or holder involved,
// so an operator can act on the message alone.

export type StoreErrorCode =
  | 'ERR_STORE_LOCKED'
  | 'ERR_STORE_CORRUPT'
  | 'ERR_STORE_FAILED'
  | 'ERR_STORE_ORIGIN_MISMATCH'
  | 'ERR_STORE_CLOSED'
  | 'ERR_ENTRY_TOO_LARGE'
  | 'ERR_STORE_FREED'
  | 'ERR_STORE_IO';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** errno-style code of a Node system error, if any. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return errnoCode(err) ? `${errnoCode(err)}: ${err.message}` : err.message;
  return String(err);
}

/** Wraps an unexpected I/O failure (not a corruption finding) with the operation and path. */
export function ioError(op: string, path: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  return new StoreError('ERR_STORE_IO', `${op} ${path}: ${describeError(err)}`, { op, path, errno: errnoCode(err), cause: err });
}

export function corrupt(file: string, offset: number, problem: string, extra?: Record<string, unknown>): StoreError {
  return new StoreError('ERR_STORE_CORRUPT', `${file}: at byte offset ${offset}: ${problem}`, { file, offset, problem, ...extra });
}
