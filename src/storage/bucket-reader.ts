/**
 * Authenticated ranged reads of an encrypted object in a store, with the fewest requests:
 *
 * 1. **open** — one speculative ranged GET of the first bytes (sized from a header-length hint;
 *    4 KiB of header otherwise), extended to cover the wanted chunks when they lie near the
 *    start. It yields the header, the payload preamble and the stored size (snapshotted: later
 *    responses must report the same size and entity tag). The data key is unwrapped and the key
 *    commitment checked ({@link openObject}).
 * 2. **read** — one ranged GET of exactly the chunks covering the plaintext range
 *    (`ciphertextRange`), decrypted as they arrive ({@link chunkStream}). The final chunk is
 *    fetched only when the range reaches it, or when {@link ObjectReader.verifiedSize} is asked
 *    (once; cached).
 *
 * So a range that does not touch the end costs at most 2 requests (1 when it lies inside the
 * first GET). Non-final chunks are authenticated at their own index, so their plaintext is
 * genuine even before the length is verified; `size` stays an unverified figure until
 * `verifiedSize()` (Tink's seekable-stream rule).
 *
 * @module
 */
import { readAll } from '../streams/read-all.js';
import { assertChunk, wipe } from '../bytes.js';
import { EnsealError, RangeNotSatisfiableError, isEnsealError } from '../errors.js';
import { CHUNK_SIZE, PREAMBLE_LENGTH, SEALED_CHUNK_SIZE, chunkCount, type ChunkCipher } from '../format/cobblestone.js';
import { decodeHeaderPrefix, type Header } from '../format/header.js';
import { HEADER_PREFIX_LENGTH, MAX_HEADER_LENGTH } from '../format/limits.js';
import { checkDecryptOptions, type DecryptOptions } from '../envelope/options.js';
import { plaintextSize } from '../envelope/sizes.js';
import { chunkStream, type ChunkRun } from './bucket-chunks.js';
import { checkRange } from './http-range.js';
import { readMarker, userMetadata } from './bucket-marker.js';
import { openObject, type OpenedObject } from './bucket-open.js';
import type { GetResult, ObjectMetadata, ObjectStore, ServerSideEncryption, ServerSideEncryptionInfo, StoreRange } from './store.js';

/** Header bytes the first GET assumes when no hint is known. */
export const DEFAULT_HEADER_GUESS = 4096;
/** The first GET is extended to cover the wanted chunks when they end within this many bytes. */
const MERGE_LIMIT = 48 * 1024;

/** Options of {@link ObjectReader.open}. */
export interface ReaderOptions extends DecryptOptions {
  /** SSE-C key etc., passed to every GET. */
  readonly sse?: ServerSideEncryption;
  /** Aborts every request of this reader. */
  readonly signal?: AbortSignal;
  /** Reserved metadata prefix of the marker (default `enseal-`; the at-rest layer has its own). */
  readonly markerPrefix?: string;
}

/** Hints that size the first GET (never trusted). */
export interface OpenHints {
  /** Expected body header length. */
  readonly headerLength?: number;
  /** A plaintext range about to be read: the first GET covers it if it lies near the start. */
  readonly range?: StoreRange;
}

/** Reads a store body completely, refusing more than `max` bytes. */
function readStoreBody(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  return readAll(body, {
    max,
    what: 'store body',
    tooLong: () => new EnsealError('ERR_STORE', `store returned more than the ${max} bytes asked for`, { cause: { code: 'RangeMismatch' } }),
  });
}

function truncated(what: string): EnsealError {
  return new EnsealError('ERR_TRUNCATED', what);
}

/** State an opened reader starts from. */
interface ReaderState {
  readonly storedSize: number;
  readonly etag: string | undefined;
  readonly metadata: ObjectMetadata;
  readonly sse: ServerSideEncryptionInfo | undefined;
  readonly opened: OpenedObject;
  /** Stored bytes `0..cache.length-1` already fetched. */
  readonly cache: Uint8Array;
}

/** An encrypted object opened for authenticated ranged reads. Call `close()` when done. */
export class ObjectReader {
  readonly #store: ObjectStore;
  readonly #key: string;
  readonly #opts: ReaderOptions;
  readonly #state: ReaderState;
  readonly #size: number;
  readonly #chunksAt: number;
  readonly #finalIndex: number;
  readonly #finalAt: number;
  #cipher: ChunkCipher | undefined;
  #finalVerified = false;
  #verifying: Promise<number> | undefined;

