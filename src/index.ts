/**
 * enseal: client-side envelope encryption of objects and streams.
 *
 * Every object gets a fresh random 32-byte data key; key providers (here: {@link aesKey}) wrap it
 * into the header; the payload is C2SP chunked-encryption (Cobblestone-256: committing,
 * chunked AES-256-GCM) with the header bound into its key commitment. Whole objects, Web
 * streams, and authenticated ranged reads that fetch only the chunks they need.
 *
 * Subpaths: `enseal/chunked` (the payload layer alone), `enseal/node` (Node streams and files).
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
export { ciphertextRange, ciphertextSize, plaintextSize, type CiphertextRange } from './envelope/sizes.js';
export type { BackendOptions, DecryptOptions, EncryptOptions } from './envelope/options.js';
export { aesKey, AES_GCM_STANZA, type AesKeyOptions, type AesKeyProvider } from './keys/aes-key.js';
export type { GeneratedDataKey, KeyProvider, WrapContext } from './keys/provider.js';
export type { EncryptionContext, Stanza } from './format/header.js';
export { EnsealError, RangeNotSatisfiableError, isEnsealError, type ErrorCode, type EnsealErrorOptions } from './errors.js';
export { availableBackends, getBackend, type BackendChoice } from './backends/select.js';
export type { AesGcmKey, BackendName, CryptoBackend, HashName } from './backends/backend.js';
export type { Bytes } from './bytes.js';
