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
   * `data` is read before the returned promise settles and is never retained or mutated.
   */
  async push(data: Uint8Array): Promise<Bytes[]> {
    if (this.#finished) throw new EnsealError('ERR_STATE', 'write after the message was finished');
    return this.#framer.push(data, async (chunks) => {
      const out: Bytes[] = [];
      for (let i = 0; i < chunks.length; i += BATCH_CHUNKS) {
        const batch = chunks.slice(i, i + BATCH_CHUNKS);
        out.push(...(await this.#cipher.sealChunks(this.#index, batch)));
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
      return await this.#cipher.seal(this.#index++, this.#framer.buffered);
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
