/**
 * Bounded retries with exponential backoff and full jitter for store requests of an upload,
 * and an optional per-request timeout. Only transient failures are retried: `ERR_STORE` without
 * an HTTP status (a dropped connection) or with 408, 429 or 5xx, and a request that hit its own
 * timeout. A caller's abort, a 4xx answer, and every other error are final at once.
 *
 * @module
 */
import { EnsealError, isEnsealError } from '../errors.js';
import type { StoreFailure } from './store.js';

/** Retry policy of an upload. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 disables retrying). */
  readonly retries?: number;
  /** First backoff delay in ms (default 100); doubles each retry. */
  readonly baseDelayMs?: number;
  /** Longest backoff delay in ms (default 5000). */
  readonly maxDelayMs?: number;
  /** Abort a single request that takes longer than this (default: no timeout). */
  readonly requestTimeoutMs?: number;
}

/** A validated {@link RetryOptions}. */
export interface RetryPolicy {
  readonly retries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly requestTimeoutMs: number | undefined;
}

/**
 * Validates a retry policy.
 * @param o - the caller's options
 * @returns the policy with defaults
 * @throws RangeError for negative or non-integer values (retries at most 20)
 * @example
 * ```ts
 * retryPolicy({ retries: 5, requestTimeoutMs: 30_000 });
 * ```
 */
export function retryPolicy(o: RetryOptions = {}): RetryPolicy {
  const int = (v: number | undefined, d: number, name: string, max: number): number => {
    const x = v ?? d;
    if (!Number.isSafeInteger(x) || x < 0 || x > max) throw new RangeError(`"retry.${name}" expected an integer in 0..${max}, got ${String(v)}`);
    return x;
  };
  const t = o.requestTimeoutMs;
  if (t !== undefined && (!Number.isSafeInteger(t) || t < 1)) throw new RangeError(`"retry.requestTimeoutMs" expected a positive integer, got ${String(t)}`);
  return {
    retries: int(o.retries, 3, 'retries', 20),
    baseDelayMs: int(o.baseDelayMs, 100, 'baseDelayMs', 60_000),
    maxDelayMs: int(o.maxDelayMs, 5000, 'maxDelayMs', 600_000),
    requestTimeoutMs: t,
  };
}

/**
 * Whether a failed attempt may be retried.
 * @param e - what the attempt threw
 * @param timedOut - whether this attempt's own timeout fired
 * @returns true for transient failures
 * @example
 * ```ts
 * isTransient(new EnsealError('ERR_STORE', 'x', { cause: { status: 503 } }), false); // true
 * ```
 */
export function isTransient(e: unknown, timedOut: boolean): boolean {
  if (timedOut) return true;
  if (!isEnsealError(e, 'ERR_STORE')) return false;
  const status = (e.cause as StoreFailure | undefined)?.status;
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/**
 * Settles with `p`, or rejects with the signal's reason as soon as it aborts (a source stalled
 * on stdin must not keep an aborted upload waiting). A late rejection of `p` is absorbed: the
 * caller cancels what `p` waits on.
 * @param p - the pending operation
 * @param signal - aborts the wait
 * @returns what `p` resolves to
 * @example
 * ```ts
 * const piece = await untilAborted(source.read(partSize), signal);
 * ```
 */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      p.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `op` until it succeeds, fails finally, or the retries are spent.
 *
 * @param op - one attempt; receives the signal to pass to the store
 * @param policy - from {@link retryPolicy}
 * @param signal - the caller's signal (its abort is never retried)
 * @returns what `op` resolved to
 * @throws the last attempt's error
 * @example
 * ```ts
 * const { etag } = await withRetry((s) => store.uploadPart(k, id, 1, body, { signal: s }), retryPolicy());
 * ```
 */
export async function withRetry<T>(op: (signal: AbortSignal | undefined) => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    const timeout = policy.requestTimeoutMs === undefined ? undefined : AbortSignal.timeout(policy.requestTimeoutMs);
    const s = timeout === undefined ? signal : signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    try {
      return await op(s);
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      const timedOut = timeout?.aborted === true;
      if (attempt >= policy.retries || !isTransient(e, timedOut)) {
        if (timedOut) throw new EnsealError('ERR_STORE', `request timed out after ${policy.requestTimeoutMs} ms`, { cause: { code: 'RequestTimeout', cause: e } satisfies StoreFailure });
        throw e;
      }
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
      await sleep(Math.floor(cap / 2 + Math.random() * (cap / 2)), signal);
    }
  }
}
