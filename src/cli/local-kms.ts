/**
 * The LocalKms store as the CLI uses it: `--kms-store PATH` / `--store PATH`, else
 * `defaultLocalKmsPath()` (`$ENSEAL_KMS_STORE`, else `~/.enseal/kms.json`). Only
 * `kms create-key` creates a store; every other use needs an existing one. (`--kms local` on
 * decryption, any key of the store, is `kms({ client, discovery: true })`: see key-loader.ts.)
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EnsealError } from '../errors.js';
import { defaultLocalKmsPath, LocalKms } from '../kms/local.js';
import { quoted } from './terminal-text.js';

/**
 * Opens the local store.
 * @param path - `--kms-store`/`--store`, or `undefined` for the default store
 * @param create - create the store (and its directory) when missing
 * @returns the client
 * @throws EnsealError `ERR_KMS_UNAVAILABLE` when the store is missing (without `create`),
 *   unreadable or corrupt; `ERR_KMS_DENIED` when group or others can access it
 * @example
 * ```ts
 * const local = await openLocalStore(undefined, false);
 * ```
 */
export async function openLocalStore(path: string | undefined, create: boolean): Promise<LocalKms> {
  const file = resolve(path ?? defaultLocalKmsPath());
  if (!create) {
    const missing = await stat(file).then(
      () => false,
      (e: unknown) => (e as { code?: unknown }).code === 'ENOENT',
    );
    if (missing) throw new EnsealError('ERR_KMS_UNAVAILABLE', `local KMS store ${quoted(file, 400)} does not exist (create a key first: enseal kms create-key, or name another store with --kms-store PATH or ENSEAL_KMS_STORE)`);
  }
  return LocalKms.open(file, { create });
}
