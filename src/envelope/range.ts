/**
 * Ranged decryption of stored objects: `openReader` reads the header and the 56-byte payload
 * preamble (two reads: the 12-byte prefix, then the rest), unlocks the data key and checks the
 * commitment; each `read` then fetches only the chunks covering the range, plus the final chunk
 * once to authenticate the length.
 *
 * @module
 */
import { concat, wipe, type Bytes } from '../bytes.js';
import { ChunkedReader, readExact, sourceSize, type RandomAccessSource } from '../format/chunked-reader.js';
import { COBBLESTONE_256, PREAMBLE_LENGTH, openPreamble, openedSize } from '../format/cobblestone.js';
import { decodeHeaderPrefix, headerCut, type Header } from '../format/header.js';
import { HEADER_PREFIX_LENGTH } from '../format/limits.js';
import { checkDecryptOptions, unlockHeader, type DecryptOptions } from './options.js';

export type { RandomAccessSource } from '../format/chunked-reader.js';

/** A plaintext byte range, inclusive at both ends as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  /** First byte. */
  start: number;
  /** Last byte, inclusive; omitted or past the end means "to the end". */
  end?: number;
}

/**
 * An opened enseal object supporting authenticated ranged reads. It uses one snapshot of the
 * source's `size`, taken by `openReader`. After `close()`, `verifiedSize()` and `read()` reject
 * with `ERR_STATE`, also when they were in flight as `close()` ran.
 */
export interface EnvelopeReader {
  /** The decoded (and MAC-verified) header. */
  readonly header: Header;
  /** Plaintext size implied by the object length; not authenticated until `verifiedSize()`. */
  readonly size: number;
  /**
   * Authenticates the final chunk (once, cached) and returns the plaintext size.
   * @throws EnsealError `ERR_AUTH` (final chunk), `ERR_STATE` (closed)
   */
  verifiedSize(): Promise<number>;
  /**
   * Decrypts an inclusive range; see {@link decryptRange}.
   * @throws EnsealError `ERR_RANGE`, `ERR_AUTH`, `ERR_TRUNCATED`, `ERR_STATE` (closed)
   */
  read(range: ByteRange): Promise<Bytes>;
  /** Wipes cached plaintext and key material. Idempotent. */
  close(): void;
}

/**
 * Opens a stored object for repeated ranged reads (the header and the final chunk are fetched
 * and authenticated once).
 *
 * @param source - `{ size, read(offset, length) }`
 * @param opts - `keys`, expected `context`, `backend`
 * @returns a reader; call `close()` when done
 * @throws EnsealError as {@link decryptRange}
 * @example
 * ```ts
 * const r = await openReader(source, { keys: [key] });
 * const head = await r.read({ start: 0, end: 1023 });
 * r.close();
 * ```
 */
export async function openReader(source: RandomAccessSource, opts: DecryptOptions): Promise<EnvelopeReader> {
  const size = sourceSize(source); // the one read of source.size
  const backend = checkDecryptOptions(opts);
  const prefix = await readExact(source, 0, Math.min(HEADER_PREFIX_LENGTH, size));
  const headerLength = decodeHeaderPrefix(prefix);
  if (size < headerLength) throw headerCut(headerLength, size);
  openedSize(size - headerLength); // reject impossible lengths before any key use
  const rest = await readExact(source, HEADER_PREFIX_LENGTH, headerLength - HEADER_PREFIX_LENGTH + PREAMBLE_LENGTH);
  const bytes = concat(prefix, rest);
  const { header, dataKey } = await unlockHeader(bytes, opts, backend);
  let chunks: ChunkedReader;
  try {
    const cipher = await openPreamble(backend, COBBLESTONE_256, dataKey, bytes.subarray(headerLength), header.bound);
    try {
      chunks = new ChunkedReader(source, headerLength, cipher, size);
    } catch (e) {
      cipher.dispose();
      throw e;
    }
  } finally {
    wipe(dataKey);
  }
  return Object.freeze({
    header,
    size: chunks.size,
    verifiedSize: () => chunks.verifiedSize(),
    read: async (range: ByteRange) => {
      if (typeof range !== 'object' || range === null) throw new TypeError('"range" expected { start, end? }');
      return chunks.read(range.start, range.end);
    },
    close: () => chunks.dispose(),
  });
}

/**
 * Decrypts plaintext bytes `start..end` (inclusive) of a stored object, reading only the header,
 * the chunks that cover the range and the final chunk.
 *
 * @param source - `{ size, read(offset, length) }` (a file, or ranged GETs on an object store)
 * @param range - `{ start, end? }`, inclusive; `end` past the last byte is clamped
 * @param opts - `keys`, expected `context`, `backend`
 * @returns exactly the requested bytes, all authenticated
 * @throws RangeNotSatisfiableError (`ERR_RANGE`, the HTTP 416 case) when `start` ≥ the size
 * @throws EnsealError `ERR_HEADER`, `ERR_NO_KEY`, `ERR_CONTEXT`, `ERR_AUTH`, `ERR_TRUNCATED`
 * @example
 * ```ts
 * const bytes = await decryptRange(source, { start: 1_000_000, end: 1_000_999 }, { keys: [key] });
 * ```
 */
export async function decryptRange(source: RandomAccessSource, range: ByteRange, opts: DecryptOptions): Promise<Bytes> {
  const reader = await openReader(source, opts);
  try {
    return await reader.read(range);
  } finally {
    reader.close();
  }
}
