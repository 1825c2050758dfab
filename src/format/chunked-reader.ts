/**
 * Authenticated random access to a C2SP message stored at `base` in a {@link RandomAccessSource}
 * (spec §"Implementation notes": "A plaintext index i can be found at index i % 16384 of chunk
 * i // 16384. Chunk k can be found at ciphertext offset 56 + k × (16384 + len(tag))").
 *
 * The length implied by the source size is *unverified* (`size`) until the final chunk has been
 * authenticated at its index (`verifiedSize()`), which happens once, is cached (success or
 * failure), and precedes the release of any range: a truncated or extended object fails every
 * read instead of yielding a plausible short answer.
 *
 * The source's `size` is read exactly once, by {@link sourceSize}, and only that snapshot is used:
 * a source whose size changes (an HTTP source reporting the latest Content-Range total) cannot
 * make the reader authenticate one final chunk and then serve or report another length. A closed
 * reader fails every later call with `ERR_STATE`, including calls in flight when `close()` ran.
 *
 * @module
 */
import { assertChunk } from '../bytes.js';
import type { Bytes } from '../bytes.js';
import { EnsealError, RangeNotSatisfiableError } from '../errors.js';
import { BATCH_CHUNKS } from './chunked-seal.js';
import {
  CHUNK_SIZE,
  PREAMBLE_LENGTH,
  SEALED_CHUNK_SIZE,
  checkLength,
  chunkCount,
  openedSize,
  type ChunkCipher,
} from './cobblestone.js';

/**
 * Random-access bytes, e.g. a file or an object store reached by ranged GETs.
 * `read` must resolve to exactly `length` bytes (fewer is treated as truncation).
 */
export interface RandomAccessSource {
  /** Total size in bytes. Read once per reader (a snapshot); later changes are ignored. */
  readonly size: number;
  /** Reads `length` bytes at `offset`. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/**
 * Reads exactly `length` bytes or fails with `ERR_TRUNCATED`.
 * @param source - where to read
 * @param offset - first byte
 * @param length - bytes wanted
 * @returns exactly `length` bytes
 * @throws EnsealError `ERR_TRUNCATED` when the source returns a different number of bytes
 * @throws TypeError when the source resolves to something other than a `Uint8Array`
 * @example
 * ```ts
 * const prefix = await readExact(source, 0, 12);
 * ```
 */
export async function readExact(source: RandomAccessSource, offset: number, length: number): Promise<Uint8Array> {
  if (length === 0) return new Uint8Array(0);
  const b = await source.read(offset, length);
  assertChunk(b, 'source.read expected to resolve to a Uint8Array');
  if (b.length !== length) {
    throw new EnsealError('ERR_TRUNCATED', `ciphertext was truncated: the source returned ${b.length} bytes at offset ${offset}, expected ${length}`);
  }
  return b;
}

/**
 * Checks a source's shape and takes the one snapshot of its size that a reader uses.
 * @param source - the source
 * @returns `source.size`, read exactly once
 * @throws TypeError for a value without `read`; RangeError for a size that is not a
 *   non-negative safe integer
 * @example
 * ```ts
 * const size = sourceSize(source); // never read source.size again
 * ```
 */
export function sourceSize(source: RandomAccessSource): number {
  if (typeof source !== 'object' || source === null || typeof source.read !== 'function') {
    throw new TypeError('"source" expected { size, read(offset, length) }');
  }
  const size = source.size; // the snapshot
  checkLength(size, 'source.size');
  return size;
}

/**
 * Former name of {@link sourceSize}.
 * @deprecated use {@link sourceSize} and keep its result: the snapshot is the only size to use
 * @param source - the source
 * @returns the size snapshot
 */
export const checkSource: (source: RandomAccessSource) => number = sourceSize;

function closedReader(): EnsealError {
  return new EnsealError('ERR_STATE', 'the reader was closed');
}

/** Random-access reader over one C2SP message whose commitment was already checked. */
export class ChunkedReader {
  readonly #source: RandomAccessSource;
  readonly #chunksAt: number;
  readonly #end: number;
  readonly #cipher: ChunkCipher;
  readonly #size: number;
  readonly #lastIndex: number;
  #final: Promise<Bytes> | undefined;
  #closed = false;

  /**
   * @param source - where the message lives
   * @param base - offset of the message's salt in `source`
   * @param cipher - keyed cipher (commitment already verified); owned and disposed by this reader
   * @param sourceLength - the snapshot of `source.size` ({@link sourceSize}); the message ends there
   * @throws EnsealError `ERR_TRUNCATED` when the message length is impossible (the caller
   *   disposes `cipher` then)
   */
  constructor(source: RandomAccessSource, base: number, cipher: ChunkCipher, sourceLength: number) {
    checkLength(base, 'base');
    checkLength(sourceLength, 'sourceLength');
    this.#size = openedSize(Math.max(0, sourceLength - base));
    this.#source = source;
    this.#chunksAt = base + PREAMBLE_LENGTH;
    this.#end = sourceLength;
    this.#cipher = cipher;
    this.#lastIndex = chunkCount(this.#size) - 1;
  }

  /** Plaintext size implied by the source length. Not authenticated: see {@link verifiedSize}. */
  get size(): number {
    return this.#size;
  }