  private constructor(store: ObjectStore, key: string, opts: ReaderOptions, state: ReaderState) {
    this.#store = store;
    this.#key = key;
    this.#opts = opts;
    this.#state = state;
    this.#cipher = state.opened.cipher;
    const h = state.opened.bodyHeaderLength;
    this.#size = plaintextSize(state.storedSize, h);
    this.#chunksAt = h + PREAMBLE_LENGTH;
    this.#finalIndex = chunkCount(this.#size) - 1;
    this.#finalAt = this.#chunksAt + this.#finalIndex * SEALED_CHUNK_SIZE;
  }

  /**
   * Opens an object with one ranged GET (two if the header is longer than hinted).
   *
   * @param store - where the object lives
   * @param key - its key
   * @param opts - `keys`, expected `context`, `backend`, `sse`, `signal`
   * @param hints - header-length hint and an upcoming range (sizes the first GET)
   * @returns the reader
   * @throws EnsealError `ERR_NOT_FOUND`, `ERR_STORE`, `ERR_TRUNCATED`, `ERR_HEADER`, `ERR_CONTEXT`,
   *   `ERR_NO_KEY`, `ERR_AUTH`
   * @example
   * ```ts
   * const r = await ObjectReader.open(store, 'big.bin', { keys: [key] });
   * const bytes = await r.readBytes({ start: 1 << 30, end: (1 << 30) + 1023 });
   * r.close();
   * ```
   */
  static async open(store: ObjectStore, key: string, opts: ReaderOptions, hints: OpenHints = {}): Promise<ObjectReader> {
    const backend = checkDecryptOptions(opts);
    const guess = hints.headerLength !== undefined && hints.headerLength <= MAX_HEADER_LENGTH ? hints.headerLength : DEFAULT_HEADER_GUESS;
    let firstEnd = guess + PREAMBLE_LENGTH - 1;
    if (hints.range !== undefined) {
      const coverEnd = guess + PREAMBLE_LENGTH + (Math.floor((hints.range.end ?? hints.range.start) / CHUNK_SIZE) + 1) * SEALED_CHUNK_SIZE - 1;
      if (hints.range.end !== undefined && coverEnd <= MERGE_LIMIT) firstEnd = Math.max(firstEnd, coverEnd);
    }
    let res: GetResult;
    try {
      res = await store.get(key, { range: { start: 0, end: firstEnd }, ...common(opts) });
    } catch (e) {
      if (isEnsealError(e, 'ERR_RANGE')) throw truncated('the stored object is empty: not an enseal object');
      throw e;
    }
    const storedSize = res.size;
    const etag = res.etag;
    const metadata = { ...res.metadata };
    let head = await readStoreBody(res.body, firstEnd + 1);
    if (head.length < Math.min(storedSize, firstEnd + 1)) throw truncated(`store returned ${head.length} bytes of the object's first ${firstEnd + 1}`);
    const headerLength = decodeHeaderPrefix(head); // bad magic → ERR_HEADER; under 12 bytes → ERR_TRUNCATED
    plaintextSize(storedSize, headerLength); // an impossible length fails before any key is used
    const need = headerLength + PREAMBLE_LENGTH;
    if (need > storedSize) throw truncated('ciphertext ends inside the header or preamble');
    if (head.length < need) {
      // The header is longer than the guess: one more request for the rest.
      const more = await store.get(key, { range: { start: head.length, end: need - 1 }, ...common(opts) });
      checkSame(storedSize, etag, more);
      const rest = await readStoreBody(more.body, need - head.length);
      if (rest.length !== need - head.length) throw truncated('store returned a short header');
      const joined = new Uint8Array(need);
      joined.set(head);
      joined.set(rest, head.length);
      head = joined;
    }
    const marker = readMarker(metadata, opts.markerPrefix);
    const opened = await openObject(head.subarray(0, headerLength), head.subarray(headerLength, need), marker.header, key, opts, backend);
    let reader: ObjectReader;
    try {
      reader = new ObjectReader(store, key, opts, { storedSize, etag, metadata, sse: res.sse, opened, cache: head });
      reader.#checkMarker(marker.plaintextSize);
    } catch (e) {
      opened.cipher.dispose();
      throw e;
    }
    return reader;
  }

