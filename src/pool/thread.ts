/**
 * One pool thread, whatever the runtime provides: a `worker_threads` Worker (Node, Bun, Deno;
 * reached through `process.getBuiltinModule`, so importing enseal never loads a `node:` module
 * and the browser bundle stays clean), else a Web Worker started from a `blob:` URL (browsers,
 * Deno without Node compatibility). Where neither exists, or the constructor throws (a CSP
 * without `worker-src blob:`), {@link spawnThread} throws `ERR_UNSUPPORTED`, never crashes.
 *
 * Threads are counted from creation until they have really stopped ({@link livePoolThreads},
 * internal: tests check that no path leaks one).
 *
 * @module
 */
import { EnsealError } from '../errors.js';
import { POOL_WORKER_SOURCE } from './worker-source.js';

/** A started pool thread, with one normalised interface. */
export interface PoolThread {
  /** Posts a message, transferring the given buffers. */
  post(message: unknown, transfer: ArrayBuffer[]): void;
  /** Keeps the process alive while work is pending (`ref`), or lets it exit when idle. */
  hold(busy: boolean): void;
  /** Stops the thread; resolves once it has stopped. Idempotent. */
  terminate(): Promise<void>;
}

/** What a thread reports to its pool. */
export interface ThreadEvents {
  message(data: unknown): void;
  /** The thread failed or stopped on its own (`started`: it had posted `ready`). */
  failed(reason: string, started: boolean): void;
}

type GetBuiltin = (id: string) => unknown;

interface NodeWorker {
  on(event: 'message', f: (m: unknown) => void): unknown;
  on(event: 'error', f: (e: unknown) => void): unknown;
  on(event: 'exit', f: (code: number) => void): unknown;
  postMessage(m: unknown, transfer: ArrayBuffer[]): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}
type NodeWorkerClass = new (source: string, options: { eval: true; name: string; resourceLimits?: { maxYoungGenerationSizeMb?: number } }) => NodeWorker;

interface WebWorker {
  /** Bun's Web Workers have `ref`/`unref` like worker_threads; browsers and Deno have neither. */
  ref?: () => void;
  unref?: () => void;
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message?: string; preventDefault?: () => void }) => void) | null;
  postMessage(m: unknown, transfer: ArrayBuffer[]): void;
  terminate(): void;
}
type WebWorkerClass = new (url: string, options?: { type?: 'classic' | 'module'; name?: string }) => WebWorker;

let live = 0;

/** Young-generation size of a `worker_threads` pool thread, in MiB (see spawnNode). */
const YOUNG_GENERATION_MB = 2;

/**
 * Pool threads created and not yet stopped, in this realm (internal; for tests).
 * @returns the count
 * @example
 * ```ts
 * await pool.close();
 * livePoolThreads(); // 0
 * ```
 */
export function livePoolThreads(): number {
  return live;
}

function nodeWorkerClass(): NodeWorkerClass | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return undefined;
  try {
    const wt = proc.getBuiltinModule('node:worker_threads') as { Worker?: unknown } | undefined;
    return typeof wt?.Worker === 'function' ? (wt.Worker as NodeWorkerClass) : undefined;
  } catch {
    return undefined;
  }
}

function unsupported(why: string): EnsealError {
  return new EnsealError('ERR_UNSUPPORTED', `worker pool: ${why}`);
}

/**
 * Whether this runtime can start pool threads at all (a cheap check; starting one can still fail).
 * @returns `'worker_threads'`, `'web'` or `undefined`
 * @example
 * ```ts
 * threadKind(); // 'worker_threads' in Node
 * ```
 */
export function threadKind(): 'worker_threads' | 'web' | undefined {
  if (nodeWorkerClass() !== undefined) return 'worker_threads';
  const g = globalThis as { Worker?: unknown; Blob?: unknown; URL?: { createObjectURL?: unknown } };
  if (typeof g.Worker === 'function' && typeof g.Blob === 'function' && typeof g.URL?.createObjectURL === 'function') return 'web';
  return undefined;
}

