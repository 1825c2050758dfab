/**
 * Store errors every adapter raises the same way (contract in `./store.ts`): a missing object is
 * `ERR_NOT_FOUND`, any other store failure `ERR_STORE`, both with a {@link StoreFailure} as
 * `cause` (HTTP status, request id, the store's error code, the underlying error). Keys in
 * messages are escaped with {@link escapeControl}: they may come from a listing, i.e. from the
 * store. Messages never contain credentials or body bytes.
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import { EnsealError, isEnsealError } from '../errors.js';
import type { StoreFailure } from './store.js';

/**
 * Builds an `ERR_STORE` error.
 *
 * @param store - the store's name (`s3://bucket`, `fs:/data`, …)
 * @param what - what failed, e.g. `put "a/b"`; no secrets
 * @param failure - HTTP status, request id, store error code, underlying error
 * @returns the error (to be thrown)
 * @example
 * ```ts
 * throw storeError('s3://b', 'get "k"', { status: 503, requestId: 'R1', code: 'SlowDown' });
 * ```
 */
export function storeError(store: string, what: string, failure: StoreFailure): EnsealError {
  const parts = [failure.status === undefined ? undefined : `HTTP ${failure.status}`, failure.code === undefined ? undefined : escapeControl(failure.code, 64), failure.requestId === undefined ? undefined : `request id ${escapeControl(failure.requestId, 128)}`];
  const detail = parts.filter((p) => p !== undefined).join(', ');
  return new EnsealError('ERR_STORE', `${store}: ${what} failed${detail === '' ? '' : ` (${detail})`}`, { cause: failure });
}

/**
 * Builds an `ERR_NOT_FOUND` error for a missing object.
 *
 * @param store - the store's name
 * @param key - the object key (escaped in the message)
 * @param failure - status (404), request id, code, when the store answered
 * @returns the error (to be thrown)
 * @example
 * ```ts
 * throw notFoundError('fs:/data', 'a/b.txt', { status: 404, code: 'NoSuchKey' });
 * ```
 */
export function notFoundError(store: string, key: string, failure: StoreFailure = { status: 404, code: 'NoSuchKey' }): EnsealError {
  return new EnsealError('ERR_NOT_FOUND', `${store}: no object "${quoteKey(key)}"`, { cause: failure });
}

/**
 * The {@link StoreFailure} an `ERR_STORE` / `ERR_NOT_FOUND` / `ERR_RANGE` error carries.
 *
 * @param e - any thrown value
 * @returns its store failure, or `undefined` when it is not a store error
 * @example
 * ```ts
 * try { await store.get('k') } catch (e) { console.log(storeFailureOf(e)?.requestId) }
 * ```
 */
export function storeFailureOf(e: unknown): StoreFailure | undefined {
  if (!isEnsealError(e)) return undefined;
  const c = e.cause;
  return typeof c === 'object' && c !== null ? (c as StoreFailure) : undefined;
}

/**
 * A summary of an SDK or network error, safe to keep as a `cause`: its name and (escaped,
 * shortened) message only. SDK errors carry the request they failed on (ali-oss attaches its
 * headers, with the signature and any STS token), so they are never attached as they are.
 *
 * @param e - the underlying error
 * @returns a plain `Error` with the same `name` and message, and nothing else
 * @example
 * ```ts
 * storeError(name, 'get', { status: 503, cause: summariseCause(sdkError) });
 * ```
 */
export function summariseCause(e: unknown): Error {
  const name = typeof e === 'object' && e !== null && typeof (e as { name?: unknown }).name === 'string' ? (e as { name: string }).name : 'Error';
  const message = typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : String(e);
  const out = new Error(escapeControl(message, 300));
  out.name = escapeControl(name, 64);
  return out;
}

/**
 * A key as it may appear in a message: control characters escaped, at most 100 characters.
 *
 * @param key - an object key (possibly from the store)
 * @returns printable text
 * @example
 * ```ts
 * quoteKey('a\nb'); // "a\\nb"
 * ```
 */
export function quoteKey(key: string): string {
  return escapeControl(key, 100).replace(/"/g, '\\"');
}
