/**
 * Push-based C2SP decryption on a worker pool. The 56-byte preamble is collected first and the
 * commitment checked (through the `keyer`) before the session opens and any chunk is touched.
 * Sealed chunks are then copied once into a 64-chunk batch; a full batch goes to the pool (a
 * 16400-byte chunk is never final, so no look-ahead is needed) and a thread opens it into a new
 * buffer of exactly the plaintext length, returned only when every tag in it verified; the batch
 * buffer comes back for the next batches ({@link Spares}). Batches come back in order
 * through an {@link OrderedWindow} of 2 × threads batches (bounded memory, backpressure).
 *
 * A failing chunk releases nothing of its batch and nothing after it: the thread wipes the batch,
 * and every later result is wiped on arrival. `finish()` requires a short final chunk of at least
 * one tag (C2SP §"Implementation notes"), else `ERR_TRUNCATED`. After any failure the opener stays
 * failed; `abort()` closes the session at once.
 *
 * @module
 */
import { wipe, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { CHUNK_SIZE, MAX_CHUNKS, PREAMBLE_LENGTH, SEALED_CHUNK_SIZE, TAG_LENGTH, missingFinalChunk } from '../format/cobblestone.js';
import { POOL_BATCH_CHUNKS } from './pool-sealer.js';
import { openSession, type PoolSession, type WorkersOption } from './session.js';
import { Spares } from './spares.js';
import { OrderedWindow } from './window.js';

/** Turns the preamble into `key || base nonce` after checking the commitment (the opener wipes it). */
export type SecretKeyer = (preamble: Bytes) => Promise<Bytes>;

const BATCH_BYTES = POOL_BATCH_CHUNKS * SEALED_CHUNK_SIZE;

/** Incremental opener on a worker pool. Not reentrant: await each call. */
export class PoolOpener {
  readonly #workers: WorkersOption;
  readonly #keyer: SecretKeyer;
  #session: PoolSession | undefined;
  #window: OrderedWindow | undefined;
  readonly #preamble = new Uint8Array(PREAMBLE_LENGTH);
  #preambleFill = 0;
  #spares: Spares | undefined;
  #buf: Uint8Array | undefined;
  #fill = 0;
  #index = 0;
  #finished = false;
  #error: unknown;

  /**
   * @param workers - the `workers` option (a thread count or a pool)
   * @param keyer - derives and checks the message secret from the preamble
   */
  constructor(workers: WorkersOption, keyer: SecretKeyer) {
    this.#workers = workers;
    this.#keyer = keyer;
  }

  async #guard<T>(f: () => Promise<T>): Promise<T> {
    if (this.#error !== undefined) throw this.#error;
    try {
      const out = await f();
      if (this.#error !== undefined) {
        for (const b of [out].flat() as Bytes[]) b.fill(0); // aborted meanwhile: release nothing
        throw this.#error;
      }
      return out;
    } catch (e) {
      this.#error ??= e;
      this.abort();
      throw e;
    }
  }

  #submit(count: number, last: number): Promise<Bytes[]> {
    const first = this.#index;
    if (first + count > MAX_CHUNKS) throw new EnsealError('ERR_LIMIT', 'message exceeds the 2^38-chunk limit');
    const buf = this.#buf!.buffer as ArrayBuffer;
    this.#index += count;
    this.#fill = 0;
    this.#buf = this.#spares!.take();
    return this.#window!.add(this.#session!.run('open', first, count, last, buf, true), (r) => {
      this.#spares?.give(r.spare);
      return new Uint8Array(r.buf); // exactly (count - 1) × 16384 + last - 16 bytes
    });
  }

  /**
   * Adds ciphertext (copied before this returns; never retained).
   * @param data - ciphertext bytes
   * @returns plaintext of batches that are ready and authenticated, in order
   * @throws EnsealError `ERR_AUTH` (commitment, or a chunk with `chunk`), and the same error on
   *   every later call
   */
  push(data: Uint8Array): Promise<Bytes[]> {
    return this.#guard(async () => {
      let off = 0;
      if (this.#session === undefined) {
        const n = Math.min(PREAMBLE_LENGTH - this.#preambleFill, data.length);
        this.#preamble.set(data.subarray(0, n), this.#preambleFill);
        this.#preambleFill += n;
        off = n;
        if (this.#preambleFill < PREAMBLE_LENGTH) return [];
        const secret = await this.#keyer(this.#preamble);
        try {
          if (this.#error !== undefined) throw this.#error; // aborted while the keys were derived
          this.#session = openSession(this.#workers, secret);
        } finally {
          wipe(secret);
        }
        this.#window = new OrderedWindow(2 * this.#session.threads);
        this.#spares = new Spares(BATCH_BYTES, 2 * this.#session.threads + 1);
        this.#buf = this.#spares.take();
      }
      const out: Bytes[] = [];
      try {
        while (off < data.length) {
          const n = Math.min(BATCH_BYTES - this.#fill, data.length - off);
          this.#buf!.set(data.subarray(off, off + n), this.#fill);
          this.#fill += n;
          off += n;
          if (this.#fill === BATCH_BYTES) out.push(...(await this.#submit(POOL_BATCH_CHUNKS, SEALED_CHUNK_SIZE)));
        }
      } catch (e) {
        for (const b of out) b.fill(0);
        throw e;
      }
      return out;
    });
  }

  /**
   * Ends the message: opens the short final chunk, waits for every batch, closes the session.
   * @returns the rest of the plaintext, in order, all authenticated
   * @throws EnsealError `ERR_TRUNCATED` when the preamble is incomplete or no short final chunk
   *   follows the last full chunk; `ERR_AUTH` when a chunk fails
   */
  async finish(): Promise<Bytes[]> {
    const out = await this.#guard(async () => {
      if (this.#finished) throw new EnsealError('ERR_STATE', 'message already finished');
      this.#finished = true;
      if (this.#session === undefined) {
        throw new EnsealError('ERR_TRUNCATED', 'ciphertext was tampered with or truncated: it ends inside the payload preamble');
      }
      const full = Math.floor(this.#fill / SEALED_CHUNK_SIZE);
      const rest = this.#fill % SEALED_CHUNK_SIZE;
      if (rest < TAG_LENGTH) {
        const before = await this.#window!.drain(); // an earlier failing chunk is reported first
        for (const b of before) b.fill(0);
        throw missingFinalChunk();
      }
      const ready = await this.#submit(full + 1, rest);
      ready.push(...(await this.#window!.drain()));
      return ready;
    });
    this.#spares?.wipe();
    await this.#session?.close();
    return out;
  }

  /** Abandons the message: wipes buffered ciphertext, fails what is in flight, closes the session. Idempotent. */
  abort(): void {
    this.#error ??= new EnsealError('ERR_STATE', 'the stream was cancelled');
    this.#buf?.fill(0);
    this.#window?.fail(this.#error);
    this.#spares?.wipe();
    void this.#session?.close();
  }
}
