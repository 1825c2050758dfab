/**
 * The one interface every cryptographic implementation provides. The node:crypto and WebCrypto
 * backends have exactly this shape; a WebAssembly backend (`'wasm'`) will join them.
 *
 * Contract shared by all implementations:
 * - inputs are never mutated, and may be subarrays at any offset;
 * - outputs are fresh {@link Bytes} owned by the caller;
 * - an AEAD authentication failure rejects with `EnsealError` code `ERR_AUTH`, and no plaintext;
 * - an algorithm or key size the platform lacks rejects with code `ERR_UNSUPPORTED`, which is the
 *   only failure that may make a caller try another backend.
 *
 * @module
 */
import type { Bytes } from '../bytes.js';

/** Names of the available backends. `'wasm'` is reserved for the WebAssembly core. */
export type BackendName = 'node' | 'webcrypto';

/** Hash functions used by HMAC, HKDF and digests. */
export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

/** An AES-GCM key prepared for many operations (e.g. every chunk of one message). */
export interface AesGcmKey {
  /**
   * Encrypts `plaintext`, returning `ciphertext || tag` (16-byte tag).
   * @param nonce - 12 bytes; must never repeat for this key
   * @param plaintext - message bytes
   * @param aad - additional authenticated data (empty if omitted)
   */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Promise<Bytes>;
  /**
   * Decrypts `ciphertext || tag`. Returns plaintext only after the tag verified.
   * @throws EnsealError `ERR_AUTH` when the tag does not verify
   */
  open(nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Promise<Bytes>;
  /**
   * Encrypts many messages in one call (per-call overhead is paid once per batch, and
   * asynchronous backends pipeline). Returns pieces whose concatenation is
   * `ct_0 || tag_0 || ct_1 || tag_1 || …`; how the bytes are split into pieces is up to the
   * backend (node:crypto returns each ciphertext and tag as produced, without copying).
   * @param nonces - one 12-byte nonce per plaintext
   */
  sealBatch(nonces: readonly Uint8Array[], plaintexts: readonly Uint8Array[]): Promise<Bytes[]>;
  /**
   * Decrypts many `ciphertext || tag` messages; returns their plaintexts in order, all
   * authenticated. Nothing is returned unless every message verified.
   * @throws EnsealError `ERR_AUTH` whose `chunk` is the position (in this batch) of the first
   *   message that failed
   */
  openBatch(nonces: readonly Uint8Array[], sealed: readonly Uint8Array[]): Promise<Bytes[]>;
  /** Forgets the key (wipes any raw copy held in JS memory). The key must not be used after. */
  dispose(): void;
}

/** The cryptographic operations enseal needs from a platform. */
export interface CryptoBackend {
  /** Backend name, as accepted by the `backend` option. */
  readonly name: BackendName;
  /**
   * Prepares an AES-GCM key (16, 24 or 32 bytes; the caller keeps ownership of `key`).
   * @throws EnsealError `ERR_UNSUPPORTED` for a key size this platform lacks
   */
  aesGcm(key: Uint8Array): Promise<AesGcmKey>;
  /**
   * AES-CTR with a 128-bit big-endian counter block incremented modulo 2^128 (SP 800-38A §6.5).
   * Encryption and decryption are the same operation.
   */
  aesCtr(key: Uint8Array, counterBlock: Uint8Array, data: Uint8Array): Promise<Bytes>;
  /** HMAC (RFC 2104) of `data` under `key`. */
  hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Promise<Bytes>;
  /** A plain digest of `data`. */
  digest(hash: HashName, data: Uint8Array): Promise<Bytes>;
  /** `n` bytes from the platform CSPRNG. */
  randomBytes(n: number): Bytes;
}

/** Output length in bytes of each {@link HashName}. */
export const hashLength: Readonly<Record<HashName, number>> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };
