/**
 * enseal: client-side envelope encryption of objects and streams.
 *
 * Every object gets a fresh random 32-byte data key; key providers (see below) wrap it
 * into the header; the payload is C2SP chunked-encryption (Cobblestone-256: committing,
 * chunked AES-256-GCM) with the header bound into its key commitment. Whole objects, Web
 * streams, and authenticated ranged reads that fetch only the chunks they need.
 *
 * Key providers: {@link aesKey} (AES-256-GCM, RFC 3394, RFC 5649), {@link rsaKey} (RSA-OAEP;
 * legacy PKCS#1 v1.5 read with implicit rejection), {@link passphrase} (Argon2id, scrypt,
 * PBKDF2), {@link kms} (any {@link KmsClient}).
 *
 * Subpaths: `enseal/chunked` (the payload layer alone), `enseal/node` (Node streams and files),
 * `enseal/kms` (AWS KMS, Alibaba Cloud KMS, Vault Transit clients), `enseal/kms-local` (a
 * file-backed local KMS), `enseal/pkcs11` (HSM keys over PKCS#11; an optional peer dependency).
 *
 * @example
 * ```ts
 * import { aesKey, encrypt, decrypt } from 'enseal';
 * const key = aesKey({ id: 'k1', key: crypto.getRandomValues(new Uint8Array(32)) });
 * const sealed = await encrypt(new TextEncoder().encode('hello'), { recipients: [key] });
 * const plain = await decrypt(sealed, { keys: [key] });
 * ```
 *
 * @module
 */
export { encrypt, decrypt } from './envelope/oneshot.js';
export { encryptStream, decryptStream } from './envelope/streams.js';
export { decryptRange, openReader, type ByteRange, type EnvelopeReader, type RandomAccessSource } from './envelope/range.js';
export { inspect, type Inspection } from './envelope/inspect.js';
export { rewrap, type RewrapOptions } from './envelope/rewrap.js';
export { rotate, rotateStream, type RotateOptions } from './envelope/rotate.js';
export { ciphertextRange, ciphertextSize, plaintextSize, type CiphertextRange } from './envelope/sizes.js';
export type { BackendOptions, DecryptOptions, EncryptOptions, WorkerOptions } from './envelope/options.js';
export {
  aesKey,
  AES_GCM_STANZA,
  AES_KW_STANZA,
  AES_KWP_STANZA,
  type AesKeyOptions,
  type AesKeyProvider,
  type AesWrapMode,
} from './keys/aes-key.js';
export {
  rsaKey,
  RSA_OAEP_SHA256_STANZA,
  RSA_OAEP_SHA1_STANZA,
  RSA_PKCS1_STANZA,
  type RsaKeyOptions,
  type RsaKeyProvider,
} from './keys/rsa.js';
export {
  passphrase,
  PASSPHRASE_STANZA,
  type PassphraseCommonOptions,
  type PassphraseExpectation,
  type PassphraseOptions,
  type PassphraseProvider,
} from './keys/passphrase.js';
export { DEFAULT_KDF_PARAMS, PASSPHRASE_LIMITS } from './keys/passphrase-params.js';
export { kdfCost } from './keys/kdf-cost.js';
export type { KdfParams, PassphraseKdf } from './keys/passphrase-kdf.js';
export {
  kms,
  KMS_STANZA_PREFIX,
  type KmsCiphertext,
  type KmsClient,
  type KmsDataKey,
  type KmsDiscoveryFilter,
  type KmsKeyScope,
  type KmsProviderOptions,
} from './keys/kms.js';
export type { GeneratedDataKey, KeyProvider, WrapContext } from './keys/provider.js';
export type { EncryptionContext, Stanza } from './format/header.js';
export { EnsealError, RangeNotSatisfiableError, isEnsealError, type ErrorCode, type EnsealErrorOptions } from './errors.js';
export { availableBackends, getBackend, type BackendChoice } from './backends/select.js';
export { ready, wasmSync, type WasmSync } from './backends/wasm.js';
export { createPool, WorkerPool, type PoolOptions } from './pool/pool.js';
export type { WorkersOption } from './pool/session.js';
export { checksumStream, type ChecksumStream } from './integrity/checksum-stream.js';
export { createChecksummer, type Checksummer, type ChecksumOptions, type Digests } from './integrity/checksums.js';
export { crc64, createCrc64, Crc64, type Crc64Engine } from './integrity/crc64.js';
export { crc64Combine } from './integrity/crc64-combine.js';
export { integrityCheck, type IntegrityCheck, type IntegrityDigests, type IntegritySpec } from './integrity/stream-integrity.js';
export type { AesBlockKey, AesGcmKey, BackendName, CryptoBackend, HashName, RsaKey, RsaKeyInput, RsaOaepHash } from './backends/backend.js';
export type { Bytes } from './bytes.js';