  /**
   * Opens an object for one whole read with a single GET: the header is parsed from the start of
   * the body stream, then the rest streams through the chunk decryptor with O(chunk) memory.
   *
   * @param store - where the object lives
   * @param key - its key
   * @param opts - `keys`, expected `context`, `backend`, `sse`, `signal`
   * @returns the reader (closed automatically when `body` settles) and the plaintext stream
   * @throws EnsealError as {@link ObjectReader.open}
   */
  static async openStream(store: ObjectStore, key: string, opts: ReaderOptions): Promise<{ reader: ObjectReader; body: ReadableStream<Uint8Array> }> {
    const backend = checkDecryptOptions(opts);
    const res = await store.get(key, common(opts));
    const source = res.body.getReader();
    let buf = new Uint8Array(0);
    const fill = async (n: number): Promise<void> => {
      while (buf.length < n) {
        const { done, value } = await source.read();
        if (done) break;
        assertChunk(value, 'store body expected Uint8Array chunks');
        const next = new Uint8Array(buf.length + value.length);
        next.set(buf);
        next.set(value, buf.length);
        buf = next;
      }
    };
    let opened: OpenedObject;
    let need: number;
    try {
      await fill(HEADER_PREFIX_LENGTH);
      const headerLength = decodeHeaderPrefix(buf.subarray(0, Math.min(buf.length, HEADER_PREFIX_LENGTH))); // ≤ 64 KiB
      need = headerLength + PREAMBLE_LENGTH;
      await fill(need);
      if (buf.length < need) throw truncated('ciphertext ends inside the header or preamble');
      const marker = readMarker(res.metadata, opts.markerPrefix);
      opened = await openObject(buf.subarray(0, headerLength), buf.subarray(headerLength, need), marker.header, key, opts, backend);
    } catch (e) {
      await source.cancel(e).catch(() => undefined);
      throw e;
    }
    let reader: ObjectReader;
    try {
      reader = new ObjectReader(store, key, opts, { storedSize: res.size, etag: res.etag, metadata: { ...res.metadata }, sse: res.sse, opened, cache: buf.subarray(0, need) });
      reader.#checkMarker(readMarker(res.metadata, opts.markerPrefix).plaintextSize);
    } catch (e) {
      opened.cipher.dispose();
      await source.cancel(e).catch(() => undefined);
      throw e;
    }
    const body = reader.#stream(source, buf.subarray(need), 0, reader.#size === 0 ? 0 : reader.#size - 1, true);
    return { reader, body };
  }

  /** Plaintext size implied by the stored size. Not authenticated: see {@link verifiedSize}. */
  get size(): number {
    return this.#size;
  }

  /** Size of the stored object (header and payload), as first reported by the store. */
  get storedSize(): number {
    return this.#state.storedSize;
  }

