/**
 * Loads the optional peer dependency `pkcs11js` (a native Node addon). This file and the rest of
 * `src/pkcs11/` are reached only through the `enseal/pkcs11` subpath: the root entry never
 * imports them, so enseal works (and bundles) without `pkcs11js`.
 *
 * @module
 */
import { EnsealError } from '../errors.js';

/** The `pkcs11js` module: the `PKCS11` class and the `CK*` constants. */
export type Pkcs11Api = typeof import('pkcs11js');

/**
 * Imports `pkcs11js` on first use.
 * @param specifier - the module to import (tests use another name to see the failure)
 * @returns the module's exports
 * @throws EnsealError `ERR_UNSUPPORTED` when it is not installed or cannot load (no build for
 *   this platform, not Node)
 * @example
 * ```ts
 * const api = await loadPkcs11js();
 * const lib = new api.PKCS11();
 * ```
 */
export async function loadPkcs11js(specifier = 'pkcs11js'): Promise<Pkcs11Api> {
  try {
    // A computed specifier keeps bundlers from trying to inline a native addon.
    const mod = (await import(/* @vite-ignore */ specifier)) as Pkcs11Api & { default?: Pkcs11Api };
    const api = mod.default ?? mod;
    if (typeof api.PKCS11 !== 'function') throw new TypeError('no PKCS11 class');
    return api;
  } catch (e) {
    throw new EnsealError(
      'ERR_UNSUPPORTED',
      `enseal/pkcs11 needs the optional peer dependency pkcs11js (npm install pkcs11js), which could not be loaded from "${specifier}"`,
      { cause: e },
    );
  }
}
