// Errors raised while reading or writing the pack container (gzip + tar + layout). Every one names
// the archive member it is about, so a report can point at it.

export type PackErrorCode =
  /** The bytes are not a gzip stream at all. */
  | 'ERR_PACK_NOT_GZIP'
  /** Broken gzip or tar structure: bad header, truncated stream, trailing data, bad checksum. */
  | 'ERR_PACK_MALFORMED'
  /** A member name that could escape the extraction directory or is outside the pack layout. */
  | 'ERR_PACK_UNSAFE_PATH'
  /** A member that is not a regular file or directory: link, device, FIFO, pax or GNU extension. */
  | 'ERR_PACK_UNSAFE_ENTRY'
  /** The same path twice. */
  | 'ERR_PACK_DUPLICATE_PATH'
  /** Entry count, file size or total size above the configured limit (a zip bomb, for instance). */
  | 'ERR_PACK_LIMIT';

export class PackError extends Error {
  constructor(
    readonly code: PackErrorCode,
    message: string,
    /** The member (or "<gzip>" / "<tar>" for the container itself). */
    readonly path: string,
  ) {
    super(message);
  }
}

/** Container-level codes: the archive could not be read at all (the CLI exits 2 for these). */
export function isUnreadable(code: string): boolean {
  return code === 'ERR_PACK_NOT_GZIP' || code === 'ERR_PACK_MALFORMED' || code === 'ERR_PACK_LIMIT';
}
