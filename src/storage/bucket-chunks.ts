/**
 * Decrypting a run of consecutive sealed chunks as they arrive from a store's body stream
 * (C2SP chunked-encryption §"Implementation notes": chunk k is at payload offset
 * 56 + k × 16400). Plaintext of a chunk is enqueued only after its tag verified at its own
 * index; the final chunk is opened at the final index, which authenticates the object's length.
 * Memory is bounded by one batch of chunks, whatever the range.
 *
 * A body that ends early fails with `ERR_TRUNCATED`, one that runs long with `ERR_STORE`: in
 * both cases after releasing only the plaintext of chunks that verified.
 *
 * @module
 */
import { assertChunk } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { CHUNK_SIZE, SEALED_CHUNK_SIZE, type ChunkCipher } from '../format/cobblestone.js';

/** Chunks decrypted per backend call. */
const BATCH = 16;

/** Which chunks a body carries and which plaintext bytes to emit. */
export interface ChunkRun {
  /** Index of the first chunk in the body. */
  readonly firstChunk: number;
  /** Index of the last chunk in the body. */
  readonly lastChunk: number;
  /** Index of the message's final (short) chunk. */
  readonly finalIndex: number;
  /** Stored bytes of the final chunk (tag included). */
  readonly finalSealedLength: number;
  /** First plaintext byte to emit (absolute offset in the plaintext). */
  readonly start: number;
  /** Last plaintext byte to emit, inclusive (absolute). */
  readonly end: number;
  /**
   * `plaintext` (default): emit the range's plaintext. `ciphertext`: emit each sealed chunk
   * unchanged, but only after it authenticated (a verified copy; `start`/`end` unused).
   */
  readonly emit?: 'plaintext' | 'ciphertext';
}

/** Callbacks of {@link chunkStream}. */
export interface ChunkStreamHooks {
  /** The keyed cipher, or `undefined` once the owner was disposed (then reads fail `ERR_STATE`). */
  cipher(): ChunkCipher | undefined;
  /** Called when the final chunk authenticated (the length is then verified). */
  onFinalVerified?(): void;
  /** Called once when the stream ends, errors or is cancelled. */
  onSettled?(): void;
}

/**
 * Stored bytes of a run of chunks.
 * @param run - the chunk indices
 * @returns bytes
 * @example
 * ```ts
 * runLength({ firstChunk: 0, lastChunk: 1, finalIndex: 1, finalSealedLength: 20, start: 0, end: 16387 }); // 16420
 * ```
 */
export function runLength(run: ChunkRun): number {
  const last = run.lastChunk === run.finalIndex ? run.finalSealedLength : SEALED_CHUNK_SIZE;
  return (run.lastChunk - run.firstChunk) * SEALED_CHUNK_SIZE + last;
}

/**
 * A plaintext stream over the chunks of `run`, read from `body` after the bytes in `initial`.
 *
 * @param body - reader of the store's body (owned: cancelled on error or cancel)
 * @param initial - bytes of the run already received
 * @param run - chunk indices and the plaintext range
 * @param hooks - cipher access and lifecycle callbacks
 * @returns the authenticated plaintext of `run.start..run.end`
 * @example
 * ```ts
 * const plain = chunkStream(res.body.getReader(), new Uint8Array(0), run, { cipher: () => cipher });
 * ```
 */
