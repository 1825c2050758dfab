/**
 * One loaded PKCS#11 module per library path, shared by every provider of this process.
 *
 * Cryptoki is initialised once per process (PKCS#11 v2.40 §5.4 `C_Initialize`; a second call
 * answers `CKR_CRYPTOKI_ALREADY_INITIALIZED`), and its login state belongs to the application,
 * not to a session. So providers share the module: the first one loads and initialises it, the
 * last one to close finalises it — unless something else in the process had initialised it
 * first, in which case we never finalise it under its feet.
 *
 * @module
 */
import type { PKCS11 } from 'pkcs11js';
import { EnsealError } from '../errors.js';
import { ckrName, pkcs11Error } from './errors.js';
import type { Pkcs11Api } from './load.js';

/** A loaded, initialised PKCS#11 module. */
export interface LoadedModule {
  /** The pkcs11js module (constants). */
  readonly api: Pkcs11Api;
  /** The library. */
  readonly lib: PKCS11;
  /** The path it was loaded from. */
  readonly path: string;
}

interface Entry {
  readonly loading: Promise<LoadedModule>;
  refs: number;
  /** Whether our C_Initialize call initialised Cryptoki (so C_Finalize is ours to call). */
  readonly state: { ownsInit: boolean };
}

const modules = new Map<string, Entry>();

function load(api: Pkcs11Api, path: string, entry: { ownsInit: boolean }): LoadedModule {
  const lib = new api.PKCS11();
  try {
    lib.load(path);
  } catch (e) {
    throw new EnsealError('ERR_UNSUPPORTED', `cannot load the PKCS#11 module "${path}"`, { cause: e });
  }
  try {
    // OS locking: pkcs11js runs the *Async calls on libuv worker threads.
    lib.C_Initialize({ flags: api.CKF_OS_LOCKING_OK });
    entry.ownsInit = true;
  } catch (e) {
    if (ckrName(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      try {
        lib.close();
      } catch {
        // keep the first error
      }
      throw pkcs11Error(e, `C_Initialize of "${path}"`);
    }
  }
  return { api, lib, path };
}

/**
 * Loads and initialises the module at `path`, or shares the already loaded one.
 * @returns the module; call {@link releaseModule} once per acquisition
 * @throws EnsealError `ERR_UNSUPPORTED` when the library cannot be loaded,
 *   `ERR_KMS_UNAVAILABLE` when it fails to initialise
 */
export async function acquireModule(api: Pkcs11Api, path: string): Promise<LoadedModule> {
  let entry = modules.get(path);
  if (entry === undefined) {
    const state = { ownsInit: false };
    const created: Entry = { loading: Promise.resolve().then(() => load(api, path, state)), refs: 0, state };
    entry = created;
    modules.set(path, created);
    created.loading.catch(() => modules.delete(path));
  }
  entry.refs++;
  try {
    return await entry.loading;
  } catch (e) {
    entry.refs--;
    throw e;
  }
}

/** Releases one acquisition; the last one finalises (if we initialised) and unloads the module. */
export function releaseModule(mod: LoadedModule): void {
  const entry = modules.get(mod.path);
  if (entry === undefined) return;
  if (--entry.refs > 0) return;
  modules.delete(mod.path);
  try {
    if (entry.state.ownsInit) mod.lib.C_Finalize();
  } catch {
    // Nothing useful to report while closing.
  }
  try {
    mod.lib.close();
  } catch {
    // idem
  }
}