  /** User metadata (the bucket's reserved entries removed). */
  get metadata(): Record<string, string> {
    return userMetadata(this.#state.metadata, this.#opts.markerPrefix);
  }

  /** Stored metadata as the store returned it, the bucket's reserved entries included (hints). */
  get rawMetadata(): Record<string, string> {
    return { ...this.#state.metadata };
  }

  /** The store's entity tag at open time. */
  get etag(): string | undefined {
    return this.#state.etag;
  }

  /** The store's own server-side encryption, when it reported one. */
  get sse(): ServerSideEncryptionInfo | undefined {
    return this.#state.sse;
  }

  /** The MAC-verified header (the rewrapped metadata header when one verified). */
  get header(): Header {
    return this.#state.opened.header;
  }

  /** Where the trusted header came from. */
  get headerSource(): 'body' | 'metadata' {
    return this.#state.opened.headerSource;
  }

  /** Length of the header at the start of the stored body. */
  get bodyHeaderLength(): number {
    return this.#state.opened.bodyHeaderLength;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#cipher === undefined;
  }

  /** True once the final chunk authenticated (the size is then verified). */
  get sizeVerified(): boolean {
    return this.#finalVerified;
  }

  /**
   * Authenticates the final chunk at its index (one ranged GET unless a read already did; the
   * result, success or failure, is cached) and returns the plaintext size.
   * @returns the verified plaintext size
   * @throws EnsealError `ERR_AUTH`/`ERR_TRUNCATED` for a truncated, extended or modified object;
   *   `ERR_STATE` after `close()`
   */
  verifiedSize(): Promise<number> {
    if (this.#cipher === undefined) return Promise.reject(new EnsealError('ERR_STATE', 'the object reader was closed'));
    if (this.#finalVerified) return Promise.resolve(this.#size);
    this.#verifying ??= (async () => {
      const n = this.#state.storedSize - this.#finalAt;
      let sealed: Uint8Array;
      if (this.#state.cache.length >= this.#state.storedSize) {
        sealed = this.#state.cache.subarray(this.#finalAt);
      } else {
        const res = await this.#store.get(this.#key, { range: { start: this.#finalAt, end: this.#state.storedSize - 1 }, ...common(this.#opts) });
        checkSame(this.#state.storedSize, this.#state.etag, res);
        sealed = await readStoreBody(res.body, n);
        if (sealed.length !== n) throw truncated(`store returned ${sealed.length} of the final chunk's ${n} bytes`);
      }
      const cipher = this.#cipher;
      if (cipher === undefined) throw new EnsealError('ERR_STATE', 'the object reader was closed');
      wipe(await cipher.open(this.#finalIndex, sealed));
      this.#finalVerified = true;
      return this.#size;
    })();
    return this.#verifying;
  }

  /**
   * Starts reading a plaintext range: one ranged GET of exactly the covering chunks (none if
   * they were already fetched by the first GET).
   *
   * @param range - inclusive `{ start, end? }`; `end` past the last byte is clamped; omitted:
   *   the whole object
   * @param opts - `autoClose`: close this reader once the returned stream settles
   * @returns the authenticated plaintext of the range, as a stream
   * @throws RangeError/TypeError for a malformed range
   * @throws RangeNotSatisfiableError (`ERR_RANGE`) when `start` ≥ the size (after the final
   *   chunk authenticated, so a damaged object reports its own error)
   * @throws EnsealError `ERR_STATE` after `close()`, `ERR_STORE`, `ERR_NOT_FOUND`
   */
  async read(rangeArg?: StoreRange, opts: { readonly autoClose?: boolean } = {}): Promise<ReadableStream<Uint8Array>> {
    const range = rangeArg === undefined ? undefined : checkRange(rangeArg); // validated copy, read once
    const autoClose = opts.autoClose === true;
    if (this.#cipher === undefined) throw new EnsealError('ERR_STATE', 'the object reader was closed');
    const size = this.#size;
    const start = range?.start ?? 0;
    if (start >= size) {
      await this.verifiedSize();
      if (range === undefined) return new ReadableStream({ start: (c) => c.close() }); // empty object
      throw new RangeNotSatisfiableError(start, size);
    }
    const end = Math.min(range?.end ?? size - 1, size - 1);
    const first = Math.floor(start / CHUNK_SIZE);
    const last = end === size - 1 ? this.#finalIndex : Math.floor(end / CHUNK_SIZE);
    const storedStart = this.#chunksAt + first * SEALED_CHUNK_SIZE;
    const storedEnd = last === this.#finalIndex ? this.#state.storedSize - 1 : this.#chunksAt + (last + 1) * SEALED_CHUNK_SIZE - 1;
    if (storedEnd < this.#state.cache.length) {
      return this.#stream(undefined, this.#state.cache.subarray(storedStart, storedEnd + 1), start, end, autoClose);
    }
    const res = await this.#store.get(this.#key, { range: { start: storedStart, end: storedEnd }, ...common(this.#opts) });
    try {
      checkSame(this.#state.storedSize, this.#state.etag, res);
      if (res.range !== undefined && res.range.start !== storedStart) {
        throw new EnsealError('ERR_STORE', 'store served another range than asked', { cause: { code: 'RangeMismatch' } });
      }
    } catch (e) {
      await res.body.cancel(e).catch(() => undefined);
      throw e;
    }
    return this.#stream(res.body.getReader(), new Uint8Array(0), start, end, autoClose);
  }

  /**
   * The stored payload (preamble and every chunk) as a stream that passes each sealed chunk on
   * only after it authenticated: a verified server-to-client copy, for rewriting the object
   * under a new header. One ranged GET.
   * @returns the payload bytes, unchanged
   * @throws EnsealError `ERR_STATE` after `close()`, `ERR_STORE`; through the stream `ERR_AUTH`,
   *   `ERR_TRUNCATED`
   */
  async verifiedPayload(): Promise<ReadableStream<Uint8Array>> {
    if (this.#cipher === undefined) throw new EnsealError('ERR_STATE', 'the object reader was closed');
    const h = this.#state.opened.bodyHeaderLength;
    const preamble = this.#state.cache.slice(h, h + PREAMBLE_LENGTH);
    const res = await this.#store.get(this.#key, { range: { start: this.#chunksAt, end: this.#state.storedSize - 1 }, ...common(this.#opts) });
    checkSame(this.#state.storedSize, this.#state.etag, res);
    const chunks = chunkStream(res.body.getReader(), new Uint8Array(0), {
      firstChunk: 0,
      lastChunk: this.#finalIndex,
      finalIndex: this.#finalIndex,
      finalSealedLength: this.#state.storedSize - this.#finalAt,
      start: 0,
      end: Math.max(0, this.#size - 1),
      emit: 'ciphertext',
    }, { cipher: () => this.#cipher, onFinalVerified: () => (this.#finalVerified = true) });
    const reader = chunks.getReader();
    let sentPreamble = false;
    return new ReadableStream<Uint8Array>({
      async pull(c) {
        if (!sentPreamble) {
          sentPreamble = true;
          c.enqueue(preamble);
          return;
        }
        const { done, value } = await reader.read();
        if (done) c.close();
        else c.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
  }

  /**
   * Reads a plaintext range into memory; see {@link read}.
   * @param range - inclusive `{ start, end? }`
   * @returns the authenticated bytes
   * @throws as {@link read}, and `ERR_AUTH`/`ERR_TRUNCATED` from the chunks
   */
  async readBytes(range?: StoreRange): Promise<Uint8Array> {
    const stream = await this.read(range);
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  /** Releases the key; later reads fail with `ERR_STATE`. Idempotent. */
  close(): void {
    this.#cipher?.dispose();
    this.#cipher = undefined;
  }

  #stream(
    source: ReadableStreamDefaultReader<Uint8Array> | undefined,
    initial: Uint8Array,
    start: number,
    end: number,
    closeWhenSettled: boolean,
  ): ReadableStream<Uint8Array> {
    // A range reaching the last byte includes the final chunk (possibly empty): it authenticates the length.
    const run: ChunkRun = {
      firstChunk: Math.floor(start / CHUNK_SIZE),
      lastChunk: end >= this.#size - 1 ? this.#finalIndex : Math.floor(end / CHUNK_SIZE),
      finalIndex: this.#finalIndex,
      finalSealedLength: this.#state.storedSize - this.#finalAt,
      start,
      end,
    };
    return chunkStream(source, initial, run, {
      cipher: () => this.#cipher,
      onFinalVerified: () => {
        this.#finalVerified = true;
      },
      onSettled: closeWhenSettled ? () => this.close() : undefined,
    });
  }

  /** The marker's plaintext size is a hint: it must agree with the object, or it is refused. */
  #checkMarker(hinted: number | undefined): void {
    if (hinted !== undefined && hinted !== this.#size) {
      throw new EnsealError('ERR_HEADER', `metadata says ${hinted} plaintext bytes but the stored object holds ${this.#size}`);
    }
  }
}

function common(opts: ReaderOptions): { sse?: ServerSideEncryption; signal?: AbortSignal } {
  return { ...(opts.sse === undefined ? {} : { sse: opts.sse }), ...(opts.signal === undefined ? {} : { signal: opts.signal }) };
}

/** Later responses must describe the same object as the first (no If-Match in the contract). */
function checkSame(size: number, etag: string | undefined, res: { size: number; etag?: string }): void {
  if (res.size !== size || (etag !== undefined && res.etag !== undefined && res.etag !== etag)) {
    throw new EnsealError('ERR_STORE', 'the object changed between requests', { cause: { status: 412, code: 'PreconditionFailed' } });
  }
}