export function chunkStream(
  body: ReadableStreamDefaultReader<Uint8Array> | undefined,
  initial: Uint8Array,
  run: ChunkRun,
  hooks: ChunkStreamHooks,
): ReadableStream<Uint8Array> {
  const total = runLength(run);
  let received = 0; // bytes of the run taken in so far
  let index = run.firstChunk; // next chunk to open
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let settled = false;
  let bodyDone = body === undefined;

  const settle = (): void => {
    if (settled) return;
    settled = true;
    pending = []; // ciphertext: nothing to wipe
    hooks.onSettled?.();
  };

  const take = (b: Uint8Array): void => {
    if (b.length === 0) return;
    if (received + b.length > total) {
      throw new EnsealError('ERR_STORE', `store returned more than the ${total} bytes asked for`, { cause: { code: 'RangeMismatch' } });
    }
    received += b.length;
    pending.push(b);
    pendingBytes += b.length;
  };

  /** Removes and returns the first `n` pending bytes as one array. */
  const cut = (n: number): Uint8Array => {
    const first = pending[0] as Uint8Array;
    if (first.length >= n) {
      // No copy when one received piece holds the whole batch (the common case).
      if (first.length === n) pending.shift();
      else pending[0] = first.subarray(n);
      pendingBytes -= n;
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const head = pending[0] as Uint8Array;
      const k = Math.min(head.length, n - off);
      out.set(head.subarray(0, k), off);
      off += k;
      if (k === head.length) pending.shift();
      else pending[0] = head.subarray(k);
    }
    pendingBytes -= n;
    return out;
  };

  /** Enqueues the part of a chunk's plaintext inside the range; returns whether it enqueued. */
  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, chunkIndex: number, pt: Uint8Array): boolean => {
    const chunkStart = chunkIndex * CHUNK_SIZE;
    const from = Math.max(run.start, chunkStart) - chunkStart;
    const to = Math.min(run.end + 1, chunkStart + pt.length) - chunkStart;
    if (from === 0 && to === pt.length && to > 0) {
      controller.enqueue(pt); // the whole chunk: handed over, not copied (nor wiped: the reader owns it)
      return true;
    }
    if (to > from) controller.enqueue(pt.slice(from, to));
    pt.fill(0);
    return to > from;
  };

  try {
    take(initial);
  } catch (e) {
    void body?.cancel().catch(() => undefined);
    return new ReadableStream({ start: (c) => (settle(), c.error(e)) });
  }

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const cipher = hooks.cipher();
            if (cipher === undefined) throw new EnsealError('ERR_STATE', 'the object reader was closed');
            if (index > run.lastChunk) {
              settle();
              controller.close();
              void body?.cancel().catch(() => undefined); // every asked byte arrived
              return;
            }
            // Whole non-final chunks available: open a batch.
            const nonFinalLeft = Math.min(run.lastChunk, run.finalIndex - 1) - index + 1;
            const fullAvailable = Math.floor(pendingBytes / SEALED_CHUNK_SIZE);
            const n = Math.min(BATCH, nonFinalLeft, fullAvailable);
            if (n > 0 && (n === BATCH || n === nonFinalLeft || bodyDone)) {
              const sealed = cut(n * SEALED_CHUNK_SIZE);
              const parts: Uint8Array[] = [];
              for (let k = 0; k < n; k++) parts.push(sealed.subarray(k * SEALED_CHUNK_SIZE, (k + 1) * SEALED_CHUNK_SIZE));
              const pts = await cipher.openChunks(index, parts);
              let emitted = false;
              if (run.emit === 'ciphertext') {
                for (const pt of pts) pt.fill(0);
                controller.enqueue(sealed);
                emitted = true;
              } else pts.forEach((pt, k) => (emitted = emit(controller, index + k, pt) || emitted));
              index += n;
              if (emitted) return; // else keep going: a pull must enqueue or close
              continue;
            }
            if (index === run.finalIndex && pendingBytes >= run.finalSealedLength) {
              const sealed = cut(run.finalSealedLength);
              const pt = await cipher.open(index, sealed);
              hooks.onFinalVerified?.();
              let emitted = true;
              if (run.emit === 'ciphertext') {
                pt.fill(0);
                controller.enqueue(sealed);
              } else emitted = emit(controller, index, pt);
              index++;
              if (emitted) return;
              continue;
            }
            if (bodyDone) {
              throw new EnsealError('ERR_TRUNCATED', `store body ended after ${received} of ${total} bytes`);
            }
            const { done, value } = await (body as ReadableStreamDefaultReader<Uint8Array>).read();
            if (done) {
              bodyDone = true;
              continue;
            }
            assertChunk(value, 'store body expected Uint8Array chunks');
            take(value);
          }
        } catch (e) {
          settle();
          void body?.cancel(e).catch(() => undefined);
          throw e;
        }
      },
      async cancel(reason) {
        settle();
        await body?.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
