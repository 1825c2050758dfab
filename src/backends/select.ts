/**
 * Backend selection: automatic per runtime, or forced with the `backend` option that every
 * public API call accepts. Fallback is only ever on "not supported" (a runtime without
 * node:crypto gets WebCrypto); an authentication failure never makes us retry elsewhere.
 *
 * @module
 */
import { EnsealError } from '../errors.js';
import type { BackendName, CryptoBackend } from './backend.js';
import { countKeys } from './live-keys.js';
import { createNodeBackend, loadNodeCrypto } from './node.js';
import { createWasmBackend } from './wasm.js';
import { hasWebAssembly } from './wasm-core.js';
import { createWebCryptoBackend, loadSubtle } from './webcrypto.js';

/**
 * What the `backend` option accepts: a backend name, or a {@link CryptoBackend} object
 * (advanced: a custom implementation with the same contract).
 */
export type BackendChoice = BackendName | CryptoBackend;

const factories: Record<BackendName, () => CryptoBackend> = {
  node: createNodeBackend,
  webcrypto: createWebCryptoBackend,
  wasm: createWasmBackend,
};

const cache = new Map<BackendName, CryptoBackend>();

/** Names of the backends this build knows about (whether or not this runtime supports them). */
export const backendNames: readonly BackendName[] = Object.freeze(Object.keys(factories) as BackendName[]);

/**
 * Resolves the `backend` option to an implementation.
 *
 * @param choice - a backend name, a backend object, or `undefined` for the runtime's default
 *   (node:crypto where available, else WebCrypto, else the WASM core when `crypto.subtle` is missing)
 * @returns the backend
 * @throws TypeError for an unknown name
 * @throws EnsealError `ERR_UNSUPPORTED` when the named backend is unavailable in this runtime
 * @example
 * ```ts
 * const b = getBackend('webcrypto');
 * ```
 */
export function getBackend(choice?: BackendChoice): CryptoBackend {
  if (choice !== undefined && typeof choice === 'object') return choice;
  // Default: node:crypto, else WebCrypto, else (no crypto.subtle: e.g. a page over plain HTTP)
  // the WASM core. WebCrypto is preferred to WASM wherever it exists, so a CSP that refuses
  // WebAssembly never breaks the default.
  const name: BackendName =
    choice ?? (loadNodeCrypto() !== undefined ? 'node' : loadSubtle() === undefined && hasWebAssembly() ? 'wasm' : 'webcrypto');
  const make = Object.hasOwn(factories, name) ? factories[name] : undefined;
  if (make === undefined) {
    throw new TypeError(`"backend" expected one of ${backendNames.join(', ')}, got ${String(name)}`);
  }
  let b = cache.get(name);
  if (b === undefined) {
    b = countKeys(make()); // live-key accounting (src/backends/live-keys.ts), read by tests
    cache.set(name, b);
  }
  return b;
}

/**
 * Lists the backends that work in this runtime.
 * @returns names whose backend could be created here
 */
export function availableBackends(): BackendName[] {
  return backendNames.filter((n) => {
    try {
      getBackend(n);
      return true;
    } catch (e) {
      if (e instanceof EnsealError && e.code === 'ERR_UNSUPPORTED') return false;
      throw e;
    }
  });
}