/**
 * Starts one pool thread running {@link POOL_WORKER_SOURCE}.
 * @param events - where its messages and failures go
 * @returns the thread
 * @throws EnsealError `ERR_UNSUPPORTED` where no worker can be started
 * @example
 * ```ts
 * const t = spawnThread({ message: (m) => console.log(m), failed: (r) => console.error(r) });
 * ```
 */
export function spawnThread(events: ThreadEvents): PoolThread {
  const kind = threadKind();
  if (kind === 'worker_threads') return spawnNode(nodeWorkerClass()!, events);
  if (kind === 'web') return spawnWeb(events);
  throw unsupported('this runtime has neither worker_threads nor Web Workers');
}

function spawnNode(Worker: NodeWorkerClass, events: ThreadEvents): PoolThread {
  let w: NodeWorker;
  try {
    // A small young generation: a pool thread allocates few JS objects but 16 KiB of node:crypto
    // output per chunk, freed only when it garbage-collects. It does not keep the pile small:
    // streaming 1 GiB through encryptStream with workers: 2 (bench/rss.mjs), each thread still
    // peaks at about 40 MiB of ArrayBuffers (process.memoryUsage() in the thread), and peak RSS is
    // 183 / 184 / 203 MiB with 0.5 / 2 / 8 MiB here (the 100 MiB target of issue 10 is not met).
    w = new Worker(POOL_WORKER_SOURCE, { eval: true, name: 'enseal-pool', resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
  } catch (e) {
    throw unsupported(`a worker thread could not start (${e instanceof Error ? e.name : 'error'})`);
  }
  live++;
  let started = false;
  let stopping = false;
  let exited = false;
  let onExit: () => void = () => undefined;
  const exitedP = new Promise<void>((r) => (onExit = r));
  w.on('message', (m) => {
    if ((m as { ready?: unknown })?.ready === true) started = true;
    else events.message(m);
  });
  w.on('error', (e) => {
    if (!stopping) events.failed(e instanceof Error ? e.name : 'error', started);
  });
  w.on('exit', () => {
    if (!exited) {
      exited = true;
      live--;
      onExit();
    }
    if (!stopping) events.failed('the worker thread exited', started);
  });
  w.unref();
  let terminating: Promise<void> | undefined;
  return {
    post: (m, t) => w.postMessage(m, t),
    hold: (busy) => (busy ? w.ref() : w.unref()),
    terminate: () =>
      (terminating ??= (async () => {
        stopping = true;
        try {
          await w.terminate();
        } catch {
          // already gone
        }
        await exitedP;
      })()),
  };
}

function spawnWeb(events: ThreadEvents): PoolThread {
  const g = globalThis as unknown as { Worker: WebWorkerClass; URL: { createObjectURL(b: unknown): string; revokeObjectURL(u: string): void } };
  let url: string | undefined;
  let w: WebWorker;
  try {
    url = g.URL.createObjectURL(new Blob([POOL_WORKER_SOURCE], { type: 'text/javascript' }));
    try {
      w = new g.Worker(url, { type: 'classic', name: 'enseal-pool' });
    } catch {
      w = new g.Worker(url, { type: 'module', name: 'enseal-pool' }); // Deno: module workers only (the source has no imports)
    }
  } catch (e) {
    if (url !== undefined) g.URL.revokeObjectURL(url);
    throw unsupported(`a Web Worker could not start (${e instanceof Error ? e.name : 'error'})`);
  }
  live++;
  let started = false;
  let stopped = false;
  const revoke = (): void => {
    if (url !== undefined) g.URL.revokeObjectURL(url);
    url = undefined;
  };
  w.onmessage = (e) => {
    if ((e.data as { ready?: unknown })?.ready === true) {
      started = true;
      revoke();
    } else events.message(e.data);
  };
  w.onerror = (e) => {
    e.preventDefault?.();
    if (!stopped) events.failed('the Web Worker failed', started);
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    revoke();
    w.terminate(); // synchronous: the thread is gone
    live--;
  };
  const hold = (busy: boolean): void => {
    if (typeof w.ref === 'function' && typeof w.unref === 'function') (busy ? w.ref : w.unref).call(w);
  };
  hold(false);
  return { post: (m, t) => w.postMessage(m, t), hold, terminate: stop };
}
