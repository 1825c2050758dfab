/**
 * Stand-in for `./node.ts` in the browser bundle (`dist/enseal.browser.js`): the bundle never
 * carries the node:crypto backend. rollup.config.mjs swaps this module in for `./node.ts`, so
 * the automatic choice is WebCrypto and `backend: 'node'` throws `ERR_UNSUPPORTED`, exactly as
 * in any runtime without node:crypto. It has the same exports as `./node.ts`.
 *
 * @module
 */
import { EnsealError } from '../errors.js';
import type { CryptoBackend } from './backend.js';

/**
 * node:crypto is never reached from the browser bundle.
 * @returns always `undefined`
 * @example
 * ```ts
 * loadNodeCrypto(); // undefined in the browser bundle
 * ```
 */
export function loadNodeCrypto(): undefined {
  return undefined;
}

/**
 * The node:crypto backend is not part of the browser bundle.
 * @returns never
 * @throws EnsealError `ERR_UNSUPPORTED`, always
 * @example
 * ```ts
 * await encrypt(data, { recipients: [key], backend: 'node' }); // rejects: ERR_UNSUPPORTED
 * ```
 */
export function createNodeBackend(): CryptoBackend {
  throw new EnsealError('ERR_UNSUPPORTED', 'the node backend is not available in the browser bundle (use webcrypto)');
}
