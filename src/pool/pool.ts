/**
 * `createPool({ size, maxQueue })`: a pool of worker threads that seal and open batches of C2SP
 * chunks for enseal's one-shot and stream APIs (`workers: pool`). Every chunk of a message is
 * independent given the message key, the base nonce and its index (C2SP chunked-encryption
 * §"AEAD usage"), so batches of one message run on any thread, concurrently; callers put the
 * results back in order (`src/pool/window.ts`).
 *
 * - Jobs go to the thread with the fewest pending jobs; at most `maxQueue` jobs are pending in the
 *   pool at once, and a caller submitting more waits for room (backpressure, bounded memory).
 * - Buffers are transferred both ways (ArrayBuffer transfer lists), never copied by the channel.
 *   A `fresh` job (the stream paths) gets its result in a buffer the thread allocated and its own
 *   buffer back as a spare, so the caller refills buffers it owns (`src/pool/spares.ts`).
 * - `close()` (idempotent; also `await using`) terminates every thread; jobs pending then reject
 *   with `ERR_STATE`, and so does every later use. A thread that fails breaks the pool the same
 *   way (`ERR_UNSUPPORTED` when it failed before it started, e.g. a CSP refusing `blob:`).
 * - Idle threads do not keep a Node (or Bun) process alive; a thread with pending jobs does.
 * - `workers: n` (a number) uses one shared pool per thread count (`src/pool/shared.ts`), started
 *   on first use and closed after it has been idle a while; `workers: pool` uses the caller's.
 *
 * @module
 */
import { EnsealError } from '../errors.js';
import { spawnThread, type PoolThread } from './thread.js';
import { copyBytes } from '../bytes.js';

/** Options of {@link createPool}. */
export interface PoolOptions {
  /** Number of worker threads, 1..64 (default: the number of cores, at most 4). */
  size?: number;
  /** Most jobs (batches of up to 64 chunks, ≤ 1 MiB each) pending in the pool at once; default 4 × size. */
  maxQueue?: number;
}

/** A job the pool runs: seal or open `count` chunks of one message from index `first`. */
export interface PoolJob {
  readonly op: 'seal' | 'open';
  /** Session id of the message (its key was sent with {@link WorkerPool.addKey}). */
  readonly session: number;
  readonly first: number;
  readonly count: number;
  /** Length of the last chunk in `buf` (plaintext length for seal, sealed length for open). */
  readonly last: number;
  /** The batch (transferred: detached once submitted). */
  readonly buf: ArrayBuffer;
  /**
   * Result in a new buffer allocated by the thread, exactly the output length, and `buf` handed
   * back as {@link PoolResult.spare} (the stream paths: downstream gets a buffer of its own, the
   * caller refills resident ones). Default: sealed or opened in place.
   */
  readonly fresh?: boolean;
}

/** What a job gives back. */
export interface PoolResult {
  /** The sealed or opened batch (the job's own buffer, or with `fresh` a new one). */
  readonly buf: ArrayBuffer;
  /** With `fresh`: the job's buffer, for reuse (still holding its input; the caller wipes it). */
  readonly spare: ArrayBuffer | undefined;
}

interface Slot {
  readonly thread: PoolThread;
  pending: number;
}

interface Pending {
  readonly slot: Slot;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

const MAX_SIZE = 64;
const MAX_QUEUE = 4096;

function defaultSize(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  let cores = typeof nav?.hardwareConcurrency === 'number' ? nav.hardwareConcurrency : 0;
  try {
    const os = proc?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
    if (typeof os?.availableParallelism === 'function') cores = os.availableParallelism();
  } catch {
    // no node:os
  }
  return Math.max(1, Math.min(4, Math.floor(cores) || 2));
}

function checkCount(v: unknown, name: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`"${name}" expected an integer, got ${typeof v === 'number' ? v : typeof v}`);
  if (v < 1 || v > max) throw new RangeError(`"${name}" expected 1..${max}, got ${v}`);
  return v;
}

const closedError = (): EnsealError => new EnsealError('ERR_STATE', 'the worker pool is closed');

/**
 * A pool of worker threads for enseal's chunk work. Make one with {@link createPool}; pass it as
 * `workers` to `encrypt`, `decrypt`, the stream APIs and `enseal/chunked`; close it when done.
 */