  #live(): void {
    if (this.#closed) throw closedReader();
  }

  /**
   * Authenticates the final chunk at its index (once; cached) and returns the plaintext size.
   * @returns the authenticated plaintext size
   * @throws EnsealError `ERR_AUTH` (chunk = final index) when the object was truncated, extended
   *   or modified at its end; `ERR_STATE` after `dispose()`
   */
  async verifiedSize(): Promise<number> {
    this.#live();
    try {
      await this.#finalChunk();
    } catch (e) {
      this.#live();
      throw e;
    }
    this.#live();
    return this.#size;
  }

  #finalChunk(): Promise<Bytes> {
    this.#final ??= (async () => {
      const at = this.#chunksAt + this.#lastIndex * SEALED_CHUNK_SIZE;
      const sealed = await readExact(this.#source, at, this.#end - at);
      this.#live();
      return this.#cipher.open(this.#lastIndex, sealed);
    })();
    return this.#final;
  }

  /**
   * Decrypts plaintext bytes `start..end` (inclusive, like an HTTP Range; `end` past the last
   * byte is clamped). Reads only the chunks covering the range, plus the final chunk once.
   *
   * @param start - first byte
   * @param end - last byte, inclusive; default: the last byte
   * @returns exactly the requested bytes, each from an authenticated chunk
   * @throws RangeError when `end < start` or either is not a non-negative integer
   * @throws RangeNotSatisfiableError (`ERR_RANGE`) when `start` ≥ the verified size
   * @throws EnsealError `ERR_AUTH` when a covering chunk or the final chunk fails; `ERR_STATE`
   *   after `dispose()`, also for a read that was in flight when it ran
   */
  async read(start: number, end?: number): Promise<Bytes> {
    this.#live();
    checkLength(start, 'start');
    if (end !== undefined) {
      checkLength(end, 'end');
      if (end < start) throw new RangeError(`"end" (${end}) expected ≥ "start" (${start})`);
    }
    const finalChunk = this.#finalChunk();
    if (start >= this.#size) {
      try {
        await finalChunk; // a broken object reports its own error, not a 416
      } catch (e) {
        this.#live();
        throw e;
      }
      this.#live();
      throw new RangeNotSatisfiableError(start, this.#size);
    }
    const last = Math.min(end ?? this.#size - 1, this.#size - 1);
    const first = Math.floor(start / CHUNK_SIZE);
    const lastChunk = Math.floor(last / CHUNK_SIZE);
    if (last - start + 1 > BATCH_CHUNKS * CHUNK_SIZE) {
      // A large output is allocated only once the length is authenticated: an unverified source
      // size (say, 4 PiB) must not make us allocate before the final chunk proved it.
      try {
        await finalChunk;
      } catch (e) {
        this.#live();
        throw e;
      }
      this.#live();
    }
    const out = new Uint8Array(last - start + 1);
    const place = (index: number, pt: Uint8Array): void => {
      const chunkStart = index * CHUNK_SIZE;
      const from = Math.max(start, chunkStart) - chunkStart;
      const to = Math.min(last + 1, chunkStart + pt.length) - chunkStart;
      out.set(pt.subarray(from, to), chunkStart + from - start);
    };
    try {
      const middleEnd = Math.min(lastChunk, this.#lastIndex - 1); // final chunk comes from the cache
      // Covering chunks are fetched in batches, one at a time (bounded memory), while the final
      // chunk is authenticated concurrently. If that fails, or the reader is closed, no further
      // batch is read, and this call settles only once the batch in flight has finished (no I/O
      // after it returns).
      let stop = false;
      const fin = finalChunk.catch((e: unknown) => {
        stop = true;
        throw e;
      });
      const middle = (async () => {
        for (let i = first; i <= middleEnd && !stop; i += BATCH_CHUNKS) {
          this.#live();
          const n = Math.min(BATCH_CHUNKS, middleEnd - i + 1);
          const sealed = await readExact(this.#source, this.#chunksAt + i * SEALED_CHUNK_SIZE, n * SEALED_CHUNK_SIZE);
          this.#live();
          const parts: Uint8Array[] = [];
          for (let k = 0; k < n; k++) parts.push(sealed.subarray(k * SEALED_CHUNK_SIZE, (k + 1) * SEALED_CHUNK_SIZE));
          const pts = await this.#cipher.openChunks(i, parts);
          pts.forEach((pt, k) => {
            place(i + k, pt);
            pt.fill(0);
          });
        }
      })();
      const [f, m] = await Promise.allSettled([fin, middle]);
      this.#live(); // closed meanwhile: the cached final chunk is being wiped; release nothing
      if (f.status === 'rejected') throw f.reason; // the object's own failure comes first
      if (m.status === 'rejected') throw m.reason;
      if (lastChunk === this.#lastIndex) place(this.#lastIndex, f.value);
      return out;
    } catch (e) {
      out.fill(0);
      if (this.#closed) throw closedReader();
      throw e;
    }
  }

  /** Wipes the cached final chunk and disposes the key. Idempotent; later calls throw `ERR_STATE`. */
  dispose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#final?.then((b) => b.fill(0), () => undefined);
    this.#cipher.dispose();
  }
}
