/**
 * `enseal/kms-local`: LocalKms, a file-backed KMS for development, tests and single-host use
 * (AES-256 master keys in a 0600 JSON key store with aliases, rotation, disable/enable, locking
 * and atomic updates). Use it with the {@link kms} provider, re-exported here.
 *
 * @example
 * ```ts
 * import { encrypt } from 'enseal';
 * import { LocalKms, defaultLocalKmsPath, kms } from 'enseal/kms-local';
 * const local = await LocalKms.open(defaultLocalKmsPath(), { create: true });
 * await local.createKey({ alias: 'dev' });
 * const sealed = await encrypt(data, { recipients: [kms({ client: local, keyId: 'dev' })] });
 * ```
 *
 * @module
 */
export {
  LocalKms,
  defaultLocalKmsPath,
  LOCAL_KMS_MAX_PLAINTEXT,
  LOCAL_KMS_STORE_ENV,
  type CreateLocalKeyOptions,
  type LocalKeyInfo,
  type LocalKmsOpenOptions,
} from './kms/local.js';
export { kms, type KmsClient, type KmsDiscoveryFilter, type KmsProviderOptions } from './keys/kms.js';
