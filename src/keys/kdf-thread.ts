/**
 * Runs one passphrase derivation in a worker thread, so that the event loop keeps turning while
 * the KDF runs and the KDF's WebAssembly memory (up to 256 MiB by default, 2 GiB with a raised
 * `maxMemoryKiB`) leaves with the thread instead of staying in the caller's isolate for good.
 *
 * - The thread is Node's `worker_threads` (Bun and Deno provide it too), reached through
 *   `process.getBuiltinModule` so that importing enseal never loads a `node:` module and the
 *   browser bundle stays clean. Its source is a string (`kdf-worker-source.ts`).
 * - One worker per derivation, terminated (and awaited) before the result is returned: no
 *   thread, and none of its memory, outlives the call. Starting one costs 35–55 ms here, which
 *   the cost model counts (`DERIVATION_OVERHEAD`).
 * - At most {@link kdfWorkerConcurrency} derivations run at once per process (further ones
 *   wait), so concurrent decryptions cannot multiply the KDF memory without bound.
 * - The password and salt are copied once and *transferred* to the worker (the sending side
 *   keeps a detached, empty buffer); the key comes back transferred. The worker wipes its
 *   copies; the caller wipes the key.
 *
 * Where there is no worker — no `process.getBuiltinModule` (browsers), no `worker_threads`, a
 * `Worker` constructor that throws, hash-wasm not resolvable from here (a single-file bundle),
 * or a worker that fails before it starts deriving — {@link deriveInWorker} answers
 * `undefined` and the caller derives on its own thread. A failure *after* the derivation
 * started (out of memory, the thread killed) is an error, never a silent retry elsewhere.
 *
 * @module
 */
