/**
 * One message's use of a worker pool: its key reaches every thread once (each thread its own
 * copy, transferred; `key || base nonce` of C2SP §"Key derivation"), its batches run there, and
 * `close()` has every thread wipe and forget the key (and releases the shared pool of
 * `workers: n`, src/pool/shared.ts). After `close()`, every batch still in flight, or submitted later,
 * rejects with `ERR_STATE` and its result is wiped: nothing is released.
 *
 * Counted while open ({@link livePoolKeys}, internal), like backend keys in
 * `src/backends/live-keys.ts`, so tests can prove that every path closes its session.
 *
 * @module
 */
import { EnsealError } from '../errors.js';
import { WorkerPool, checkWorkersOption, type PoolJob, type PoolResult } from './pool.js';
import { acquireSharedPool } from './shared.js';
import { wipeResult } from './spares.js';

let live = 0;

/**
 * Pool sessions (message keys held by pool threads) open right now (internal; for tests).
 * @returns the count
 * @example
 * ```ts
 * await encrypt(data, { recipients, workers: 2 });
 * livePoolKeys(); // 0
 * ```
 */
export function livePoolKeys(): number {
  return live;
}

/** The `workers` option of the public APIs: a thread count (the shared pool of that size) or a `createPool()` pool. */
export type WorkersOption = number | WorkerPool;

const closedSession = (): EnsealError => new EnsealError('ERR_STATE', 'the message was closed (stream cancelled, failed or finished)');

/** One message's batches on a pool. */
export class PoolSession {
  readonly #pool: WorkerPool;
  readonly #release: () => void;
  readonly #id: number;
  #closed = false;
  #closing: Promise<void> | undefined;

  /**
   * @param pool - where the batches run
   * @param release - called once when the session closes (hands a shared pool back)
   * @param secret - `key || base nonce`; copied to the threads, not retained (the caller wipes it)
   * @throws EnsealError `ERR_STATE` when the pool is closed
   */
  constructor(pool: WorkerPool, release: () => void, secret: Uint8Array) {
    this.#pool = pool;
    this.#release = release;
    this.#id = pool.addKey(secret);
    live++;
  }

  /** Threads in the pool (the window of batches in flight is sized from it). */
  get threads(): number {
    return this.#pool.size;
  }

  /**
   * Seals or opens one batch.
   * @param op - `'seal'` (slots of 16400 bytes) or `'open'` (sealed chunks back to back)
   * @param first - index of the batch's first chunk
   * @param count - chunks in the batch
   * @param last - length of the last chunk (plaintext for seal, sealed for open)
   * @param buf - the batch (transferred: detached on return)
   * @param fresh - result in a new buffer, `buf` handed back as the spare (see {@link PoolJob})
   * @returns the batch, sealed or opened (in place, or a new buffer and the spare)
   * @throws EnsealError `ERR_AUTH` with `chunk` when a chunk failed (the batch is wiped in the
   *   thread), `ERR_STATE` once closed
   */
  async run(op: 'seal' | 'open', first: number, count: number, last: number, buf: ArrayBuffer, fresh = false): Promise<PoolResult> {
    if (this.#closed) {
      new Uint8Array(buf).fill(0);
      throw closedSession();
    }
    const out = await this.#pool.run({ op, session: this.#id, first, count, last, buf, fresh });
    if (this.#closed) {
      wipeResult(out);
      throw closedSession();
    }
    return out;
  }

  /** Whether {@link close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Has every thread wipe the key; hands a shared pool back. Idempotent.
   * @returns resolves at once (the key is dropped in order after the message's jobs)
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    live--;
    this.#pool.dropKey(this.#id);
    this.#release();
    this.#closing = Promise.resolve();
    return this.#closing;
  }
}

/**
 * The pool a call uses: the shared pool of `n` threads (src/pool/shared.ts), or the caller's.
 * @param workers - the (checked) option value
 * @returns the pool, and `release` to call once when the message is done
 * @throws EnsealError `ERR_STATE` for a closed pool, `ERR_UNSUPPORTED` where threads cannot start
 * @example
 * ```ts
 * const { pool, release } = poolFor(2); // the shared pool of 2 threads
 * ```
 */
export function poolFor(workers: WorkersOption): { pool: WorkerPool; release: () => void } {
  checkWorkersOption(workers);
  if (workers instanceof WorkerPool) {
    workers.check();
    return { pool: workers, release: () => undefined };
  }
  return acquireSharedPool(workers);
}

/**
 * Opens a session for one message.
 * @param workers - the `workers` option
 * @param secret - `key || base nonce` (the caller wipes it)
 * @returns the session (close it on every path)
 * @throws EnsealError `ERR_STATE` / `ERR_UNSUPPORTED` as {@link poolFor}
 * @example
 * ```ts
 * const s = openSession(pool, secret);
 * try { … } finally { await s.close() }
 * ```
 */
export function openSession(workers: WorkersOption, secret: Uint8Array): PoolSession {
  const { pool, release } = poolFor(workers);
  try {
    return new PoolSession(pool, release, secret);
  } catch (e) {
    release();
    throw e;
  }
}