export class WorkerPool {
  /** Number of threads. */
  readonly size: number;
  /** Most jobs pending at once. */
  readonly maxQueue: number;
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #waiting: (() => void)[] = [];
  #nextJob = 1;
  #nextSession = 1;
  #broken: EnsealError | undefined;
  #closing: Promise<void> | undefined;

  /** @internal use {@link createPool} */
  constructor(size: number, maxQueue: number) {
    this.size = checkCount(size, 'size', MAX_SIZE);
    this.maxQueue = checkCount(maxQueue, 'maxQueue', MAX_QUEUE);
    try {
      for (let i = 0; i < size; i++) {
        const slot: Slot = {
          thread: spawnThread({ message: (m) => this.#onMessage(m), failed: (why, started) => this.#fail(why, started) }),
          pending: 0,
        };
        this.#slots.push(slot);
      }
    } catch (e) {
      void this.close();
      throw e;
    }
  }

  /** Whether {@link close} ran (or a thread failed). */
  get closed(): boolean {
    return this.#broken !== undefined;
  }

  /** @internal throws the pool's failure when it cannot take work. */
  check(): void {
    if (this.#broken !== undefined) throw this.#broken;
  }

  /**
   * @internal Sends one message's key (`key || base nonce`) to every thread, each its own copy,
   * transferred. The caller wipes `secret`.
   * @returns the session id
   */
  addKey(secret: Uint8Array): number {
    this.check();
    const s = this.#nextSession++;
    for (const slot of this.#slots) {
      const copy = copyBytes(secret);
      try {
        slot.thread.post({ op: 'key', s, key: copy.buffer }, [copy.buffer]);
      } catch (e) {
        copy.fill(0);
        throw e;
      }
    }
    return s;
  }

  /** @internal Tells every thread to wipe and forget a session's key. Never throws. */
  dropKey(session: number): void {
    if (this.#broken !== undefined) return; // threads are gone (or going) with their keys
    for (const slot of this.#slots) {
      try {
        slot.thread.post({ op: 'drop', s: session }, []);
      } catch {
        // a thread that cannot take messages is failing: the pool breaks and terminates it
      }
    }
  }

  /**
   * @internal Runs a job on the least busy thread, waiting for room under `maxQueue` first.
   * @returns the sealed or opened batch (and the spare buffer of a `fresh` job)
   * @throws EnsealError `ERR_AUTH` (with `chunk`) when a chunk of an open job failed; `ERR_STATE`
   *   when the pool closed
   */
  async run(job: PoolJob): Promise<PoolResult> {
    try {
      while (this.#pending.size >= this.maxQueue && this.#broken === undefined) await new Promise<void>((r) => this.#waiting.push(r));
      this.check();
    } catch (e) {
      new Uint8Array(job.buf).fill(0);
      throw e;
    }
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.pending < slot.pending) slot = s;
    const j = this.#nextJob++;
    const done = new Promise<unknown>((resolve, reject) => this.#pending.set(j, { slot, resolve, reject }));
    slot.pending++;
    slot.thread.hold(true);
    try {
      slot.thread.post({ op: job.op, s: job.session, j, first: job.first, count: job.count, last: job.last, buf: job.buf, fresh: job.fresh === true }, [job.buf]);
    } catch (e) {
      this.#settle(j);
      new Uint8Array(job.buf).fill(0);
      throw e;
    }
    return (await done) as PoolResult;
  }

  /** @internal How many message keys the threads hold (asks each one). */
  async keysHeld(): Promise<number> {
    this.check();
    const counts = await Promise.all(
      this.#slots.map((slot) => {
        const j = this.#nextJob++;
        const p = new Promise<unknown>((resolve, reject) => this.#pending.set(j, { slot, resolve, reject }));
        slot.pending++;
        slot.thread.hold(true);
        slot.thread.post({ op: 'stats', j }, []);
        return p as Promise<number>;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  #settle(j: number): Pending | undefined {
    const p = this.#pending.get(j);
    if (p === undefined) return undefined;
    this.#pending.delete(j);
    if (--p.slot.pending === 0) p.slot.thread.hold(false);
    this.#waiting.shift()?.();
    return p;
  }

  #onMessage(m: unknown): void {
    const msg = m as { j?: unknown; ok?: unknown; buf?: unknown; spare?: unknown; keys?: unknown; auth?: unknown; chunk?: unknown };
    if (typeof msg?.j !== 'number') return;
    const spare = msg.spare instanceof ArrayBuffer ? msg.spare : undefined;
    const p = this.#settle(msg.j);
    if (p === undefined) {
      // nobody waits for it any more
      if (msg.buf instanceof ArrayBuffer) new Uint8Array(msg.buf).fill(0);
      if (spare !== undefined) new Uint8Array(spare).fill(0);
      return;
    }
    if (msg.ok === true && msg.buf instanceof ArrayBuffer) p.resolve({ buf: msg.buf, spare } satisfies PoolResult);
    else if (msg.ok === true && typeof msg.keys === 'number') p.resolve(msg.keys);
    else if (msg.auth === true && typeof msg.chunk === 'number') {
      const index = msg.chunk;
      p.reject(new EnsealError('ERR_AUTH', `chunk ${index} failed authentication: ciphertext was tampered with or truncated`, { chunk: index }));
    } else p.reject(new EnsealError('ERR_STATE', 'a worker pool thread refused a job'));
  }

  #fail(why: string, started: boolean): void {
    if (this.#broken !== undefined) return;
    const e = started
      ? new EnsealError('ERR_STATE', `a worker pool thread stopped (${why}); the pool is closed`)
      : new EnsealError('ERR_UNSUPPORTED', `a worker pool thread could not start (${why})`);
    void this.#shutdown(e);
  }

  #shutdown(reason: EnsealError): Promise<void> {
    this.#broken ??= reason;
    return (this.#closing ??= (async () => {
      for (const [j, p] of [...this.#pending]) {
        this.#settle(j);
        p.reject(this.#broken);
      }
      for (const w of this.#waiting.splice(0)) w();
      await Promise.all(this.#slots.map((s) => s.thread.terminate()));
    })());
  }

  /**
   * Terminates every thread (their keys go with them). Jobs still pending reject with
   * `ERR_STATE`, and so does every later use of the pool. Idempotent.
   * @returns resolves once every thread has stopped
   * @example
   * ```ts
   * const pool = createPool({ size: 2 });
   * try { await encrypt(data, { recipients, workers: pool }) } finally { await pool.close() }
   * ```
   */
  close(): Promise<void> {
    return this.#shutdown(closedError());
  }

  /**
   * `await using pool = createPool()`: closes the pool.
   * @returns resolves once every thread has stopped
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Starts a pool of worker threads (`worker_threads` in Node, Bun and Deno; Web Workers in
 * browsers) for `workers: pool`.
 * @param opts - `size` (threads, default: cores up to 4), `maxQueue` (pending jobs, default 4 × size)
 * @returns the pool; close it (or `await using`) when done
 * @throws TypeError/RangeError for a bad `size` or `maxQueue`; EnsealError `ERR_UNSUPPORTED`
 *   where the runtime cannot start workers
 * @example
 * ```ts
 * await using pool = createPool({ size: 2 });
 * const sealed = await encrypt(bytes, { recipients: [key], workers: pool });
 * ```
 */
export function createPool(opts: PoolOptions = {}): WorkerPool {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected an object');
  const size = opts.size === undefined ? defaultSize() : checkCount(opts.size, 'size', MAX_SIZE);
  const maxQueue = opts.maxQueue === undefined ? 4 * size : checkCount(opts.maxQueue, 'maxQueue', MAX_QUEUE);
  return new WorkerPool(size, maxQueue);
}

/**
 * Validates a `workers` option value (a thread count or a pool) without starting anything.
 * @param v - the option value
 * @throws TypeError/RangeError naming `workers` for anything but an integer 1..64 or a pool
 * @example
 * ```ts
 * checkWorkersOption(-1); // RangeError: "workers" expected 1..64 or a pool from createPool()
 * ```
 */
export function checkWorkersOption(v: unknown): asserts v is number | WorkerPool | undefined {
  if (v === undefined || v instanceof WorkerPool) return;
  if (typeof v !== 'number') throw new TypeError(`"workers" expected a thread count or a pool from createPool(), got ${typeof v}`);
  if (!Number.isInteger(v) || v < 1 || v > MAX_SIZE) throw new RangeError(`"workers" expected 1..${MAX_SIZE} or a pool from createPool(), got ${v}`);
}
