/**
 * Reads a byte stream to its end into one buffer, with a bound: the one place a whole body is
 * collected (store bodies, ranged GETs, foreign formats sealed whole). The stream is cancelled
 * when reading fails, is aborted, or goes past the bound.
 *
 * @module
 */
import { assertChunk, concatList, type Bytes } from '../bytes.js';

/** Options of {@link readAll}. */
export interface ReadAllOptions {
  /** Most bytes accepted. */
  readonly max: number;
  /** The error for a stream longer than `max` (a `RangeError`, `ERR_STORE`, `ERR_LIMIT`… as fits). */
  readonly tooLong: () => Error;
  /** What the stream is, for the chunk-type message (default `"body" stream`). */
  readonly what?: string;
  /** Aborts the read (checked before each chunk). */
  readonly signal?: AbortSignal;
}

/**
 * Collects a stream of `Uint8Array` chunks into one new buffer.
 * @param stream - the stream (locked while reading, released after)
 * @param opts - `max`, `tooLong`, optional `what` and `signal`
 * @returns the bytes, a fresh buffer
 * @throws TypeError for a chunk that is not a `Uint8Array`
 * @throws what `tooLong()` returns, once more than `max` bytes arrived
 * @example
 * ```ts
 * const bytes = await readAll(res.body, { max: 1 << 20, tooLong: () => new RangeError('body over 1 MiB') });
 * ```
 */
export async function readAll(stream: ReadableStream<Uint8Array>, opts: ReadAllOptions): Promise<Bytes> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      assertChunk(value, `${opts.what ?? '"body" stream'} expected Uint8Array chunks`);
      n += value.length;
      if (n > opts.max) throw opts.tooLong();
      parts.push(value);
    }
  } catch (e) {
    await reader.cancel(e).catch(() => undefined);
    throw e;
  } finally {
    reader.releaseLock();
  }
  return concatList(parts); // not concat(...parts): a stream of many small chunks would exceed the argument limit
}
