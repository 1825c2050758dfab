/**
 * The one interface every cryptographic implementation provides. The node:crypto and WebCrypto
 * backends have exactly this shape; a WebAssembly backend (`'wasm'`) will join them.
 *
 * Contract shared by all implementations:
 * - inputs are never mutated, and may be subarrays at any offset;
 * - outputs are fresh {@link Bytes} owned by the caller;
 * - an AEAD authentication failure rejects with `EnsealError` code `ERR_AUTH`, and no plaintext;
 * - an algorithm or key size the platform lacks rejects with code `ERR_UNSUPPORTED`, which is the
 *   only failure that may make a caller try another backend;
 * - RSA keys are opaque {@link RsaKey} handles, usable only with the backend that imported them.
 *
 * @module
 */
import { assertChunk } from '../bytes.js';
import type { Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';

/** Names of the available backends (`'wasm'`: enseal's WebAssembly core, src/backends/wasm.ts). */
export type BackendName = 'node' | 'webcrypto' | 'wasm';

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
  /**
   * Forgets the key (wipes any raw copy held in JS memory). Idempotent. Every later call, and
   * every call still in flight, rejects with `EnsealError` code `ERR_STATE`.
   */
  dispose(): void;
}

/**
 * A raw AES block cipher (ECB on whole 16-byte blocks, no padding) prepared for many calls: the
 * primitive under RFC 3394/5649 key wrapping. Never use it to encrypt data.
 */
export interface AesBlockKey {
  /**
   * Encrypts each 16-byte block independently.
   * @param blocks - a multiple of 16 bytes (may be empty)
   * @returns `E(K, b_0) || E(K, b_1) || …`
   * @throws RangeError when `blocks` is not a multiple of 16 bytes
   */
  encrypt(blocks: Uint8Array): Promise<Bytes>;
  /**
   * Decrypts each 16-byte block independently. Never fails on the contents of the blocks.
   * @param blocks - a multiple of 16 bytes (may be empty)
   * @returns `D(K, b_0) || D(K, b_1) || …`
   * @throws RangeError when `blocks` is not a multiple of 16 bytes
   */
  decrypt(blocks: Uint8Array): Promise<Bytes>;
  /**
   * Forgets the key (wipes any raw copy held in JS memory). Idempotent. Every later call, and
   * every call still in flight, rejects with `EnsealError` code `ERR_STATE`.
   */
  dispose(): void;
}

/** Hash functions for RSA-OAEP (the MGF1 hash is always the same as the label hash). */
export type RsaOaepHash = 'SHA-1' | 'SHA-256';

/**
 * RSA key material a backend can import:
 * - a PEM string: `PUBLIC KEY` (SPKI), `PRIVATE KEY` (PKCS#8), `RSA PUBLIC KEY` or
 *   `RSA PRIVATE KEY` (PKCS#1);
 * - DER bytes of an SPKI (public) or PKCS#8 (private) structure;
 * - a JWK object (`kty: "RSA"`);
 * - a WebCrypto `CryptoKey`.
 *
 * Written with structural types ({@link RsaJwk}, {@link PlatformCryptoKey}) so that the
 * declarations compile without the DOM lib (e.g. `lib: ["es2022"]` with `types: ["node"]`).
 */
export type RsaKeyInput = string | Uint8Array | RsaJwk | PlatformCryptoKey;

/**
 * A JSON Web Key (RFC 7517 §4, RFC 7518 §6.3) as enseal reads it: the members of the DOM's
 * `JsonWebKey`, declared here so that no DOM lib is needed. A DOM `JsonWebKey` or node:crypto's
 * `JsonWebKey` is assignable to it; only `kty: "RSA"` keys are accepted at run time.
 */
export type RsaJwk = {
  kty?: string;
  alg?: string;
  use?: string;
  ext?: boolean;
  key_ops?: string[];
  /** Modulus, base64url (RFC 7518 §6.3.1.1). */
  n?: string;
  /** Public exponent, base64url (RFC 7518 §6.3.1.2). */
  e?: string;
  d?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
  oth?: { r?: string; d?: string; t?: string }[];
};

/**
 * The members of a WebCrypto `CryptoKey` (W3C Web Cryptography API §13) that a consumer's value
 * must have: a structural stand-in used when the consumer's lib has no `CryptoKey`.
 */
