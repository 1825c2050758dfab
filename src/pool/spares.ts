/**
 * Batch buffers a message reuses: the 1 MiB buffers a `fresh` pool job hands back
 * ({@link PoolResult.spare}) are refilled for later batches, so a long stream allocates (and
 * page-faults) its input buffers once instead of once per batch, and the calling thread, which
 * shares the cores with the pool, spends its time copying into resident memory. A buffer that
 * leaves the list (`wipe()`, or too many spares) is wiped first: spares still hold the input of
 * their last batch (plaintext, when sealing).
 *
 * @module
 */
import type { PoolResult } from './pool.js';

/**
 * Wipes both buffers of a pool result (a result nobody will read).
 * @param r - the result
 * @example
 * ```ts
 * wipeResult(await session.run('seal', 0, 1, 5, buf, true));
 * ```
 */
export function wipeResult(r: PoolResult): void {
  new Uint8Array(r.buf).fill(0);
  if (r.spare !== undefined) new Uint8Array(r.spare).fill(0);
}

/** A small free list of batch buffers of one size. */
export class Spares {
  readonly #bytes: number;
  readonly #max: number;
  readonly #free: ArrayBuffer[] = [];

  /**
   * @param bytes - size of every buffer
   * @param max - most buffers kept
   */
  constructor(bytes: number, max: number) {
    this.#bytes = bytes;
    this.#max = max;
  }

  /**
   * A buffer of `bytes` bytes: a spare (holding stale bytes, overwritten by the caller) or a new one.
   * @returns the buffer
   */
  take(): Uint8Array {
    const b = this.#free.pop();
    return b === undefined ? new Uint8Array(this.#bytes) : new Uint8Array(b);
  }

  /**
   * Keeps a buffer for reuse (wiped and dropped when it is the wrong size or the list is full).
   * @param b - the buffer (ignored when undefined or detached)
   */
  give(b: ArrayBuffer | undefined): void {
    if (b === undefined || b.byteLength === 0) return;
    if (b.byteLength === this.#bytes && this.#free.length < this.#max) this.#free.push(b);
    else new Uint8Array(b).fill(0);
  }

  /** Wipes and drops every spare. Idempotent. */
  wipe(): void {
    for (const b of this.#free.splice(0)) new Uint8Array(b).fill(0);
  }
}
