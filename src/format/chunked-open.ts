/**
 * Push-based C2SP decryption. It first collects the 56-byte preamble and checks the commitment
 * (through the `keyer` callback) before any chunk; then it authenticates every complete
 * 16400-byte chunk as soon as it has arrived and releases its plaintext only after its tag
 * verified. A 16400-byte chunk is never final (the final chunk is always short), so no
 * look-ahead is needed. `finish()` requires a short final chunk of at least one tag, else the
 * message was truncated (spec §"Implementation notes").
 *
 * After any failure the opener stays failed: every later call rethrows the same error. `abort()`
 * (a cancelled stream) disposes the keys at once, and every later call, or a call in flight,
 * fails with `ERR_STATE`.
 *
 * @module
 */
import type { Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { BATCH_CHUNKS } from './chunked-seal.js';
import { Framer } from '../streams/framer.js';
import { PREAMBLE_LENGTH, SEALED_CHUNK_SIZE, TAG_LENGTH, missingFinalChunk, type ChunkCipher } from './cobblestone.js';

/** Turns the 56-byte preamble into a keyed cipher, checking the commitment. */
export type Keyer = (preamble: Bytes) => Promise<ChunkCipher>;

/** Incremental opener. Not reentrant: await each call. */
export class ChunkOpener {
  readonly #keyer: Keyer;
  #cipher: ChunkCipher | undefined;
  #preamble = new Uint8Array(PREAMBLE_LENGTH);
  #preambleFill = 0;
  readonly #framer = new Framer(SEALED_CHUNK_SIZE);
  #index = 0;
  #error: unknown;
  #finished = false;

  /** @param keyer - derives and checks the message keys from the preamble */
  constructor(keyer: Keyer) {
    this.#keyer = keyer;
  }

  /** Plaintext bytes released so far correspond to this many authenticated chunks. */
  get chunkIndex(): number {
    return this.#index;
  }

  /**
   * Adds ciphertext; returns the plaintext of every chunk it completed, each authenticated.
   * @throws EnsealError `ERR_AUTH` (commitment or chunk), and the same error on every later call
   */
  push(data: Uint8Array): Bytes[] | Promise<Bytes[]> {
    const ready = this.#cipher;
    if (ready !== undefined && ready.sync && this.#error === undefined) {
      // Synchronous cipher (node:crypto): no promise per write. Same rules as below: a chunk's
      // plaintext is returned only after its tag verified, nothing of a failing write is.
      try {
        return this.#framer.pushSync(data, (sealed) => this.#openSync(ready, sealed));
      } catch (e) {
        this.#error ??= e;
        ready.dispose();
        return Promise.reject(e);
      }
    }
    return this.#guard(async () => {
      let off = 0;
      if (this.#cipher === undefined) {
        const n = Math.min(PREAMBLE_LENGTH - this.#preambleFill, data.length);
        this.#preamble.set(data.subarray(0, n), this.#preambleFill);
        this.#preambleFill += n;
        off = n;
        if (this.#preambleFill < PREAMBLE_LENGTH) return [];
        const cipher = await this.#keyer(this.#preamble);
        if (this.#error !== undefined) {
          cipher.dispose(); // aborted while the keys were being derived
          throw this.#error;
        }
        this.#cipher = cipher;
      }
      const cipher = this.#cipher;
      if (cipher.sync) return this.#framer.pushSync(off === 0 ? data : data.subarray(off), (sealed) => this.#openSync(cipher, sealed));
      return this.#framer.push(off === 0 ? data : data.subarray(off), async (sealed) => {
        const out: Bytes[] = [];
        try {
          for (let i = 0; i < sealed.length; i += BATCH_CHUNKS) {
            const batch = sealed.length <= BATCH_CHUNKS ? sealed : sealed.slice(i, i + BATCH_CHUNKS);
            for (const p of await cipher.openChunks(this.#index, batch)) out.push(p);
            this.#index += batch.length;
          }
        } catch (e) {
          for (const b of out) b.fill(0); // nothing from a failing write is released
          throw e;
        }
        return out;
      });
    });
  }

  /**
   * Ends the message: authenticates the short final chunk.
   * @throws EnsealError `ERR_TRUNCATED` when the preamble is incomplete or no short final chunk
   *   follows the last full chunk; `ERR_AUTH` when the final chunk fails
   */
  async finish(): Promise<Bytes> {
    return this.#guard(async () => {
      if (this.#finished) throw new EnsealError('ERR_STATE', 'message already finished');
      this.#finished = true;
      if (this.#cipher === undefined) {
        throw new EnsealError('ERR_TRUNCATED', 'ciphertext was tampered with or truncated: it ends inside the payload preamble');
      }
      const rest = this.#framer.buffered;
      if (rest.length < TAG_LENGTH) throw missingFinalChunk();
      const last = this.#cipher.sync ? this.#cipher.openSync(this.#index, rest) : await this.#cipher.open(this.#index, rest);
      this.#index++;
      this.#cipher.dispose();
      return last;
    });
  }

  /** Opens whole sealed chunks synchronously; returns their plaintexts (all authenticated). */
  #openSync(cipher: ChunkCipher, sealed: Uint8Array[]): Bytes[] {
    const out: Bytes[] = [];
    if (sealed.length > 0) {
      cipher.openChunksSync(this.#index, sealed, out); // appends nothing unless every chunk verified
      this.#index += sealed.length;
    }
    return out;
  }

  /**
   * Abandons the message (the stream was cancelled): disposes the keys now. Idempotent; a no-op
   * after a failure or a finished message.
   */
  abort(): void {
    this.#error ??= new EnsealError('ERR_STATE', 'the stream was cancelled');
    this.#cipher?.dispose();
  }

  async #guard<T>(f: () => Promise<T>): Promise<T> {
    if (this.#error !== undefined) throw this.#error;
    try {
      const out = await f();
      if (this.#error !== undefined) {
        // aborted while this call was in flight: release nothing
        if (Array.isArray(out)) for (const b of out as Bytes[]) b.fill(0);
        else if (out instanceof Uint8Array) out.fill(0);
        throw this.#error;
      }
      return out;
    } catch (e) {
      this.#error ??= e;
      this.#cipher?.dispose();
      throw e;
    }
  }
}

