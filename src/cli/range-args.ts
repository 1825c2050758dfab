/**
 * `--range`, as the byte-range forms of HTTP (RFC 9110 §14.1.2):
 *
 * ```
 * START-END   bytes START..END, inclusive; an END past the last byte is clamped
 * START-      from START to the end
 * -N          the last N bytes (a suffix range); the whole plaintext when it is shorter
 * ```
 * A START at or past the end, or any range of an empty plaintext, is unsatisfiable
 * (`ERR_RANGE`, the HTTP 416 case). Parsing is pure; {@link resolveRange} needs the
 * authenticated plaintext size only for a suffix range.
 *
 * @module
 */
import type { ByteRange } from '../envelope/range.js';
import { RangeNotSatisfiableError } from '../errors.js';
import { usageError } from './cli-error.js';
import { quoted } from './terminal-text.js';

/** A parsed `--range`: a first byte (and optional inclusive last byte), or a suffix length. */
export type RangeArg = { start: number; end?: number } | { suffix: number };

/**
 * Parses `--range START-END`, `START-` or `-N`.
 * @param text - the option value
 * @returns the range
 * @throws CliError `ERR_USAGE` for anything else (echoing the value, escaped): END < START,
 *   `-0`, bounds beyond 2^53 - 1
 * @example
 * ```ts
 * parseRange('100-199'); // { start: 100, end: 199 }
 * parseRange('-500');    // { suffix: 500 }
 * ```
 */
export function parseRange(text: string): RangeArg {
  const suffix = /^-(\d+)$/.exec(text);
  if (suffix !== null) {
    const n = Number(suffix[1]);
    if (!Number.isSafeInteger(n)) throw usageError(`--range suffix length too large in ${quoted(text)}`);
    if (n === 0) throw usageError('--range -N needs N of at least 1 (the last N bytes)');
    return { suffix: n };
  }
  const m = /^(\d+)-(\d*)$/.exec(text);
  if (m === null) throw usageError(`--range expects START-END, START- or -N (decimal byte offsets), got ${quoted(text, 40)}`);
  const start = Number(m[1]);
  const end = m[2] === '' ? undefined : Number(m[2]);
  if (!Number.isSafeInteger(start) || (end !== undefined && !Number.isSafeInteger(end))) {
    throw usageError(`--range bound too large in ${quoted(text, 60)}`);
  }
  if (end !== undefined && end < start) throw usageError(`--range end is before its start in ${quoted(text, 60)}`);
  return end === undefined ? { start } : { start, end };
}

/**
 * The byte range to read.
 * @param range - the parsed `--range`
 * @param verifiedSize - the authenticated plaintext size (called only for a suffix range)
 * @returns `{ start, end? }` for the reader
 * @throws RangeNotSatisfiableError (`ERR_RANGE`) for a suffix range of an empty plaintext
 * @example
 * ```ts
 * await resolveRange({ suffix: 10 }, async () => 100); // { start: 90 }
 * ```
 */
export async function resolveRange(range: RangeArg, verifiedSize: () => Promise<number>): Promise<ByteRange> {
  if (!('suffix' in range)) return range;
  const size = await verifiedSize();
  if (size === 0) throw new RangeNotSatisfiableError(0, 0);
  return { start: Math.max(0, size - range.suffix) };
}
