/**
 * Reading a plaintext body in fixed-size pieces for a multipart upload, with one byte of
 * look-ahead so the last part is known when it is read (the last part carries the C2SP final
 * chunk). A `Uint8Array` body is served as views (never copied, never wiped: the caller owns
 * it); a stream body is copied into fresh buffers the upload owns and wipes.
 *
 * @module
 */
import { assertChunk, copyBytes, detachedDuring } from '../bytes.js';

/** A piece of plaintext and whether the upload owns (and must wipe) its buffer. */
export interface Piece {
  readonly bytes: Uint8Array;
  readonly owned: boolean;
}

/** Sequential reader of a body. */
export interface PartSource {
  /** Up to `n` bytes; fewer only at the end of the body. */
  read(n: number): Promise<Piece>;
  /** Whether the body has no more bytes (reads ahead at most one stream chunk). */
  atEnd(): Promise<boolean>;
  /** Cancels the underlying stream (after a failure). */
  cancel(reason: unknown): Promise<void>;
}

/**
 * A {@link PartSource} over bytes.
 * @param bytes - the body (not copied, not modified)
 * @returns the source
 * @example
 * ```ts
 * const piece = await bytesSource(bytes).read(16384); // a view, owned: false
 * ```
 */
export function bytesSource(bytes: Uint8Array): PartSource {
  let pos = 0;
  const length = bytes.length; // read once: a buffer transferred away meanwhile reads as empty
  const live = (): void => {
    if (bytes.length !== length) throw detachedDuring('body');
  };
  return {
    read: async (n) => {
      live();
      const out = bytes.subarray(pos, Math.min(length, pos + n));
      pos += out.length;
      return { bytes: out, owned: false };
    },
    atEnd: async () => {
      live();
      return pos >= length;
    },
    cancel: async () => undefined,
  };
}

/**
 * A {@link PartSource} over a stream, after bytes already taken from it.
 * @param reader - the stream's reader (owned: cancelled on failure)
 * @param initial - bytes already read from it, in order (copied)
 * @returns the source
 * @example
 * ```ts
 * const src = streamSource(file.stream().getReader());
 * const first = await src.read(8 << 20);
 * ```
 */
export function streamSource(reader: ReadableStreamDefaultReader<Uint8Array>, initial: readonly Uint8Array[] = []): PartSource {
  const queue: Uint8Array[] = initial.filter((b) => b.length > 0).map((b) => copyBytes(b));
  let done = false;
  const pull = async (): Promise<boolean> => {
    if (done) return false;
    const { done: d, value } = await reader.read();
    if (d) {
      done = true;
      return false;
    }
    assertChunk(value, '"body" stream expected Uint8Array chunks');
    if (value.length > 0) queue.push(copyBytes(value));
    return true;
  };
  return {
    async read(n) {
      const out = new Uint8Array(n);
      let fill = 0;
      while (fill < n) {
        if (queue.length === 0 && !(await pull())) break;
        const head = queue[0];
        if (head === undefined) continue;
        const k = Math.min(head.length, n - fill);
        out.set(head.subarray(0, k), fill);
        head.subarray(0, k).fill(0); // our copy of the caller's plaintext
        fill += k;
        if (k === head.length) queue.shift();
        else queue[0] = head.subarray(k);
      }
      return { bytes: fill === n ? out : out.subarray(0, fill), owned: true };
    },
    async atEnd() {
      while (queue.length === 0) if (!(await pull())) return true;
      return false;
    },
    async cancel(reason) {
      for (const b of queue) b.fill(0);
      queue.length = 0;
      await reader.cancel(reason).catch(() => undefined);
    },
  };
}

/** A body split by {@link splitBody}: small enough for one PUT, or a source for multipart. */
export type SplitBody = { readonly kind: 'single'; readonly bytes: Uint8Array; readonly owned: boolean } | { readonly kind: 'multipart'; readonly source: PartSource; readonly length?: number };

/**
 * Decides between one PUT and a multipart upload: bytes up to `threshold` (or any length when
 * `forceMultipart`) are sent whole; a stream is read up to `threshold + 1` bytes first.
 *
 * @param body - bytes (not copied) or a stream of unknown length
 * @param threshold - largest body sent in one PUT
 * @param forceMultipart - always multipart (resumable uploads)
 * @returns the split body
 * @throws TypeError for a body that is neither, or stream chunks that are not `Uint8Array`s
 * @example
 * ```ts
 * const split = await splitBody(stream, 8 << 20); // { kind: 'single', bytes } for a short stream
 * ```
 */
export async function splitBody(body: Uint8Array | ReadableStream<Uint8Array>, threshold: number, forceMultipart = false): Promise<SplitBody> {
  if (body instanceof Uint8Array) {
    return body.length <= threshold && !forceMultipart ? { kind: 'single', bytes: body, owned: false } : { kind: 'multipart', source: bytesSource(body), length: body.length };
  }
  if (!(body instanceof ReadableStream)) throw new TypeError('"body" expected Uint8Array or ReadableStream<Uint8Array>');
  const reader = body.getReader();
  const head: Uint8Array[] = [];
  let n = 0;
  let ended = false;
  try {
    while (n <= threshold) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      assertChunk(value, '"body" stream expected Uint8Array chunks');
      head.push(copyBytes(value));
      n += value.length;
    }
  } catch (e) {
    for (const h of head) h.fill(0);
    await reader.cancel(e).catch(() => undefined);
    throw e;
  }
  if (ended && !forceMultipart) {
    const all = new Uint8Array(n);
    let off = 0;
    for (const h of head) {
      all.set(h, off);
      off += h.length;
      h.fill(0);
    }
    return { kind: 'single', bytes: all, owned: true };
  }
  const source = streamSource(reader, head);
  for (const h of head) h.fill(0);
  return { kind: 'multipart', source };
}
