/**
 * The LocalKms store as the CLI uses it: `--kms-store PATH` / `--store PATH`, else
 * `defaultLocalKmsPath()` (`$ENSEAL_KMS_STORE`, else `~/.enseal/kms.json`). Only
 * `kms create-key` creates a store; every other use needs an existing one.
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EnsealError } from '../errors.js';
import { kms, KMS_STANZA_PREFIX } from '../keys/kms.js';
import type { KeyProvider } from '../keys/provider.js';
import { defaultLocalKmsPath, LocalKms } from '../kms/local.js';

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
    if (missing) throw new EnsealError('ERR_KMS_UNAVAILABLE', `local KMS store "${file}" does not exist (create a key first: enseal kms create-key)`);
  }
  return LocalKms.open(file, { create });
}

/**
 * `--kms local` on decryption: a provider for every `kms-local` stanza whose key is in the store.
 * Each stanza is unwrapped by a `kms({ client, keyId: stanza.keyId })` provider, so the KMS
 * provider's own checks (the store owns the key, the blob names it) all apply.
 * @param client - the opened store
 * @returns a provider that only unwraps
 * @example
 * ```ts
 * const keys = [anyLocalKey(await openLocalStore(undefined, false))];
 * ```
 */
export function anyLocalKey(client: LocalKms): KeyProvider {
  const type = `${KMS_STANZA_PREFIX}${client.type}`;
  return {
    description: `${type}:*`,
    async wrap(): Promise<never> {
      throw new TypeError('--kms local (any key of the store) only decrypts; name a key to encrypt: --kms local:KEYID');
    },
    async unwrap(stanza, ctx) {
      if (stanza.type !== type || stanza.keyId === '') return null;
      return kms({ client, keyId: stanza.keyId }).unwrap(stanza, ctx);
    },
  };
}
