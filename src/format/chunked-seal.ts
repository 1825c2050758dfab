/**
 * Push-based C2SP encryption: buffers at most one 16 KiB chunk of plaintext, seals every full
 * chunk as soon as it is complete, and seals the mandatory short (possibly empty) final chunk on
 * `finish()` (spec §"Implementation notes": "flush that buffer into an encrypted chunk
 * immediately once the buffer fills up").
 *
 * @module
 */
import type { Bytes } from '../bytes.js';
import { CHUNK_SIZE, type ChunkCipher } from './cobblestone.js';
import { EnsealError } from '../errors.js';
import { Framer } from '../streams/framer.js';

/** Chunks per backend call (pipelines WebCrypto, amortises call overhead, bounds memory). */
export const BATCH_CHUNKS = 64;

/** Incremental sealer over one {@link ChunkCipher}. Not reentrant: await each call. */
export class ChunkSealer {
  readonly #cipher: ChunkCipher;
  readonly #framer = new Framer(CHUNK_SIZE);
  #index = 0;
  #finished = false;

  /** @param cipher - the message's keyed chunk cipher (disposed by `finish()` or `abort()`) */
  constructor(cipher: ChunkCipher) {
    this.#cipher = cipher;
  }

  /**
   * Adds plaintext; returns the full chunks it completed, sealed, as pieces whose concatenation
   * is the ciphertext (on node:crypto a chunk's ciphertext and tag are separate pieces: no copy).
   * `data` is read before the result settles and is never retained or mutated. With a
   * synchronous cipher (`cipher.sync`, node:crypto) the pieces are returned directly, not as a
   * promise: one write costs no promise and no microtask. Errors always come as a rejected
   * promise.
   */
  push(data: Uint8Array): Bytes[] | Promise<Bytes[]> {
    if (this.#finished) return Promise.reject(new EnsealError('ERR_STATE', 'write after the message was finished'));
    const cipher = this.#cipher;
    if (cipher.sync) {
      try {
        return this.#framer.pushSync(data, (chunks) => {
          const out: Bytes[] = [];
          if (chunks.length > 0) {
            cipher.sealChunksSync(this.#index, chunks, out);
            this.#index += chunks.length;
          }
          return out;
        });
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#framer.push(data, async (chunks) => {
      const out: Bytes[] = [];
      for (let i = 0; i < chunks.length; i += BATCH_CHUNKS) {
        const batch = chunks.length <= BATCH_CHUNKS ? chunks : chunks.slice(i, i + BATCH_CHUNKS);
        for (const p of await cipher.sealChunks(this.#index, batch)) out.push(p);
        this.#index += batch.length;
      }
      return out;
    });
  }

  /** Seals the final short chunk (spec: "even if the buffer is empty") and wipes the key. */
  async finish(): Promise<Bytes> {
    if (this.#finished) throw new EnsealError('ERR_STATE', 'message already finished');
    this.#finished = true;
    try {
      const cipher = this.#cipher;
      return cipher.sync ? cipher.sealSync(this.#index++, this.#framer.buffered) : await cipher.seal(this.#index++, this.#framer.buffered);
    } finally {
      this.#framer.wipe();
      this.#cipher.dispose();
    }
  }

  /** Abandons the message: wipes buffered plaintext and the key. */
  abort(): void {
    this.#finished = true;
    this.#framer.wipe();
    this.#cipher.dispose();
  }
}
