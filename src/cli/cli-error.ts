/**
 * Errors the command line itself raises (as opposed to {@link EnsealError}s from the library).
 * Each carries a stable code, printed on stderr as `enseal: CODE: message`.
 *
 * @module
 */

/** Stable codes of command-line errors. */
export type CliErrorCode =
  /** Bad command line: unknown command or option, missing or malformed argument. Exit 2. */
  | 'ERR_USAGE'
  /** A key file (AES or RSA) is missing, unreadable or malformed. Exit 2. */
  | 'ERR_KEYFILE'
  /** `keygen` refused to overwrite an existing file. Exit 1. */
  | 'ERR_EXISTS'
  /** Reading the input or writing the output failed. Exit 1. */
  | 'ERR_IO'
  /** Passphrase entry was cancelled at the terminal (Ctrl-C, or end of input). Exit 130. */
  | 'ERR_CANCELLED';

/** An error of the command line, with a stable code. Messages never hold key material. */
export class CliError extends Error {
  /** Stable machine-readable code. */
  readonly code: CliErrorCode;

  /**
   * @param code - stable error code
   * @param message - one-line, human-readable message without secrets
   */
  constructor(code: CliErrorCode, message: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
  }
}

/**
 * Shorthand for a usage error.
 * @param message - what is wrong with the command line
 * @returns a {@link CliError} with code `ERR_USAGE`
 */
export function usageError(message: string): CliError {
  return new CliError('ERR_USAGE', message);
}
