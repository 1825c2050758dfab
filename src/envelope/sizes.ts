/**
 * Pure size arithmetic for planning storage I/O (no keys needed). An enseal object is
 * `header (headerLength bytes) || C2SP payload`; pass `headerLength` (from `inspect` or a reader)
 * to get offsets within the stored object, or omit it for offsets within the payload.
 *
 * @module
 */
import { CHUNK_SIZE, PREAMBLE_LENGTH, SEALED_CHUNK_SIZE, checkLength, openedSize, sealedSize } from '../format/cobblestone.js';

/**
 * Stored size of an object with `plaintextLength` bytes of plaintext.
 * @param plaintextLength - plaintext bytes
 * @param headerLength - header bytes (default 0: payload only)
 * @returns ciphertext bytes
 * @throws RangeError for negative or non-integer input
 * @example
 * ```ts
 * ciphertextSize(0) // 72: 56-byte preamble + one empty final chunk
 * ```
 */
export function ciphertextSize(plaintextLength: number, headerLength = 0): number {
  checkLength(headerLength, 'headerLength');
  return headerLength + sealedSize(plaintextLength);
}

/**
 * Plaintext size of a stored object of `ciphertextLength` bytes, from its length alone (it is
 * authenticated only when the final chunk decrypts).
 * @param ciphertextLength - stored bytes
 * @param headerLength - header bytes (default 0: payload only)
 * @returns plaintext bytes
 * @throws EnsealError `ERR_TRUNCATED` for a length no valid object has
 */
export function plaintextSize(ciphertextLength: number, headerLength = 0): number {
  checkLength(ciphertextLength, 'ciphertextLength');
  checkLength(headerLength, 'headerLength');
  return openedSize(ciphertextLength - headerLength < 0 ? 0 : ciphertextLength - headerLength);
}

/** An inclusive byte range of the stored object. */
export interface CiphertextRange {
  /** First byte to fetch. */
  start: number;
  /** Last byte to fetch, inclusive (HTTP `Range: bytes=start-end`). */
  end: number;
}

/**
 * The stored bytes a ranged GET must fetch to decrypt plaintext bytes `start..end` (inclusive):
 * the whole chunks covering them. If the range reaches the final (short) chunk, `end` may point
 * past the end of the object; HTTP servers clamp it. A reader also needs the header and, once,
 * the final chunk to authenticate the length.
 *
 * @param start - first plaintext byte
 * @param end - last plaintext byte, inclusive
 * @param headerLength - header bytes (default 0: offsets within the payload)
 * @returns inclusive ciphertext range
 * @throws RangeError when `end < start` or an argument is not a non-negative integer
 * @example
 * ```ts
 * ciphertextRange(20000, 20000) // { start: 16456, end: 32855 }: chunk 1
 * ```
 */
export function ciphertextRange(start: number, end: number, headerLength = 0): CiphertextRange {
  checkLength(start, 'start');
  checkLength(end, 'end');
  checkLength(headerLength, 'headerLength');
  if (end < start) throw new RangeError(`"end" (${end}) expected ≥ "start" (${start})`);
  const first = Math.floor(start / CHUNK_SIZE);
  const last = Math.floor(end / CHUNK_SIZE);
  const base = headerLength + PREAMBLE_LENGTH;
  return { start: base + first * SEALED_CHUNK_SIZE, end: base + (last + 1) * SEALED_CHUNK_SIZE - 1 };
}
