/**
 * Turns any error into what the CLI reports: a stable code, a one-line message and an exit
 * status (1 for data, crypto, KMS and I/O failures; 2 for usage and key-file errors; 130 for a
 * cancelled passphrase prompt).
 *
 * @module
 */
import { EnsealError } from '../errors.js';
import { CliError } from './cli-error.js';

/** A reportable failure. */
export interface Failure {
  /** Stable code: an EnsealError code, a CliError code, or `ERR_INTERNAL` (a bug). */
  code: string;
  /** One line, without secrets. */
  message: string;
  /** Process exit status. */
  exitCode: 1 | 2 | 130;
}

/** A Node.js system error (`ENOENT`, `EACCES`, `EPIPE`, …). */
function isSystemError(e: unknown): e is Error & { code: string; syscall: string } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && typeof (e as { syscall?: unknown }).syscall === 'string';
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** For ERR_NO_KEY: appends each key's own reason (EnsealError messages hold no secrets). */
function noKeyDetail(e: EnsealError): string {
  const reasons = e.errors.filter((c): c is EnsealError => c instanceof EnsealError).map((c) => `${c.code}: ${c.message}`);
  return reasons.length === 0 ? '' : ` [${reasons.join('; ')}]`;
}

/** KMS conditions reported in place of ERR_NO_KEY when they are its only cause. */
const KMS_CODES: ReadonlySet<string> = new Set(['ERR_KMS_DISABLED', 'ERR_KMS_UNAVAILABLE', 'ERR_KMS_DENIED']);

/**
 * The KMS error to report for an ERR_NO_KEY, if every provider that failed failed with the same
 * KMS condition (a disabled key, an unreachable or refusing KMS): that condition is the reason,
 * and the one a script must see (retry later, enable the key) rather than "wrong key".
 */
function soleKmsCause(e: EnsealError): EnsealError | undefined {
  const [first] = e.errors;
  if (!(first instanceof EnsealError) || !KMS_CODES.has(first.code)) return undefined;
  return e.errors.every((c) => c instanceof EnsealError && c.code === first.code) ? first : undefined;
}

/**
 * Classifies an error.
 *
 * - {@link CliError}: its code; exit 2 for `ERR_USAGE` and `ERR_KEYFILE`, 130 for
 *   `ERR_CANCELLED`, else 1.
 * - {@link EnsealError}: its code, exit 1; an `ERR_NO_KEY` whose every cause is the same KMS
 *   condition (`ERR_KMS_DISABLED`, `ERR_KMS_UNAVAILABLE`, `ERR_KMS_DENIED`) is reported as that
 *   condition.
 * - Node.js system errors and premature stream ends: `ERR_IO`, exit 1.
 * - `TypeError`/`RangeError`: the library's signal for invalid options (here they come from
 *   the command line, e.g. an over-long `--context` value): `ERR_USAGE`, exit 2.
 * - Anything else: `ERR_INTERNAL`, exit 1.
 *
 * @param e - what was thrown
 * @returns code, message and exit status
 */
export function describeFailure(e: unknown): Failure {
  if (e instanceof CliError) {
    const exitCode = e.code === 'ERR_USAGE' || e.code === 'ERR_KEYFILE' ? 2 : e.code === 'ERR_CANCELLED' ? 130 : 1;
    return { code: e.code, message: oneLine(e.message), exitCode };
  }
  if (e instanceof EnsealError) {
    const kms = e.code === 'ERR_NO_KEY' ? soleKmsCause(e) : undefined;
    if (kms !== undefined) return { code: kms.code, message: oneLine(`${kms.message} (no key could unwrap the data key)`), exitCode: 1 };
    const detail = e.code === 'ERR_NO_KEY' ? noKeyDetail(e) : '';
    return { code: e.code, message: oneLine(e.message + detail), exitCode: 1 };
  }
  if (isSystemError(e) || (e instanceof Error && (e as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE')) {
    return { code: 'ERR_IO', message: oneLine(e.message), exitCode: 1 };
  }
  if (e instanceof TypeError || e instanceof RangeError) {
    return { code: 'ERR_USAGE', message: oneLine(e.message), exitCode: 2 };
  }
  return { code: 'ERR_INTERNAL', message: oneLine(e instanceof Error ? e.message : String(e)), exitCode: 1 };
}