export interface CryptoKeyLike {
  readonly type: string;
  readonly extractable: boolean;
  readonly algorithm: { readonly name: string };
  readonly usages: readonly string[];
}

/**
 * The platform's `CryptoKey` type when the consumer's lib declares the global (`lib: ["dom"]`,
 * or `@types/node`'s global `CryptoKey`), else {@link CryptoKeyLike}: a conditional type, so
 * the declarations compile with or without the DOM lib.
 */
export type PlatformCryptoKey = typeof globalThis extends { CryptoKey: { prototype: infer K } } ? K : CryptoKeyLike;

/**
 * An RSA key imported into one backend: an opaque handle. The key material stays inside the
 * backend (node:crypto `KeyObject`, WebCrypto `CryptoKey`); only the backend that created the
 * handle accepts it.
 */
export interface RsaKey {
  /** `'public'` can encrypt; `'private'` can decrypt (and yields its public key). */
  readonly type: 'public' | 'private';
  /** Size of the modulus n in bits (2048, 3072, …). The RSA block size is ⌈bits / 8⌉ bytes. */
  readonly modulusLengthInBits: number;
  /** The backend that imported the key. */
  readonly backend: BackendName;
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
  /**
   * Prepares a raw AES block cipher for key wrapping (16, 24 or 32-byte key; the caller keeps
   * ownership of `key`).
   * @throws RangeError for a key that is not 16, 24 or 32 bytes
   * @throws EnsealError `ERR_UNSUPPORTED` for a key size this platform lacks
   */
  aesBlock(key: Uint8Array): Promise<AesBlockKey>;
  /**
   * Imports an RSA key. Asking for `'public'` from private material derives the public key.
   * @param input - PEM, DER (SPKI for public, PKCS#8 for private), JWK or `CryptoKey`
   * @param type - the kind of handle wanted
   * @throws TypeError for material that is not an RSA key of the wanted kind (or unparsable)
   * @throws EnsealError `ERR_UNSUPPORTED` when this platform cannot use the given key object
   */
  importRsaKey(input: RsaKeyInput, type: 'public' | 'private'): Promise<RsaKey>;
  /**
   * The DER-encoded SubjectPublicKeyInfo of a key (of its public part for a private key).
   * @throws EnsealError `ERR_UNSUPPORTED` when the platform cannot reveal it (a non-extractable
   *   private `CryptoKey` in WebCrypto)
   */
  exportRsaSpki(key: RsaKey): Promise<Bytes>;
  /**
   * RSAES-OAEP encryption (RFC 8017 §7.1.1), MGF1 with the same hash.
   * @param label - the OAEP label L (empty if omitted)
   * @throws RangeError when `plaintext` is longer than k − 2·hLen − 2 bytes
   */
  rsaOaepEncrypt(key: RsaKey, hash: RsaOaepHash, plaintext: Uint8Array, label?: Uint8Array): Promise<Bytes>;
  /**
   * RSAES-OAEP decryption (RFC 8017 §7.1.2), MGF1 with the same hash.
   * @throws EnsealError `ERR_AUTH` with one fixed message for every failure (wrong length,
   *   integer out of range, bad padding, wrong label or key)
   */
  rsaOaepDecrypt(key: RsaKey, hash: RsaOaepHash, ciphertext: Uint8Array, label?: Uint8Array): Promise<Bytes>;
  /**
   * Raw RSA decryption RSADP (RFC 8017 §5.1.2): `m = c^d mod n`, left-padded to k bytes. A
   * ciphertext shorter than k bytes is read as the integer it encodes.
   * @throws EnsealError `ERR_AUTH` when the ciphertext is empty, longer than k bytes or ≥ n
   *   (publicly invalid); `ERR_UNSUPPORTED` on platforms without raw RSA (WebCrypto)
   */
  rsaRawDecrypt(key: RsaKey, ciphertext: Uint8Array): Promise<Bytes>;
  /**
   * `SHA-256(I2OSP(d, k))`: the key of the implicit-rejection key-derivation key (KDK) of
   * draft-kario-rsa-guidance, so that PKCS#1 v1.5 decryption can reject without an oracle.
   * A one-way function of d; d itself never reaches the caller.
   * @throws EnsealError `ERR_UNSUPPORTED` on platforms without raw RSA (WebCrypto)
   */
  rsaImplicitRejectionKey(key: RsaKey): Promise<Bytes>;
  /** HMAC (RFC 2104) of `data` under `key`. */
  hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Promise<Bytes>;
  /** A plain digest of `data`. */
  digest(hash: HashName, data: Uint8Array): Promise<Bytes>;
  /** `n` bytes from the platform CSPRNG. */
  randomBytes(n: number): Bytes;
}

