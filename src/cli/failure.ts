/**
 * Turns any error into what the CLI reports: a stable code, a one-line message, further lines
 * for the causes of an `ERR_NO_KEY`, and an exit status (1 for data, crypto, KMS and I/O
 * failures; 2 for usage and key-file errors; 130 for a cancelled passphrase prompt).
 *
 * Every line is made terminal-safe here ({@link terminalSafe}): library messages may embed
 * strings from a hostile header (key ids, labels, context), and this is the last place before
 * they reach a terminal. Library argument errors are restated with command-line flags
 * ({@link inFlagLanguage}); data errors about IN say what they mean for IN (too short, not an
 * enseal object, tampered with or truncated).
 *
 * @module
 */
import { EnsealError } from '../errors.js';
import { CliError } from './cli-error.js';
import { inFlagLanguage } from './flag-language.js';
import { terminalSafe } from './terminal-text.js';

/** A reportable failure. */
export interface Failure {
  /** Stable code: an EnsealError code, a CliError code, or `ERR_INTERNAL` (a bug). */
  code: string;
  /** One line, without secrets, terminal-safe. */
  message: string;
  /** Further lines (the causes of `ERR_NO_KEY`), each terminal-safe; usually empty. */
  details: string[];
  /** Process exit status. */
  exitCode: 1 | 2 | 130;
}

/** Causes listed under an `ERR_NO_KEY` at most (64 recipients × 64 keys could give 4096). */
export const MAX_CAUSES = 16;

/** A Node.js system error (`ENOENT`, `EACCES`, `EPIPE`, …). */
function isSystemError(e: unknown): e is Error & { code: string; syscall: string } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && typeof (e as { syscall?: unknown }).syscall === 'string';
}

/** One printable line: line feeds (a multi-line message) become spaces, the rest is escaped. */
function line(s: string): string {
  return terminalSafe(s.replace(/[ \t]*\n+[ \t]*/g, ' ').trim());
}

/** One cause of an `ERR_NO_KEY`, as `CODE: message`. */
function causeLine(c: unknown): string {
  if (c instanceof EnsealError) return line(`- ${c.code}: ${c.message}`);
  if (c instanceof Error) return line(`- ${c.name}: ${c.message}`);
  return '- (unknown cause)';
}

/** The causes of an `ERR_NO_KEY`, one line each, at most {@link MAX_CAUSES}. */
function causeLines(e: EnsealError): string[] {
  const shown = e.errors.slice(0, MAX_CAUSES).map(causeLine);
  if (e.errors.length > MAX_CAUSES) shown.push(`- ... and ${e.errors.length - MAX_CAUSES} more`);
  return shown;
}

/** KMS conditions reported in place of ERR_NO_KEY when they are its only cause. */
const KMS_CODES: ReadonlySet<string> = new Set(['ERR_KMS_DISABLED', 'ERR_KMS_UNAVAILABLE', 'ERR_KMS_DENIED', 'ERR_KMS_NOT_FOUND']);

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

/** What a data error means for IN, in words a user can act on. */
function dataMessage(e: EnsealError): string {
  switch (e.code) {
    case 'ERR_AUTH':
      return e.chunk === undefined ? e.message : `${e.message}: IN is damaged (tampered or truncated)`;
    case 'ERR_TRUNCATED': {
      // Shorter than the 12-byte prefix: the library says "not an enseal object: …".
      const tooShort = /^not an enseal object: (.*)$/.exec(e.message);
      return tooShort !== null ? `IN is too short to be an enseal object: ${tooShort[1]}` : `IN is damaged (tampered or truncated): ${e.message}`;
    }
    case 'ERR_HEADER':
      return /not an enseal object|bad magic/.test(e.message) ? 'IN is not an enseal object (it does not start with the bytes "enseal")' : e.message;
    default:
      return e.message;
  }
}

/**
 * Classifies an error.
 *
 * - {@link CliError}: its code; exit 2 for `ERR_USAGE` and `ERR_KEYFILE`, 130 for
 *   `ERR_CANCELLED`, else 1.
 * - {@link EnsealError}: its code, exit 1; an `ERR_NO_KEY` lists its causes (one per detail
 *   line), and one whose every cause is the same KMS condition (`ERR_KMS_DISABLED`,
 *   `ERR_KMS_UNAVAILABLE`, `ERR_KMS_DENIED`, `ERR_KMS_NOT_FOUND`) is reported as that condition.
 * - Node.js system errors and premature stream ends: `ERR_IO`, exit 1.
 * - `TypeError`/`RangeError`: the library's signal for invalid options (here they come from
 *   the command line, e.g. an over-long `--context` value): `ERR_USAGE`, exit 2, restated with
 *   the command-line flags.
 * - Anything else: `ERR_INTERNAL`, exit 1.
 *
 * @param e - what was thrown
 * @returns code, message, detail lines and exit status
 * @example
 * ```ts
 * describeFailure(new EnsealError('ERR_AUTH', 'header authentication failed')).exitCode; // 1
 * ```
 */
export function describeFailure(e: unknown): Failure {
  if (e instanceof CliError) {
    const exitCode = e.code === 'ERR_USAGE' || e.code === 'ERR_KEYFILE' ? 2 : e.code === 'ERR_CANCELLED' ? 130 : 1;
    return { code: e.code, message: line(e.message), details: [], exitCode };
  }
  if (e instanceof EnsealError) {
    if (e.code === 'ERR_NO_KEY') {
      const kms = soleKmsCause(e);
      if (kms !== undefined) return { code: kms.code, message: line(`${kms.message} (no key could unwrap the data key)`), details: causeLines(e), exitCode: 1 };
      return { code: e.code, message: line(e.message), details: causeLines(e), exitCode: 1 };
    }
    return { code: e.code, message: line(dataMessage(e)), details: [], exitCode: 1 };
  }
  if (isSystemError(e) || (e instanceof Error && (e as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE')) {
    return { code: 'ERR_IO', message: line(e.message), details: [], exitCode: 1 };
  }
  if (e instanceof TypeError || e instanceof RangeError) {
    return { code: 'ERR_USAGE', message: line(inFlagLanguage(e.message)), details: [], exitCode: 2 };
  }
  return { code: 'ERR_INTERNAL', message: line(e instanceof Error ? e.message : String(e)), details: [], exitCode: 1 };
}

/**
 * The text printed on stderr for a failure: `enseal: CODE: message`, then one indented line per
 * detail.
 * @param f - the failure
 * @param hint - appended to the first line (e.g. ` (see 'enseal decrypt --help')`)
 * @returns the lines, each ending with a newline
 * @example
 * ```ts
 * process.stderr.write(formatFailure(describeFailure(e)));
 * ```
 */
export function formatFailure(f: Failure, hint = ''): string {
  return [`enseal: ${f.code}: ${f.message}${hint}`, ...f.details.map((d) => `enseal:   ${d}`)].map((l) => `${l}\n`).join('');
}
