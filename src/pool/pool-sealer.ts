/**
 * Push-based C2SP encryption on a worker pool: plaintext is copied once, straight into the slots
 * of a 64-chunk batch (16400 bytes per slot, the layout of the sealed chunks); a full batch goes
 * to the pool at once and the next one starts filling. The thread seals it into a new buffer of
 * exactly the sealed length (what goes downstream) and hands the batch buffer back for the next
 * batches ({@link Spares}: steady state allocates nothing here). Sealed batches come back in
 * order through an {@link OrderedWindow} of 2 × threads batches, so memory is bounded (one batch
 * filling plus the window, ≤ 1 MiB each, and as many spares) and a busy pool slows the writer
 * down (backpressure). `finish()` seals the mandatory short, possibly empty, final chunk (C2SP
 * §"Message chunking") and closes the session; `abort()` wipes the buffered plaintext and
 * closes it too. Output is byte-identical to `ChunkSealer` (src/format/chunked-seal.ts).
 *
 * @module
 */
import type { Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { CHUNK_SIZE, MAX_CHUNKS, SEALED_CHUNK_SIZE, TAG_LENGTH } from '../format/cobblestone.js';
import type { PoolSession } from './session.js';
import { Spares } from './spares.js';
import { OrderedWindow } from './window.js';

/** Chunks per pool job (1 MiB of plaintext: amortises the message to the thread). */
export const POOL_BATCH_CHUNKS = 64;

const BATCH_BYTES = POOL_BATCH_CHUNKS * SEALED_CHUNK_SIZE;

/** Incremental sealer on a {@link PoolSession}. Not reentrant: await each call. */
export class PoolSealer {
  readonly #session: PoolSession;
  readonly #window: OrderedWindow;
  readonly #spares: Spares;
  #buf: Uint8Array;
  #chunks = 0; // full chunks in #buf
  #fill = 0; // bytes of the chunk being filled
  #index = 0; // index of #buf's first chunk
  #finished = false;
  #error: unknown;

  /** @param session - the message's pool session (closed by `finish()` or `abort()`) */
  constructor(session: PoolSession) {
    this.#session = session;
    this.#window = new OrderedWindow(2 * session.threads);
    this.#spares = new Spares(BATCH_BYTES, 2 * session.threads + 1);
    this.#buf = this.#spares.take();
  }

  #live(): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#finished) throw new EnsealError('ERR_STATE', 'write after the message was finished');
  }

  #submit(count: number, last: number): Promise<Bytes[]> {
    const first = this.#index;
    if (first + count > MAX_CHUNKS) throw new EnsealError('ERR_LIMIT', 'message exceeds the 2^38-chunk limit');
    const buf = this.#buf.buffer as ArrayBuffer;
    this.#index += count;
    this.#chunks = 0;
    this.#fill = 0;
    this.#buf = this.#spares.take();
    return this.#window.add(this.#session.run('seal', first, count, last, buf, true), (r) => {
      this.#spares.give(r.spare);
      return new Uint8Array(r.buf); // exactly (count - 1) × 16400 + last + 16 bytes
    });
  }

  async #guard<T>(f: () => Promise<T>): Promise<T> {
    this.#live();
    try {
      return await f();
    } catch (e) {
      this.#error ??= e;
      this.abort();
      throw e;
    }
  }

  /**
   * Adds plaintext (copied before this returns; never retained or mutated).
   * @param data - plaintext bytes
   * @returns sealed batches that are ready, in order (their concatenation continues the payload)
   * @throws EnsealError `ERR_STATE` after finish/abort or when the pool closed; the same error on
   *   every later call
   */
  push(data: Uint8Array): Promise<Bytes[]> {
    this.#live();
    const submitted: Promise<Bytes[]>[] = [];
    let off = 0;
    while (off < data.length) {
      const n = Math.min(CHUNK_SIZE - this.#fill, data.length - off);
      this.#buf.set(data.subarray(off, off + n), this.#chunks * SEALED_CHUNK_SIZE + this.#fill);
      this.#fill += n;
      off += n;
      if (this.#fill === CHUNK_SIZE) {
        this.#chunks++;
        this.#fill = 0;
        if (this.#chunks === POOL_BATCH_CHUNKS) {
          submitted.push(this.#guard(() => this.#submit(POOL_BATCH_CHUNKS, CHUNK_SIZE)));
          break; // continue once this batch found room in the window
        }
      }
    }
    if (submitted.length === 0) return Promise.resolve([]);
    return this.#guard(async () => {
      const out = await submitted[0]!;
      if (off < data.length) out.push(...(await this.push(data.subarray(off))));
      return out;
    });
  }

  /**
   * Seals the final short chunk, waits for every batch, and closes the session.
   * @returns the rest of the payload, in order
   * @throws EnsealError `ERR_STATE` when already finished or the pool closed
   */
  async finish(): Promise<Bytes[]> {
    const out = await this.#guard(async () => {
      this.#finished = true;
      const ready = await this.#submit(this.#chunks + 1, this.#fill);
      ready.push(...(await this.#window.drain()));
      return ready;
    });
    this.#spares.wipe();
    await this.#session.close(); // every thread drops the key after the message's last job
    return out;
  }

  /** Abandons the message: wipes buffered plaintext, fails what is in flight, closes the session. Idempotent. */
  abort(): void {
    this.#finished = true;
    this.#error ??= new EnsealError('ERR_STATE', 'the stream was cancelled');
    this.#buf.fill(0);
    this.#window.fail(this.#error);
    this.#spares.wipe();
    void this.#session.close();
  }
}
