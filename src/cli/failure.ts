/**
 * Turns any error into what the CLI reports: a stable code, a one-line message and an exit
 * status (1 for data, crypto and I/O failures; 2 for usage and key-file errors).
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
  exitCode: 1 | 2;
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

/**
 * Classifies an error.
 *
 * - {@link CliError}: its code; exit 2 for `ERR_USAGE` and `ERR_KEYFILE`, else 1.
 * - {@link EnsealError}: its code, exit 1.
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
    return { code: e.code, message: oneLine(e.message), exitCode: e.code === 'ERR_USAGE' || e.code === 'ERR_KEYFILE' ? 2 : 1 };
  }
  if (e instanceof EnsealError) {
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
