/**
 * Typed errors. Every failure enseal detects in data (as opposed to misuse of the API, which
 * throws `TypeError`/`RangeError`) is an {@link EnsealError} with a stable `code` that callers
 * can `switch` on. Messages never contain key material or plaintext; authentication failures
 * carry a fixed message plus the chunk index.
 *
 * @module
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type ErrorCode =
  /** A chunk, the C2SP commitment, the header MAC or a wrapped key failed authentication. */
  | 'ERR_AUTH'
  /** The ciphertext ends early: missing header bytes, a partial chunk, or no short final chunk. */
  | 'ERR_TRUNCATED'
  /** The envelope header is malformed, non-canonical or exceeds a limit. */
  | 'ERR_HEADER'
  /** No key provider could unwrap the data key; `errors` holds each provider's cause. */
  | 'ERR_NO_KEY'
  /** The requested plaintext range starts at or past the end of the object (HTTP 416). */
  | 'ERR_RANGE'
  /** The format version, suite, algorithm or backend is not supported here. */
  | 'ERR_UNSUPPORTED'
  /** The caller's expected encryption context does not match the one stored in the header. */
  | 'ERR_CONTEXT'
  /** A size limit of the format was exceeded (e.g. more than 2^38 chunks). */
  | 'ERR_LIMIT'
  /**
   * A stream, source or key was used after it failed, finished or was disposed; or an input's
   * buffer was detached (transferred away) while an operation still had to read it.
   */
  | 'ERR_STATE'
  /** A KMS (or HSM) could not be reached or kept failing after bounded retries. */
  | 'ERR_KMS_UNAVAILABLE'
  /** A KMS refused the request: authentication, authorization, unknown key, invalid ciphertext. */
  | 'ERR_KMS_DENIED'
  /** The master key exists but is disabled (or pending deletion). */
  | 'ERR_KMS_DISABLED'
  /** The KMS (or HSM) has no such key: the id or alias names nothing (not a permission problem). */
  | 'ERR_KMS_NOT_FOUND'
  /** An object store has no object under the key (HTTP 404). */
  | 'ERR_NOT_FOUND'
  /** An object store request failed (HTTP status and request id in `cause`). */
  | 'ERR_STORE'
  /** A plain `http://` endpoint was refused: only HTTPS, or loopback with explicit opt-in. */
  | 'ERR_INSECURE_TRANSPORT'
  /** A read of an unauthenticated foreign format (OSS AES-CTR, …) was refused: it needs `allowUnauthenticated: true`. */
  | 'ERR_UNAUTHENTICATED';

/** Options accepted by the {@link EnsealError} constructor. */
export interface EnsealErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Index of the chunk that failed, for chunk-level failures. */
  chunk?: number;
  /** Per-provider causes, for `ERR_NO_KEY`. */
  errors?: readonly unknown[];
}

/**
 * Base class of every error enseal raises for bad data.
 *
 * @example
 * ```ts
 * try { await decrypt(bytes, { keys }) }
 * catch (e) { if (e instanceof EnsealError && e.code === 'ERR_AUTH') console.error('tampered') }
 * ```
 */
export class EnsealError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Index of the failing chunk, when the failure belongs to one chunk. */
  readonly chunk: number | undefined;
  /** Causes collected from each key provider (only for `ERR_NO_KEY`). */
  readonly errors: readonly unknown[];

  /**
   * @param code - stable error code
   * @param message - human-readable message; must not contain secrets
   * @param options - cause, chunk index, aggregated causes
   */
  constructor(code: ErrorCode, message: string, options: EnsealErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EnsealError';
    this.code = code;
    this.chunk = options.chunk;
    this.errors = options.errors ?? [];
  }
}

/**
 * Error for a requested range that cannot be satisfied (HTTP 416 Range Not Satisfiable).
 * `size` is the authenticated plaintext length.
 */
export class RangeNotSatisfiableError extends EnsealError {
  /** Authenticated plaintext size of the object. */
  readonly size: number;

  /**
   * @param start - requested first byte
   * @param size - authenticated plaintext size
   */
  constructor(start: number, size: number) {
    super('ERR_RANGE', `range start ${start} is not before the end of the ${size}-byte plaintext`);
    this.name = 'RangeNotSatisfiableError';
    this.size = size;
  }
}

/** Fixed message for a failed chunk: never includes bytes. */
export function chunkAuthError(chunk: number, cause?: unknown): EnsealError {
  return new EnsealError('ERR_AUTH', `chunk ${chunk} failed authentication`, { chunk, cause });
}

/** Type guard for an {@link EnsealError} with a given code. */
export function isEnsealError(e: unknown, code?: ErrorCode): e is EnsealError {
  return e instanceof EnsealError && (code === undefined || e.code === code);
}
