/**
 * HTTP byte ranges for the adapters (RFC 9110 §14): the `Range` request header, the
 * `Content-Range` response header, and the contract's rules (`./store.ts`): ranges are
 * inclusive, an `end` past the end means "to the end", a `start` at or past the end is
 * `ERR_RANGE` (HTTP 416). Suffix ranges (`bytes=-N`) are never sent.
 *
 * @module
 */
import { EnsealError } from '../errors.js';
import { storeError } from './errors.js';
import type { StoreFailure, StoreRange } from './store.js';

/** An inclusive byte range that was served. */
export interface ServedRange {
  /** First byte. */
  readonly start: number;
  /** Last byte, inclusive. */
  readonly end: number;
}

/**
 * Validates a caller's range (API misuse is a `TypeError`/`RangeError`, before any request).
 *
 * @param range - `{ start, end? }`
 * @returns a fresh copy (read once: the caller's object may change afterwards)
 * @throws TypeError when `range` is not an object
 * @throws RangeError when `start` is not a non-negative safe integer, or `end` is given and is
 *   not a safe integer ≥ `start`
 * @example
 * ```ts
 * checkRange({ start: 10, end: 19 }); // { start: 10, end: 19 }
 * checkRange({ start: 5, end: 4 }); // throws RangeError
 * ```
 */
export function checkRange(range: unknown): StoreRange {
  if (typeof range !== 'object' || range === null) throw new TypeError('"range" expected { start, end? }');
  const { start, end } = range as { start?: unknown; end?: unknown };
  if (typeof start !== 'number' || !Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`"range.start" expected a non-negative safe integer, got ${String(start)}`);
  }
  if (end === undefined) return { start };
  if (typeof end !== 'number' || !Number.isSafeInteger(end) || end < start) {
    throw new RangeError(`"range.end" expected a safe integer ≥ start (${start}), got ${String(end)}`);
  }
  return { start, end };
}

/**
 * The `Range` header of a checked range (RFC 9110 §14.1.2 `int-range`).
 *
 * @param range - a range from {@link checkRange}
 * @returns `bytes=start-end` or `bytes=start-`
 * @example
 * ```ts
 * rangeHeader({ start: 0, end: 1023 }); // "bytes=0-1023"
 * ```
 */
export function rangeHeader(range: StoreRange): string {
  return `bytes=${range.start}-${range.end ?? ''}`;
}

/**
 * Parses a `Content-Range` response header (RFC 9110 §14.4), strictly.
 *
 * @param value - the header value
 * @returns `{ start, end, size }` for a served range, `{ size }` for `bytes *\/size` (a 416
 *   answer), `undefined` when absent or malformed (also when `end` ≥ `size`, or the numbers
 *   are not safe integers)
 * @example
 * ```ts
 * parseContentRange('bytes 0-9/100'); // { start: 0, end: 9, size: 100 }
 * ```
 */
export function parseContentRange(value: string | null | undefined): { start?: number; end?: number; size: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^bytes[ ]+(?:(\d{1,16})-(\d{1,16})|\*)\/(\d{1,16})$/i.exec(value.trim());
  if (m === null) return undefined;
  const size = Number(m[3]);
  if (!Number.isSafeInteger(size)) return undefined;
  if (m[1] === undefined) return { size };
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start || end >= size) return undefined;
  return { start, end, size };
}

/**
 * Resolves a range against an object size, as a store does (for adapters that serve ranges
 * themselves, like `fsStore`).
 *
 * @param store - store name for the message
 * @param range - a range from {@link checkRange}
 * @param size - the whole object's size
 * @returns the inclusive range to serve (`end` clamped to `size - 1`)
 * @throws EnsealError `ERR_RANGE` (cause: status 416) when `start` ≥ `size`
 * @example
 * ```ts
 * resolveRange('fs:/d', { start: 5 }, 10); // { start: 5, end: 9 }
 * ```
 */
export function resolveRange(store: string, range: StoreRange, size: number): ServedRange {
  if (range.start >= size) throw rangeNotSatisfiable(store, range.start, size);
  return { start: range.start, end: Math.min(size - 1, range.end ?? size - 1) };
}

/**
 * The `ERR_RANGE` error of an unsatisfiable range (HTTP 416).
 *
 * @param store - store name
 * @param start - requested first byte
 * @param size - object size, when known
 * @param failure - status, request id, code of the store's answer
 * @returns the error (to be thrown)
 * @example
 * ```ts
 * throw rangeNotSatisfiable('s3://b', 100, 10);
 * ```
 */
export function rangeNotSatisfiable(store: string, start: number, size?: number, failure: StoreFailure = { status: 416, code: 'InvalidRange' }): EnsealError {
  const of = size === undefined ? 'the object' : `the ${size}-byte object`;
  return new EnsealError('ERR_RANGE', `${store}: range start ${start} is not before the end of ${of}`, { cause: failure });
}

/**
 * Checks what a store served against what was asked. The served range must cover the request
 * (clamped to the object): a different or shorter range is a store failure (a proxy or a broken
 * server), not something to decrypt. A larger one (s3rver answers `bytes=0-0` with the whole
 * object) is accepted and sliced by the caller: `offset` bytes to skip, then `end - start + 1`.
 *
 * @param store - store name
 * @param requested - the checked range that was sent
 * @param served - the parsed `Content-Range`
 * @param failure - status and request id for the error
 * @returns the range to report (`start`, `end`), the object `size`, the `servedLength` of the
 *   body and the `offset` of the requested bytes in it
 * @throws EnsealError `ERR_STORE` when the served range is missing or does not cover the request
 * @example
 * ```ts
 * checkServedRange('s3://b', { start: 0, end: 9 }, { start: 0, end: 9, size: 100 }, {});
 * // { start: 0, end: 9, size: 100, offset: 0, servedLength: 10 }
 * ```
 */
export function checkServedRange(
  store: string,
  requested: StoreRange,
  served: { start?: number; end?: number; size: number } | undefined,
  failure: StoreFailure,
): ServedRange & { size: number; offset: number; servedLength: number } {
  if (served?.start === undefined || served.end === undefined) {
    throw storeError(store, 'ranged get', { ...failure, code: failure.code ?? 'BadContentRange' });
  }
  const end = Math.min(served.size - 1, requested.end ?? served.size - 1);
  if (requested.start >= served.size) throw rangeNotSatisfiable(store, requested.start, served.size, { ...failure, code: 'InvalidRange' });
  if (served.start > requested.start || served.end < end) {
    throw storeError(store, `ranged get (asked bytes ${requested.start}-${requested.end ?? ''}, served ${served.start}-${served.end})`, {
      ...failure,
      code: 'RangeMismatch',
    });
  }
  return { start: requested.start, end, size: served.size, offset: requested.start - served.start, servedLength: served.end - served.start + 1 };
}
