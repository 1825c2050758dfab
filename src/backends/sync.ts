/**
 * Optional synchronous fast paths of a backend (node:crypto has them; the interface in
 * `backend.ts` stays asynchronous). Streams and one-shot calls use them to seal and open chunks
 * without a promise, a nonce allocation or a microtask per call, and to key an HMAC once for all
 * the blocks of an HKDF-Expand.
 *
 * Both capabilities travel with the very object that implements them, so that a wrapper which
 * replaces a method also drops the fast path (a test spy on `hmac`, a slowed-down key):
 * - {@link SyncGcm} methods live on the `AesGcmKey` instance's prototype (a key object copied
 *   with `{ ...key }` or re-wrapped has none);
 * - {@link SyncHmac} is a property of the backend's `hmac` function itself (a backend copied
 *   with `{ ...backend }` keeps it; one whose `hmac` is replaced loses it).
 *
 * There is no call in flight with a synchronous operation, so `ERR_STATE` after `dispose()` is
 * the check at the start of each call.
 *
 * @module
 */
import type { Bytes } from '../bytes.js';
import type { AesGcmKey, CryptoBackend, HashName } from './backend.js';

/** Synchronous AES-GCM chunk operations of a backend key (C2SP nonces derived inside). */
export interface SyncGcm {
  /**
   * Encrypts one message, synchronously.
   * @returns `ciphertext || tag`
   * @throws EnsealError `ERR_STATE` once disposed; RangeError for a nonce that is not 12 bytes
   */
  sealSync(nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Bytes;
  /**
   * Decrypts one `ciphertext || tag`; the plaintext exists outside the backend only after the
   * tag verified.
   * @throws EnsealError `ERR_AUTH` when the tag does not verify, `ERR_STATE` once disposed
   */
  openSync(nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Bytes;
  /**
   * Seals chunks `first, first + 1, …` with `nonce_i = baseNonce XOR uint96_be(i)` (C2SP
   * §"AEAD usage"; the caller checks `i < 2^38`), appending the ciphertext and tag pieces to
   * `out` in order (no copy). The nonce is built in a scratch buffer that the platform copies
   * before the call returns, so it is never shared with a call in flight. The pieces may be
   * `Uint8Array` subclasses (node:crypto's `Buffer`s, each over memory of its own): stream edges
   * hand them to Node streams as they are and give Web streams plain views.
   * @throws EnsealError `ERR_STATE` once disposed (nothing appended)
   */
  sealChunksSync(baseNonce: Uint8Array, first: number, plaintexts: readonly Uint8Array[], out: Bytes[]): void;
  /**
   * Opens chunks `first, first + 1, …` (nonces as {@link sealChunksSync}) and appends their
   * plaintexts to `out` only when every one of them authenticated; on a failure the plaintexts
   * already produced are wiped and nothing is appended. Pieces as {@link sealChunksSync}.
   * @throws EnsealError `ERR_AUTH` whose `chunk` is the position (in this call) of the first
   *   chunk that failed; `ERR_STATE` once disposed
   */
  openChunksSync(baseNonce: Uint8Array, first: number, sealed: readonly Uint8Array[], out: Bytes[]): void;
}

/** An HMAC whose key was set up once: `mac(data)` = HMAC(key, data), synchronously. */
export interface KeyedHmac {
  /** HMAC of `data` (a fresh buffer the caller owns). */
  mac(data: Uint8Array): Bytes;
  /**
   * Optional: HKDF-Expand (RFC 5869 §2.3) with this HMAC's key as the PRK, in one step (the SHA-2
   * module, src/backends/wasm-sha2.ts); `undefined` when it cannot (then one `mac` per block).
   * @param info - the info string
   * @param length - output bytes, 1..255 × HashLen (checked by the caller)
   * @returns the output keying material (the caller wipes it), or `undefined`
   * @throws EnsealError `ERR_STATE` once disposed
   */
  expand?(info: Uint8Array, length: number): Bytes | undefined;
  /**
   * Optional: {@link expand} handing the output to `use` as a view of the implementation's own
   * memory, zeroed as soon as `use` returns or throws (no buffer allocated for key material that
   * is only copied on: a message's key, base nonce and commitment). `undefined`, and `use` not
   * called, when it cannot (then {@link expand}).
   * @param info - the info string
   * @param length - output bytes, 1..255 × HashLen (checked by the caller)
   * @param use - reads the output (it must copy what it keeps: the view is wiped after), without
   *   calling this HMAC's implementation itself (which would overwrite the view)
   * @returns what `use` returned, or `undefined`
   * @throws EnsealError `ERR_STATE` once disposed; whatever `use` throws
   */
  expandWith?<T>(info: Uint8Array, length: number, use: (okm: Uint8Array) => T): T | undefined;
  /** Wipes the key-derived state (the padded key blocks). Idempotent; later `mac` throws. */
  dispose(): void;
}

/** Keys an HMAC once; attached to a backend's `hmac` function as {@link SYNC_HMAC}. */
export type SyncHmac = (hash: HashName, key: Uint8Array) => KeyedHmac;

/** Property of a backend's `hmac` function holding its {@link SyncHmac}, if it has one. */
export const SYNC_HMAC: unique symbol = Symbol('enseal.syncHmac');

/** An HMAC whose key was imported once, for a platform whose MAC calls are asynchronous. */
export interface AsyncKeyedHmac {
  /** HMAC of `data` (a fresh buffer the caller owns). */
  mac(data: Uint8Array): Promise<Bytes>;
  /** Drops the imported key. Idempotent; later `mac` calls reject. */
  dispose(): void;
}

/** Imports an HMAC key once; attached to a backend's `hmac` function as {@link KEYED_HMAC}. */
export type AsyncHmac = (hash: HashName, key: Uint8Array) => Promise<AsyncKeyedHmac>;

/** Property of a backend's `hmac` function holding its {@link AsyncHmac} (WebCrypto), if any. */
export const KEYED_HMAC: unique symbol = Symbol('enseal.keyedHmac');

/** Prepares an AES-GCM key synchronously; attached to a backend's `aesGcm` function as {@link SYNC_AES_GCM}. */
export type SyncAesGcm = (key: Uint8Array) => AesGcmKey & SyncGcm;

/**
 * Property of a backend's `aesGcm` function holding its {@link SyncAesGcm} (node:crypto), if
 * any: a one-shot call then creates its keys without a promise. A wrapper that replaces `aesGcm`
 * drops it unless it carries its own (src/backends/live-keys.ts does, counting the keys).
 */
export const SYNC_AES_GCM: unique symbol = Symbol('enseal.syncAesGcm');

/**
 * The synchronous AES-GCM key factory of a backend, when its `aesGcm` function carries one.
 * @param backend - a backend
 * @returns the factory, or `undefined`
 * @example
 * ```ts
 * const make = syncAesGcmOf(backend);
 * const key = make?.(raw); // AesGcmKey & SyncGcm, disposed by the caller
 * ```
 */
export function syncAesGcmOf(backend: CryptoBackend): SyncAesGcm | undefined {
  const f = (backend.aesGcm as { [SYNC_AES_GCM]?: SyncAesGcm } | undefined)?.[SYNC_AES_GCM];
  return typeof f === 'function' ? f : undefined;
}

/**
 * The key-once asynchronous HMAC of a backend, when its `hmac` function carries one.
 * @param backend - a backend
 * @returns the factory, or `undefined`
 * @example
 * ```ts
 * const keyed = await keyedHmacOf(backend)?.('SHA-512', prk);
 * ```
 */
export function keyedHmacOf(backend: CryptoBackend): AsyncHmac | undefined {
  const f = (backend.hmac as { [KEYED_HMAC]?: AsyncHmac } | undefined)?.[KEYED_HMAC];
  return typeof f === 'function' ? f : undefined;
}

/**
 * The synchronous GCM operations of a key, when its backend has them.
 * @param key - a backend key
 * @returns the key typed with {@link SyncGcm}, or `undefined`
 * @example
 * ```ts
 * const fast = syncGcmOf(aead);
 * if (fast) fast.sealChunksSync(base, 0, chunks, out);
 * ```
 */
export function syncGcmOf(key: AesGcmKey): (AesGcmKey & SyncGcm) | undefined {
  const k = key as AesGcmKey & Partial<SyncGcm>;
  return typeof k.sealChunksSync === 'function' && typeof k.openChunksSync === 'function' && typeof k.sealSync === 'function' && typeof k.openSync === 'function'
    ? (k as AesGcmKey & SyncGcm)
    : undefined;
}

/**
 * The keyed synchronous HMAC of a backend, when its `hmac` function carries one.
 * @param backend - a backend
 * @returns the factory, or `undefined`
 * @example
 * ```ts
 * const keyed = syncHmacOf(backend)?.('SHA-512', prk);
 * ```
 */
export function syncHmacOf(backend: CryptoBackend): SyncHmac | undefined {
  const f = (backend.hmac as { [SYNC_HMAC]?: SyncHmac } | undefined)?.[SYNC_HMAC];
  return typeof f === 'function' ? f : undefined;
}

/**
 * Writes `baseNonce XOR uint96_be(index)` into `out` (C2SP §"AEAD usage"). For `index < 2^38`
 * only the last 5 bytes change.
 * @param baseNonce - 12 bytes
 * @param index - a non-negative integer below 2^38 (checked by the caller)
 * @param out - 12 bytes, overwritten
 * @example
 * ```ts
 * chunkNonceInto(base, 3, scratch);
 * ```
 */
export function chunkNonceInto(baseNonce: Uint8Array, index: number, out: Uint8Array): void {
  out.set(baseNonce);
  const hi = Math.floor(index / 2 ** 32); // < 2^6
  const lo = index >>> 0;
  out[7] = (baseNonce[7] as number) ^ hi;
  out[8] = (baseNonce[8] as number) ^ (lo >>> 24);
  out[9] = (baseNonce[9] as number) ^ ((lo >>> 16) & 0xff);
  out[10] = (baseNonce[10] as number) ^ ((lo >>> 8) & 0xff);
  out[11] = (baseNonce[11] as number) ^ (lo & 0xff);
}
