/**
 * Collects an enseal header from a stream of pieces: first the fixed 12-byte prefix, whose
 * `header_length` is validated (FORMAT.md §2.1: ≤ 64 KiB) before the rest is allocated, then the
 * rest of the header. Shared by the decryption machines of the streams (src/envelope/streams.ts)
 * and of the worker pool (src/pool/envelope-machines.ts).
 *
 * @module
 */
import { decodeHeaderPrefix, headerCut } from './header.js';
import { HEADER_PREFIX_LENGTH } from './limits.js';

/** Header bytes gathered piece by piece. Not reentrant. */
export class HeaderCollector {
  #head: Uint8Array = new Uint8Array(HEADER_PREFIX_LENGTH);
  #fill = 0;

  /**
   * Takes header bytes from the start of `data`.
   * @param data - the next piece of the stream (not retained)
   * @returns where the header ended in `data` (then {@link header} is complete; the bytes from
   *   there on belong to the payload), or -1 when the header needs more bytes
   * @throws EnsealError `ERR_HEADER` / `ERR_UNSUPPORTED` for a prefix that is not ours
   * @example
   * ```ts
   * const end = collector.take(piece);
   * if (end >= 0) unlock(collector.header, piece.subarray(end));
   * ```
   */
  take(data: Uint8Array): number {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(this.#head.length - this.#fill, data.length - off);
      this.#head.set(data.subarray(off, off + n), this.#fill);
      this.#fill += n;
      off += n;
      if (this.#fill < this.#head.length) return -1;
      if (this.#head.length !== HEADER_PREFIX_LENGTH) return off;
      const grown = new Uint8Array(decodeHeaderPrefix(this.#head)); // bounded: ≤ 64 KiB
      grown.set(this.#head);
      this.#head = grown;
    }
    return -1;
  }

  /** The header bytes (complete once {@link take} returned ≥ 0). */
  get header(): Uint8Array {
    return this.#head;
  }

  /**
   * The error of a stream that ended before the header was complete.
   * @returns `ERR_TRUNCATED` naming what is missing
   * @throws EnsealError `ERR_HEADER` / `ERR_UNSUPPORTED` / `ERR_TRUNCATED` when even the bytes of
   *   the prefix present show the input is not ours (or too short to tell)
   */
  truncated(): Error {
    if (this.#head.length === HEADER_PREFIX_LENGTH) decodeHeaderPrefix(this.#head.subarray(0, this.#fill)); // throws: too short, or not ours
    return headerCut(this.#head.length, this.#fill);
  }
}
