/**
 * The pools behind `workers: n` (a thread count rather than a `createPool()` pool): one shared
 * pool per thread count, started lazily by the first message that asks for it and reused by
 * every later one, so repeated calls pay the thread start-up (100–300 ms) once. Each message
 * still gets its own session (its key sent once, wiped in every thread when it ends).
 *
 * - Idle threads are `unref()`ed (src/pool/thread.ts): a shared pool never keeps a Node or Bun
 *   process alive, and its threads end with the process. Where threads cannot be unref'd (Web
 *   Workers in Deno; browsers have no process to keep alive), the idle timeout ends them.
 * - A pool with no open message for {@link SHARED_POOL_IDLE_MS} closes itself (its idle timer is
 *   `unref()`ed too); the next message starts a new one. So does a pool that broke (a thread
 *   died): it is replaced, never reused.
 * - {@link closeSharedPools} (internal) closes them all at once.
 *
 * @module
 */
import { createPool, type WorkerPool } from './pool.js';

/** Milliseconds a shared pool stays up with no open message (default 10 s). */
export let SHARED_POOL_IDLE_MS = 10_000;

interface Entry {
  readonly pool: WorkerPool;
  users: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const pools = new Map<number, Entry>();

/** Lets the process end while the idle timer runs (Node and Bun: `unref()`; Deno: `Deno.unrefTimer`). */
function unrefTimer(t: ReturnType<typeof setTimeout>): void {
  if (typeof (t as { unref?: unknown }).unref === 'function') (t as { unref: () => void }).unref();
  else (globalThis as { Deno?: { unrefTimer?: (id: unknown) => void } }).Deno?.unrefTimer?.(t);
}

function stopTimer(e: Entry): void {
  if (e.timer !== undefined) clearTimeout(e.timer);
  e.timer = undefined;
}

/**
 * Takes the shared pool of `size` threads for one message (starting it when there is none, or
 * when the last one closed or broke).
 * @param size - threads (already checked: 1..64)
 * @returns the pool, and `release` to call exactly once when the message is done
 * @throws EnsealError `ERR_UNSUPPORTED` where threads cannot start
 * @example
 * ```ts
 * const { pool, release } = acquireSharedPool(2);
 * try { … } finally { release() }
 * ```
 */
export function acquireSharedPool(size: number): { pool: WorkerPool; release: () => void } {
  let e = pools.get(size);
  if (e === undefined || e.pool.closed) {
    if (e !== undefined) stopTimer(e);
    e = { pool: createPool({ size }), users: 0, timer: undefined };
    pools.set(size, e);
  }
  const entry = e;
  stopTimer(entry);
  entry.users++;
  let released = false;
  return {
    pool: entry.pool,
    release: () => {
      if (released) return;
      released = true;
      if (--entry.users > 0 || pools.get(size) !== entry) return;
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        if (entry.users > 0 || pools.get(size) !== entry) return;
        pools.delete(size);
        void entry.pool.close();
      }, SHARED_POOL_IDLE_MS);
      unrefTimer(entry.timer);
    },
  };
}

/**
 * The shared pool of `size` threads, if one is up (internal; for tests).
 * @param size - threads
 * @returns the pool or `undefined`
 * @example
 * ```ts
 * await encrypt(data, { recipients, workers: 2 });
 * await sharedPoolOf(2)?.keysHeld(); // 0
 * ```
 */
export function sharedPoolOf(size: number): WorkerPool | undefined {
  const e = pools.get(size);
  return e === undefined || e.pool.closed ? undefined : e.pool;
}

/**
 * Closes every shared pool now (internal: tests, and a host that wants its threads gone before
 * the process ends; messages still using one fail with `ERR_STATE`).
 * @returns resolves once their threads have stopped
 * @example
 * ```ts
 * await closeSharedPools();
 * livePoolThreads(); // 0, when no createPool() pool is open
 * ```
 */
export async function closeSharedPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  for (const e of all) stopTimer(e);
  await Promise.all(all.map((e) => e.pool.close()));
}

/**
 * Sets {@link SHARED_POOL_IDLE_MS} (internal; for tests). Applies to pools going idle from now.
 * @param ms - milliseconds, ≥ 0
 * @example
 * ```ts
 * setSharedPoolIdleMs(50);
 * ```
 */
export function setSharedPoolIdleMs(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`"ms" expected a non-negative number, got ${ms}`);
  SHARED_POOL_IDLE_MS = ms;
}
