/**
 * The ciphertext blob of LocalKms, version 1 (docs/FORMAT.md, LocalKms).
 *
 * ```
 * off      size   field
 *   0      3      magic "elk" (65 6c 6b)
 *   3      1      blob version 0x01
 *   4      1      n = key id length (1..64)
 *   5      n      key id, ASCII ("lk-" + 32 lowercase hex)
 *   5+n    4      key version, u32 big-endian (≥ 1)
 *   9+n    12     nonce (random)
 *  21+n    m+16   AES-256-GCM(key version's material, nonce, plaintext, aad) || tag
 *
 * aad = "enseal/v1 local-kms" || 0x00 || blob[0 .. 9+n) || context encoding (./context.ts)
 * ```
 *
 * The associated data is the canonical encoding of (key id, key version, encryption context):
 * a blob decrypts only under the key version named in it and the exact context it was made
 * with; editing the key id or version in the blob fails authentication too.
 *
 * @module
 */
import { concat, utf8, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import type { EncryptionContext } from '../format/header.js';
import { encodeKmsContext } from './context.js';

/** Blob magic "elk" followed by the version byte. */
export const LOCAL_BLOB_MAGIC: Bytes = Uint8Array.of(0x65, 0x6c, 0x6b, 0x01);
/** Nonce length of the blob's AES-256-GCM. */
export const LOCAL_BLOB_NONCE_LENGTH = 12;
/** AES-GCM tag length. */
export const LOCAL_BLOB_TAG_LENGTH = 16;
const AAD_LABEL = utf8('enseal/v1 local-kms');
const KEY_ID_RE = /^[\x21-\x7e]{1,64}$/;

/** A parsed blob. */
export interface LocalBlob {
  /** The key id named in the blob. */
  readonly keyId: string;
  /** The key version named in the blob. */
  readonly version: number;
  /** Bytes 0 .. 9+n (magic through key version), bound into the associated data. */
  readonly prefix: Bytes;
  /** The 12-byte nonce. */
  readonly nonce: Uint8Array;
  /** Ciphertext || tag. */
  readonly sealed: Uint8Array;
}

/**
 * Bytes 0 .. 9+n of a blob for this key id and version.
 * @param keyId - printable ASCII, 1..64 characters
 * @param version - key version, 1..2^32−1
 * @returns magic, version byte, key id, key version
 * @throws RangeError for a key id or version outside the format
 * @example
 * ```ts
 * const prefix = encodeBlobPrefix('lk-00112233445566778899aabbccddeeff', 1);
 * ```
 */
export function encodeBlobPrefix(keyId: string, version: number): Bytes {
  if (!KEY_ID_RE.test(keyId)) throw new RangeError('"keyId" expected 1..64 printable ASCII characters');
  if (!Number.isInteger(version) || version < 1 || version > 0xffffffff) throw new RangeError(`"version" expected 1..2^32-1, got ${version}`);
  const id = utf8(keyId);
  return concat(LOCAL_BLOB_MAGIC, Uint8Array.of(id.length), id, Uint8Array.of(version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff));
}

/**
 * The associated data of a blob (see the module comment).
 * @param prefix - {@link encodeBlobPrefix} output
 * @param context - the encryption context
 * @returns label || 0x00 || prefix || context encoding
 * @example
 * ```ts
 * const aad = blobAad(encodeBlobPrefix(id, 1), { bucket: 'b' });
 * ```
 */
export function blobAad(prefix: Uint8Array, context: EncryptionContext): Bytes {
  return concat(AAD_LABEL, Uint8Array.of(0), prefix, encodeKmsContext(context));
}

/**
 * Parses a blob's framing (nothing is authenticated yet).
 * @param blob - the bytes
 * @returns its fields
 * @throws EnsealError `ERR_KMS_DENIED` for bytes that are not a version-1 LocalKms blob
 * @example
 * ```ts
 * const { keyId, version } = parseBlob(blob);
 * ```
 */
export function parseBlob(blob: Uint8Array): LocalBlob {
  const bad = (): EnsealError => new EnsealError('ERR_KMS_DENIED', 'local KMS: not a LocalKms ciphertext (or an unsupported version)');
  if (!(blob instanceof Uint8Array) || blob.length < 5) throw bad();
  for (let i = 0; i < LOCAL_BLOB_MAGIC.length; i++) if (blob[i] !== LOCAL_BLOB_MAGIC[i]) throw bad();
  const n = blob[4] as number;
  const end = 9 + n;
  if (n < 1 || n > 64 || blob.length < end + LOCAL_BLOB_NONCE_LENGTH + LOCAL_BLOB_TAG_LENGTH) throw bad();
  const keyId = String.fromCharCode(...blob.subarray(5, 5 + n));
  if (!KEY_ID_RE.test(keyId)) throw bad();
  const version = (((blob[5 + n] as number) << 24) | ((blob[6 + n] as number) << 16) | ((blob[7 + n] as number) << 8) | (blob[8 + n] as number)) >>> 0;
  if (version < 1) throw bad();
  return {
    keyId,
    version,
    prefix: blob.slice(0, end),
    nonce: blob.subarray(end, end + LOCAL_BLOB_NONCE_LENGTH),
    sealed: blob.subarray(end + LOCAL_BLOB_NONCE_LENGTH),
  };
}
