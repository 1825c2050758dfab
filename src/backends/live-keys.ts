/**
 * A count of the backend keys (`AesGcmKey`, `AesBlockKey`) that were created and not yet
 * disposed, in this JavaScript realm. `getBackend` (src/backends/select.ts) wraps every named
 * backend with {@link countKeys}, so the count covers node:crypto, WebCrypto and WASM alike
 * without any backend carrying test plumbing; tests read it to prove that every path (success,
 * error, cancel, abort, destroy) disposes the keys it created. It is an internal module: not
 * exported from any entry point, and it holds only a number, so reading it reveals nothing.
 *
 * Cost: one counter update per key creation and per first `dispose()`; the key's operations are
 * not wrapped (only its `dispose` is replaced on the instance), so chunk processing pays nothing.
 *
 * @module
 */
import type { CryptoBackend } from './backend.js';

let live = 0;

/** Counts `key` as live until its first `dispose()` (later calls are not counted again). */
function counted<K extends { dispose(): void }>(key: K): K {
  const dispose = key.dispose;
  let done = false;
  live++;
  Object.defineProperty(key, 'dispose', {
    configurable: true,
    writable: true,
    value: (): void => {
      if (!done) {
        done = true;
        live--;
      }
      dispose.call(key);
    },
  });
  return key;
}

/**
 * Wraps a backend so that the AES keys it prepares are counted by {@link liveKeyCount}.
 * @param backend - a backend implementation
 * @returns the same backend, whose `aesGcm` and `aesBlock` count the keys they return
 * @example
 * ```ts
 * const b = countKeys(createNodeBackend());
 * ```
 */
export function countKeys(backend: CryptoBackend): CryptoBackend {
  return {
    ...backend,
    aesGcm: async (key) => counted(await backend.aesGcm(key)),
    aesBlock: async (key) => counted(await backend.aesBlock(key)),
  };
}

/**
 * How many backend keys are alive (created and not disposed) right now.
 * @returns the count
 * @example
 * ```ts
 * const before = liveKeyCount();
 * await encrypt(data, { recipients });
 * liveKeyCount() === before; // true: every key was disposed
 * ```
 */
export function liveKeyCount(): number {
  return live;
}
