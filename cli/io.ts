// What a command needs from its surroundings, so tests run commands in-process.
export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

export const EXIT_OK = 0;
/** Verification ran and the evidence is invalid. */
export const EXIT_INVALID = 1;
/** Usage error, unreadable input, or anything that stopped the command from giving a verdict. */
export const EXIT_ERROR = 2;

/** Bad command line: the caller prints the message and the command's usage. */
export class UsageError extends Error {}

/** A failure that is not a verdict (missing file, bad key file): exit 2 with this message. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 'ERR_CLI',
  ) {
    super(message);
  }
}
