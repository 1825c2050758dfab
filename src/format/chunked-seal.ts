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

/** Chunks per backend call (pipelines WebCrypto, amortises call overhead, bounds memory). */
export const BATCH_CHUNKS = 64;

/** Incremental sealer over one {@link ChunkCipher}. Not reentrant: await each call. */
export class ChunkSealer {
  readonly #cipher: ChunkCipher;
  #index = 0;
  #pending = new Uint8Array(CHUNK_SIZE);
  #fill = 0;
  #finished = false;

  /** @param cipher - the message's keyed chunk cipher (disposed by `finish()` or `abort()`) */
  constructor(cipher: ChunkCipher) {
    this.#cipher = cipher;
  }

  /**
   * Adds plaintext; returns the full chunks it completed, sealed (as pieces whose concatenation
   * is the ciphertext). `data` is read before the returned promise settles and is never retained
   * or mutated.
   */
  async push(data: Uint8Array): Promise<Bytes[]> {
    if (this.#finished) throw new EnsealError('ERR_STATE', 'write after the message was finished');
    const pts: Uint8Array[] = [];
    let off = 0;
    if (this.#fill > 0) {
      const n = Math.min(CHUNK_SIZE - this.#fill, data.length);
      this.#pending.set(data.subarray(0, n), this.#fill);
      this.#fill += n;
      off = n;
      if (this.#fill === CHUNK_SIZE) {
        pts.push(this.#pending);
        this.#pending = new Uint8Array(CHUNK_SIZE);
        this.#fill = 0;
      }
    }
    for (; data.length - off >= CHUNK_SIZE; off += CHUNK_SIZE) pts.push(data.subarray(off, off + CHUNK_SIZE));
    if (off < data.length) {
      this.#pending.set(data.subarray(off), this.#fill);
      this.#fill += data.length - off;
    }
    const out: Bytes[] = [];
    for (let i = 0; i < pts.length; i += BATCH_CHUNKS) {
      const batch = pts.slice(i, i + BATCH_CHUNKS);
      out.push(...(await this.#cipher.sealChunks(this.#index, batch)));
      this.#index += batch.length;
    }
    return out;
  }

  /** Seals the final short chunk (spec: "even if the buffer is empty") and wipes the key. */
  async finish(): Promise<Bytes> {
    if (this.#finished) throw new EnsealError('ERR_STATE', 'message already finished');
    this.#finished = true;
    try {
      return await this.#cipher.seal(this.#index++, this.#pending.subarray(0, this.#fill));
    } finally {
      this.#pending.fill(0);
      this.#cipher.dispose();
    }
  }

  /** Abandons the message: wipes buffered plaintext and the key. */
  abort(): void {
    this.#finished = true;
    this.#pending.fill(0);
    this.#cipher.dispose();
  }
}