import { escapeControl, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import type { KdfParams } from './passphrase-kdf.js';
import { KDF_WORKER_SOURCE } from './kdf-worker-source.js';

type GetBuiltin = (id: string) => unknown;

/** The part of a `worker_threads` Worker used here. */
interface ThreadWorker {
  on(event: 'message', listener: (m: unknown) => void): unknown;
  on(event: 'error', listener: (e: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  terminate(): Promise<number>;
}
type WorkerConstructor = new (source: string, options: { eval: true; name: string }) => ThreadWorker;

/** What a runtime must offer for {@link deriveInWorker}. */
export interface KdfWorkerEnvironment {
  /** The `worker_threads` Worker class. */
  readonly Worker: WorkerConstructor;
  /** File path of hash-wasm's CommonJS entry, as the worker loads it. */
  readonly hashWasm: string;
  /** Most derivations running at once. */
  readonly concurrency: number;
}

/** One derivation: already validated by `deriveKey`. */
export interface KdfJob {
  readonly params: KdfParams;
  readonly password: Uint8Array;
  readonly salt: Uint8Array;
  readonly length: number;
}

function builtinOf(): GetBuiltin | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process;
  return typeof proc?.getBuiltinModule === 'function' ? proc.getBuiltinModule.bind(proc) : undefined;
}

/**
 * Looks for worker threads and hash-wasm in this runtime.
 * @param builtin - `process.getBuiltinModule` (default: the runtime's, if any)
 * @returns the environment, or `undefined` where workers cannot run the KDF
 * @example
 * ```ts
 * kdfWorkerEnvironment() === undefined; // true in a browser
 * ```
 */
export function kdfWorkerEnvironment(builtin: GetBuiltin | undefined = builtinOf()): KdfWorkerEnvironment | undefined {
  if (builtin === undefined) return undefined;
  try {
    const wt = builtin('node:worker_threads') as { Worker?: unknown } | undefined;
    const mod = builtin('node:module') as { createRequire?: (from: string) => { resolve(id: string): string } } | undefined;
    if (typeof wt?.Worker !== 'function' || typeof mod?.createRequire !== 'function') return undefined;
    const hashWasm = mod.createRequire(import.meta.url).resolve('hash-wasm');
    const os = builtin('node:os') as { availableParallelism?: () => number } | undefined;
    const cores = typeof os?.availableParallelism === 'function' ? os.availableParallelism() : 1;
    return { Worker: wt.Worker as WorkerConstructor, hashWasm, concurrency: Math.max(1, Math.min(4, Math.floor(cores) || 1)) };
  } catch {
    return undefined;
  }
}

let cached: KdfWorkerEnvironment | null | undefined; // undefined: not looked up yet; null: none
let live = 0;
let running = 0;
const waiting: (() => void)[] = [];

function defaultEnvironment(): KdfWorkerEnvironment | undefined {
  if (cached === undefined) cached = kdfWorkerEnvironment() ?? null;
  return cached ?? undefined;
}

/**
 * Number of KDF worker threads alive right now (for tests and monitoring): 0 whenever no
 * derivation is in progress.
 * @returns the count
 * @example
 * ```ts
 * await decrypt(sealed, { keys: [pw] });
 * liveKdfWorkers(); // 0
 * ```
 */
export function liveKdfWorkers(): number {
  return live;
}

/**
 * Most derivations that run at once in this process (1..4, from `os.availableParallelism()`),
 * or 0 where KDFs run on the calling thread.
 * @returns the limit
 * @example
 * ```ts
 * kdfWorkerConcurrency(); // 2 on a 2-core machine
 * ```
 */
export function kdfWorkerConcurrency(): number {
  return defaultEnvironment()?.concurrency ?? 0;
}

async function acquire(limit: number): Promise<void> {
  if (running < limit) {
    running++;
    return;
  }
  await new Promise<void>((resolve) => waiting.push(resolve));
}

function release(): void {
  const next = waiting.shift();
  if (next !== undefined) next(); // the slot passes to the next waiter
  else running--;
}

function workerFailure(e: unknown): EnsealError {
  const code = (e as { code?: unknown })?.code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return new EnsealError('ERR_LIMIT', 'the passphrase KDF ran out of memory in its worker thread');
  const what = typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
  return new EnsealError('ERR_UNSUPPORTED', `the passphrase KDF worker thread stopped during the derivation (${escapeControl(what, 120)})`);
}

/** Outcome of one worker: a key, a KDF refusal, or "no worker here" (`undefined`). */
function runOne(env: KdfWorkerEnvironment, worker: ThreadWorker, job: KdfJob): Promise<Bytes | undefined> {
  return new Promise<Bytes | undefined>((resolveOnce, rejectOnce) => {
    let started = false;
    let settled = false;
    const resolve = (v: Bytes | undefined): void => {
      settled = true;
      resolveOnce(v);
    };
    const reject = (e: unknown): void => {
      settled = true;
      rejectOnce(e);
    };
    worker.on('message', (m) => {
      const msg = m as { type?: unknown; key?: unknown; name?: unknown; message?: unknown };
      if (msg?.type === 'started') {
        started = true;
      } else if (msg?.type === 'unavailable') {
        if (env === cached) cached = null; // hash-wasm does not load in workers here: do not try again
        resolve(undefined);
      } else if (msg?.type === 'key' && msg.key instanceof ArrayBuffer) {
        const key = new Uint8Array(msg.key);
        if (settled || key.length !== job.length) {
          key.fill(0); // late or malformed: nobody will own it
          reject(new EnsealError('ERR_UNSUPPORTED', 'the passphrase KDF worker returned a key of the wrong length'));
        } else {
          resolve(key);
        }
      } else if (msg?.type === 'error') {
        // hash-wasm's own parameter checks; its messages never echo the password.
        const text = `${job.params.kdf}: ${escapeControl(String(msg.message), 200)}`;
        reject(msg.name === 'TypeError' ? new TypeError(text) : new RangeError(text));
      } else {
        reject(new EnsealError('ERR_UNSUPPORTED', 'the passphrase KDF worker sent an unexpected message'));
      }
    });
    worker.on('error', (e) => (started ? reject(workerFailure(e)) : resolve(undefined)));
    worker.on('exit', (code) => (started ? reject(workerFailure(`exit code ${code}`)) : resolve(undefined)));
    // Fresh exact-size copies, transferred: this thread keeps only detached buffers.
    const password = job.password.slice();
    const salt = job.salt.slice();
    try {
      worker.postMessage(
        { hashWasm: env.hashWasm, params: { ...job.params }, password: password.buffer, salt: salt.buffer, length: job.length },
        [password.buffer, salt.buffer],
      );
    } catch (e) {
      password.fill(0);
      salt.fill(0);
      reject(e);
    }
  });
}

/**
 * Derives a key in a fresh worker thread and terminates it before returning.
 * @param job - the KDF, its (checked) parameters, password, salt, output length; the buffers
 *   are not modified or retained
 * @param env - where to run (default: this runtime's worker threads, `null` where there are
 *   none; tests pass their own)
 * @returns the key (the caller wipes it), or `undefined` when no worker could start: derive on
 *   this thread instead
 * @throws RangeError/TypeError when the KDF refuses its parameters; EnsealError `ERR_LIMIT` when
 *   the worker runs out of memory, `ERR_UNSUPPORTED` when it dies during the derivation
 * @example
 * ```ts
 * const key = (await deriveInWorker({ params, password, salt, length: 32 })) ?? (await deriveHere());
 * ```
 */
export async function deriveInWorker(job: KdfJob, env: KdfWorkerEnvironment | null = defaultEnvironment() ?? null): Promise<Bytes | undefined> {
  if (env === null) return undefined;
  await acquire(env.concurrency);
  try {
    let worker: ThreadWorker;
    try {
      worker = new env.Worker(KDF_WORKER_SOURCE, { eval: true, name: 'enseal-kdf' });
    } catch {
      if (env === cached) cached = null; // the runtime has the class but cannot start threads
      return undefined;
    }
    live++;
    try {
      return await runOne(env, worker, job);
    } finally {
      try {
        await worker.terminate();
      } finally {
        live--;
      }
    }
  } finally {
    release();
  }
}
