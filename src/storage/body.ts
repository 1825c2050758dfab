/**
 * Body plumbing shared by the adapters: collecting a body whose length must be known, a length
 * guard on bodies the store sends (a short or long body, or a connection lost mid-body, is a
 * store failure, reported before the stream ends cleanly), Web ↔ Node stream bridges that import
 * no `node:` module (Node's stream
 * module is reached through `process.getBuiltinModule`, so the browser build stays clean), and
 * a client-side slice for servers that ignore `Range`.
 *
 * @module
 */
import { assertChunk } from '../bytes.js';
import { readAll } from '../streams/read-all.js';
import { isEnsealError } from '../errors.js';
import { storeError, summariseCause } from './errors.js';

/** Largest body collected into memory (S3's single-PUT limit, 5 GiB). */
export const MAX_COLLECTED_BYTES = 5 * 1024 ** 3;

/**
 * Checks a put body's type.
 *
 * @param body - what the caller passed
 * @throws TypeError unless it is a `Uint8Array` or a `ReadableStream`
 * @example
 * ```ts
 * checkBody(new Uint8Array(1));
 * ```
 */
export function checkBody(body: unknown): asserts body is Uint8Array | ReadableStream<Uint8Array> {
  if (!(body instanceof Uint8Array) && !(body instanceof ReadableStream)) {
    throw new TypeError('"body" expected Uint8Array or ReadableStream<Uint8Array>');
  }
  if (body instanceof Uint8Array) assertChunk(body, '"body" expected Uint8Array or ReadableStream<Uint8Array>'); // not a detached view (it would store an empty object)
}

/**
 * Reads a body into one buffer (for stores that need the length up front).
 *
 * @param body - bytes (returned as they are) or a stream of `Uint8Array`s
 * @param signal - aborts the read (the stream is cancelled)
 * @param maxBytes - refuse bodies longer than this (default {@link MAX_COLLECTED_BYTES})
 * @returns the bytes
 * @throws TypeError for chunks that are not `Uint8Array`s
 * @throws RangeError when the body exceeds `maxBytes`
 * @example
 * ```ts
 * const bytes = await collectBody(new Blob(['hi']).stream());
 * ```
 */
export async function collectBody(body: Uint8Array | ReadableStream<Uint8Array>, signal?: AbortSignal, maxBytes = MAX_COLLECTED_BYTES): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  return readAll(body, { max: maxBytes, tooLong: () => new RangeError(`"body" exceeds ${maxBytes} bytes`), ...(signal === undefined ? {} : { signal }) });
}

/**
 * A Web stream over an async iterable of byte chunks (a Node `Readable`, an SDK body), pulled
 * on demand; cancelling it calls `cancel` (e.g. destroys the socket).
 *
 * @param source - async iterable of `Uint8Array` (Node `Buffer`s included)
 * @param cancel - releases the source
 * @param onDone - called once when the stream ends, errors or is cancelled (e.g. to remove an
 *   abort listener)
 * @returns a `ReadableStream<Uint8Array>`; an error of the source errors it unchanged (adapters
 *   guard it with {@link exactLength}, which types a lost connection as `ERR_STORE`)
 * @example
 * ```ts
 * const web = iterableStream(nodeReadable, () => nodeReadable.destroy());
 * ```
 */