/** Output length in bytes of each {@link HashName}. */
export const hashLength: Readonly<Record<HashName, number>> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

// ---------------------------------------------------------------------------------------------
// Argument checks and fixed errors shared by the implementations (part of the contract).

/**
 * Checks the input of a raw block operation: whole 16-byte blocks only.
 * @param blocks - the input of {@link AesBlockKey.encrypt} or {@link AesBlockKey.decrypt}
 * @throws TypeError for a non-byte input; RangeError for a length that is not a multiple of 16
 * @example
 * ```ts
 * checkBlocks(new Uint8Array(32)); // ok; new Uint8Array(8) throws RangeError
 * ```
 */
export function checkBlocks(blocks: Uint8Array): void {
  assertChunk(blocks, '"blocks" expected Uint8Array');
  if (blocks.length % 16 !== 0) throw new RangeError(`"blocks" expected a multiple of 16 bytes, got ${blocks.length}`);
}

const oaepHashLength: Readonly<Record<RsaOaepHash, number>> = { 'SHA-1': 20, 'SHA-256': 32 };

/**
 * Checks an RSA-OAEP hash name.
 * @param hash - the value given as hash
 * @throws TypeError unless it is `'SHA-1'` or `'SHA-256'`
 * @example
 * ```ts
 * checkOaepHash('SHA-256'); // ok; 'SHA-512' throws TypeError
 * ```
 */
export function checkOaepHash(hash: RsaOaepHash): void {
  if (!Object.hasOwn(oaepHashLength, hash)) throw new TypeError(`"hash" expected SHA-1 or SHA-256, got ${String(hash)}`);
}

/**
 * Checks an RSA-OAEP encryption against its message limit (RFC 8017 §7.1.1 step 1.b):
 * mLen ≤ k − 2·hLen − 2.
 * @param modulusBits - the key's modulus length in bits
 * @param hash - the OAEP hash
 * @param plaintext - the message to encrypt
 * @throws TypeError for an unknown hash; RangeError for a longer message
 * @example
 * ```ts
 * checkOaepInput(2048, 'SHA-256', new Uint8Array(190)); // ok; 191 bytes throw RangeError
 * ```
 */
export function checkOaepInput(modulusBits: number, hash: RsaOaepHash, plaintext: Uint8Array): void {
  checkOaepHash(hash);
  const max = Math.ceil(modulusBits / 8) - 2 * oaepHashLength[hash] - 2;
  if (plaintext.length > max) {
    throw new RangeError(`"plaintext" expected at most ${max} bytes for RSA-OAEP with ${hash}, got ${plaintext.length}`);
  }
}

/**
 * The one error of every failed RSA-OAEP decryption: nothing says why it failed.
 * @returns a fresh `EnsealError` `ERR_AUTH` with a fixed message
 */
export const rsaOaepFailure = (): EnsealError => new EnsealError('ERR_AUTH', 'RSA-OAEP decryption failed');

/**
 * The one error of a raw RSA decryption of a publicly invalid ciphertext (empty, too long, ≥ n).
 * @returns a fresh `EnsealError` `ERR_AUTH` with a fixed message
 */
export const rsaRawFailure = (): EnsealError => new EnsealError('ERR_AUTH', 'RSA decryption failed (ciphertext out of range)');

/**
 * True for a WebCrypto `CryptoKey` (when the runtime has the class).
 * @param v - any value
 * @returns whether `v` is a `CryptoKey`
 */
export function isCryptoKey(v: unknown): v is PlatformCryptoKey {
  const C = (globalThis as { CryptoKey?: abstract new (...args: never[]) => PlatformCryptoKey }).CryptoKey;
  return C !== undefined && v instanceof C;
}
