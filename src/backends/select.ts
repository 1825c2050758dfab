/**
 * Backend selection: automatic per runtime (`'auto'`, the default: the fastest available backend
 * of the measured table in auto-order.ts), or forced with the `backend` option that every
 * public API call accepts. Fallback is only ever on "not supported" (a backend the runtime lacks
 * is skipped when the choice is made); an authentication failure never makes us retry elsewhere.
 *
 * @module
 */
import { EnsealError } from '../errors.js';
import type { BackendName, CryptoBackend } from './backend.js';
import { AUTO_ORDER, detectRuntime } from './auto-order.js';
import { countKeys } from './live-keys.js';
import { createNodeBackend, loadNodeCrypto } from './node.js';
import { createWasmBackend } from './wasm.js';
import { hasWebAssembly } from './wasm-core.js';
import { createWebCryptoBackend, loadSubtle } from './webcrypto.js';

/**
 * What the `backend` option accepts: a backend name, `'auto'` (the default: the fastest backend
 * available in this runtime, measured by bench/backends.mjs), or a {@link CryptoBackend} object
 * (advanced: a custom implementation with the same contract).
 */
export type BackendChoice = BackendName | 'auto' | CryptoBackend;

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
 * @param choice - a backend name, a backend object, or `'auto'`/`undefined` for the runtime's
 *   default: the first available of the measured order (src/backends/auto-order.ts): node:crypto in
 *   Node and Bun, WebCrypto in Deno and browsers, the WASM core where `crypto.subtle` is missing
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
  const name: BackendName = choice === undefined || choice === 'auto' ? autoBackend() : choice;
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

const present: Record<BackendName, () => boolean> = {
  node: () => loadNodeCrypto() !== undefined,
  webcrypto: () => loadSubtle() !== undefined,
  wasm: hasWebAssembly,
};

/**
 * The backend `'auto'` stands for here: the first of this runtime's measured order that exists.
 * WebCrypto ranks above the WASM core wherever both exist, so a CSP that refuses WebAssembly
 * never breaks the default; with none, `'webcrypto'` (which says `ERR_UNSUPPORTED`). Evaluated
 * on each call (cheap), so a page whose `crypto.subtle` appears or goes is followed.
 * @returns the backend name
 */
function autoBackend(): BackendName {
  return AUTO_ORDER[detectRuntime()].find((n) => present[n]()) ?? 'webcrypto';
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