export function iterableStream(source: AsyncIterable<Uint8Array>, cancel: (reason: unknown) => void, onDone?: () => void): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  let finished = false;
  const finish = (): void => {
    if (!finished) {
      finished = true;
      onDone?.();
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let r: IteratorResult<Uint8Array>;
        try {
          r = await it.next();
        } catch (e) {
          finish();
          throw e;
        }
        if (r.done) {
          finish();
          controller.close();
        } else controller.enqueue(new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength));
      },
      async cancel(reason) {
        finish();
        cancel(reason);
        await it.return?.().catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * The error a failed read of a store body surfaces as: the caller's abort keeps its reason; an
 * error that is already an `EnsealError`, or an `AbortError`/`TimeoutError`, passes unchanged;
 * anything else (a dropped connection: undici's `TypeError: terminated`, Node's
 * `Error: aborted`, `ECONNRESET`) becomes `ERR_STORE` with code `NetworkError` and a summarised
 * cause, so no raw network error escapes.
 *
 * @param e - what the body read threw
 * @param store - store name for the message
 * @param failure - status and request id of the response
 * @param signal - the caller's signal: when it aborted, its reason is returned
 * @returns the error to raise
 * @example
 * ```ts
 * try { await reader.read() } catch (e) { throw bodyReadError(e, 'fetch', { status: 200 }, signal) }
 * ```
 */
export function bodyReadError(e: unknown, store: string, failure: { status?: number; requestId?: string } = {}, signal?: AbortSignal): unknown {
  if (signal?.aborted === true) return signal.reason;
  if (isEnsealError(e)) return e;
  const name = typeof e === 'object' && e !== null ? (e as { name?: unknown }).name : undefined;
  if (name === 'AbortError' || name === 'TimeoutError') return e; // an abort (the signal was not passed here)
  return storeError(store, 'get body (connection lost)', { ...failure, code: 'NetworkError', cause: summariseCause(e) });
}

/**
 * Guards a body the store sends: it must be exactly `length` bytes. Fewer (a cut connection
 * that ended cleanly) or more is an `ERR_STORE` error on the stream, raised before it would end;
 * a read error of the body (a dropped connection) is mapped by {@link bodyReadError}.
 *
 * @param body - the store's body
 * @param length - the length the store announced (range length or object size)
 * @param store - store name for the message
 * @param failure - status and request id of the response
 * @param signal - the caller's signal (an abort keeps its reason instead of becoming `ERR_STORE`)
 * @returns a stream that errors on a length mismatch or a lost connection
 * @example
 * ```ts
 * const guarded = exactLength(res.body!, 1024, 'fetch', { status: 206 });
 * ```
 */
export function exactLength(body: ReadableStream<Uint8Array>, length: number, store: string, failure: { status?: number; requestId?: string } = {}, signal?: AbortSignal): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (e) {
          throw bodyReadError(e, store, failure, signal);
        }
        if (r.done) {
          if (seen !== length) throw storeError(store, `get body (${seen} of ${length} bytes, cut short)`, { ...failure, code: 'ShortBody' });
          controller.close();
          return;
        }
        seen += r.value.length;
        if (seen > length) {
          const err = storeError(store, `get body (more than the ${length} bytes announced)`, { ...failure, code: 'LongBody' });
          await reader.cancel(err).catch(() => undefined);
          throw err;
        }
        controller.enqueue(r.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Keeps bytes `start..end` (inclusive) of a whole-object body (for a server that answered a
 * ranged GET with 200 and the whole object).
 *
 * @param body - the whole object
 * @param start - first byte kept
 * @param end - last byte kept, inclusive
 * @returns the slice as a stream (the rest of the source is cancelled once `end` is reached)
 * @example
 * ```ts
 * const part = sliceStream(wholeBody, 10, 19);
 * ```
 */
export function sliceStream(body: ReadableStream<Uint8Array>, start: number, end: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let pos = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          if (pos > end) {
            controller.close();
            await reader.cancel().catch(() => undefined);
            return;
          }
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            return;
          }
          const from = Math.max(0, start - pos);
          const to = Math.min(value.length, end + 1 - pos);
          pos += value.length;
          if (from < to) {
            controller.enqueue(value.subarray(from, to));
            return;
          }
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * The body of a ranged answer, guarded by {@link exactLength} and cut to the requested bytes when
 * the store served more (see `checkServedRange`).
 *
 * @param raw - the store's body
 * @param served - `checkServedRange`'s answer
 * @param store - store name
 * @param failure - status and request id of the response
 * @param signal - the caller's signal (see {@link exactLength})
 * @returns the requested bytes
 * @example
 * ```ts
 * const body = servedBody(raw, checkServedRange(name, range, contentRange, failure), name, failure);
 * ```
 */
export function servedBody(
  raw: ReadableStream<Uint8Array>,
  served: { start: number; end: number; offset: number; servedLength: number },
  store: string,
  failure: { status?: number; requestId?: string },
  signal?: AbortSignal,
): ReadableStream<Uint8Array> {
  const guarded = exactLength(raw, served.servedLength, store, failure, signal);
  const length = served.end - served.start + 1;
  return served.offset === 0 && length === served.servedLength ? guarded : sliceStream(guarded, served.offset, served.offset + length - 1);
}

interface NodeStreamModule {
  Readable: { fromWeb(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> & { destroy(e?: Error): void } };
}

/**
 * A Node `Readable` over a Web stream, for SDKs whose Node HTTP layer takes only Node streams.
 *
 * @param body - the Web stream
 * @returns a Node `Readable`, or `undefined` outside Node (no `process.getBuiltinModule`)
 * @example
 * ```ts
 * const readable = nodeReadable(stream) ?? await collectBody(stream);
 * ```
 */
export function nodeReadable(body: ReadableStream<Uint8Array>): (AsyncIterable<Uint8Array> & { destroy(e?: Error): void }) | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return undefined;
  const mod = proc.getBuiltinModule('node:stream') as NodeStreamModule | undefined;
  return mod?.Readable.fromWeb(body);
}
