/**
 * S3EC content crypto (docs/INTEROP.md S3EC.3; S3EC specification `encryption.md`,
 * `key-derivation.md`; Java client `CipherProvider`, `AesCtrUtils`; research notes §2.3, §2.5).
 *
 * ```
 * V2   AES/GCM/NoPadding   ciphertext = AES-256-GCM(data key, IV (12, random), plaintext, AAD = "") || tag (16)
 * V3   suite 115 (0x0073)  prk        = HKDF-Extract-SHA-512(salt = message id (28), IKM = data key (32))
 *                          key        = HKDF-Expand(prk, info = 00 73 || "DERIVEKEY", 32)
 *                          commitment = HKDF-Expand(prk, info = 00 73 || "COMMITKEY", 28)   = x-amz-d
 *                          ciphertext = AES-256-GCM(key, IV = 12 × 0x01, plaintext, AAD = 00 73) || tag (16)
 * V1   AES/CBC/PKCS5Padding  AES-256-CBC(data key, IV (16)) with PKCS#5 padding (read only)
 * ranged GCM read (unauthenticated: the tag is not checked)
 *      bytes [a, …] with a = s − s mod 16 are AES-256-CTR with counter block IV || uint32_be(2 + a/16)
 *      (J0 = IV || 00000001 is the tag's block; the first ciphertext block uses J0 + 1)
 * ```
 *
 * The V3 IV: the Java 4.x client uses 12 bytes of 0x01 (its cipher refuses an all-zero IV); an
 * older revision of `key-derivation.md` says "an IV containing only zeros". enseal follows the
 * Java client, which is what writes these objects.
 *
 * The commitment is compared in constant time before any content is decrypted, on whole and on
 * ranged reads. Whole GCM reads verify the tag before any plaintext exists outside the backend
 * (`AesGcmKey.open`); derived keys are wiped after use.
 *
 * @module
 */
import { concat, constantTimeEqual, utf8, wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { hkdfExpand, hkdfExtract } from '../backends/hkdf.js';
import { EnsealError } from '../errors.js';
import { S3EC_V3_ID_LENGTH } from './s3ec-metadata.js';

/** Suite id 0x0073 as bytes: the V3 content AAD and the HKDF info prefix. */
export const S3EC_SUITE_ID: Bytes = Uint8Array.of(0x00, 0x73);
/** The fixed V3 content IV (12 × 0x01). */
export const S3EC_V3_IV: Bytes = new Uint8Array(12).fill(1);
/** GCM tag length, bytes. */
export const S3EC_TAG_LENGTH = 16;
/** GCM's plaintext limit (2^39 − 256 bits), bytes. */
export const S3EC_GCM_MAX_PLAINTEXT = (2 ** 39 - 256) / 8;

const DERIVE_INFO = concat(S3EC_SUITE_ID, utf8('DERIVEKEY'));
const COMMIT_INFO = concat(S3EC_SUITE_ID, utf8('COMMITKEY'));

/**
 * Derives the V3 content key and commitment.
 * @param backend - the backend whose HMAC-SHA-512 runs HKDF
 * @param dataKey - the 32-byte data key
 * @param messageId - the 28-byte message id
 * @returns `{ key, commitment }` (the caller wipes `key`)
 * @throws RangeError for inputs of the wrong length
 * @example
 * ```ts
 * const { key, commitment } = await deriveS3ecV3(backend, dataKey, messageId);
 * ```
 */
export async function deriveS3ecV3(backend: CryptoBackend, dataKey: Uint8Array, messageId: Uint8Array): Promise<{ key: Bytes; commitment: Bytes }> {
  if (dataKey.length !== 32) throw new RangeError(`"dataKey" expected 32 bytes, got ${dataKey.length}`);
  if (messageId.length !== S3EC_V3_ID_LENGTH) throw new RangeError(`"messageId" expected 28 bytes, got ${messageId.length}`);
  const prk = await hkdfExtract(backend, 'SHA-512', messageId, dataKey);
  try {
    const key = await hkdfExpand(backend, 'SHA-512', prk, DERIVE_INFO, 32);
    try {
      return { key, commitment: await hkdfExpand(backend, 'SHA-512', prk, COMMIT_INFO, S3EC_V3_ID_LENGTH) };
    } catch (e) {
      wipe(key);
      throw e;
    }
  } finally {
    wipe(prk);
  }
}

/**
 * The V3 content key after checking the stored commitment in constant time.
 * @param backend - the backend
 * @param dataKey - the unwrapped data key
 * @param messageId - `x-amz-i`
 * @param commitment - `x-amz-d`
 * @returns the derived content key (the caller wipes it)
 * @throws EnsealError `ERR_AUTH` when the commitment does not match (fixed message)
 * @example
 * ```ts
 * const key = await s3ecV3ContentKey(backend, dataKey, desc.messageId!, desc.commitment!);
 * ```
 */
export async function s3ecV3ContentKey(backend: CryptoBackend, dataKey: Uint8Array, messageId: Uint8Array, commitment: Uint8Array): Promise<Bytes> {
  const d = await deriveS3ecV3(backend, dataKey, messageId);
  if (!constantTimeEqual(d.commitment, commitment)) {
    wipe(d.key);
    throw new EnsealError('ERR_AUTH', 'the S3EC key commitment (x-amz-d) does not match the data key');
  }
  return d.key;
}

/**
 * AES-256-GCM over a whole object (V2: `iv`, no AAD; V3: the derived key, {@link S3EC_V3_IV}, AAD 00 73).
 * @param backend - the backend
 * @param key - the content key (not retained)
 * @param iv - 12 bytes
 * @param data - plaintext (seal) or ciphertext ‖ tag (open)
 * @param aad - V3's suite id, or undefined
 * @param mode - `'seal'` or `'open'`
 * @returns the output; for `'open'`, only after the tag verified
 * @throws EnsealError `ERR_AUTH` on a tag failure (no plaintext); `ERR_TRUNCATED` for a body shorter than the tag
 * @example
 * ```ts
 * const plain = await s3ecGcm(backend, key, S3EC_V3_IV, body, S3EC_SUITE_ID, 'open');
 * ```
 */
export async function s3ecGcm(backend: CryptoBackend, key: Uint8Array, iv: Uint8Array, data: Uint8Array, aad: Uint8Array | undefined, mode: 'seal' | 'open'): Promise<Bytes> {
  if (mode === 'open' && data.length < S3EC_TAG_LENGTH) throw new EnsealError('ERR_TRUNCATED', `the S3EC object is ${data.length} bytes, shorter than its 16-byte GCM tag`);
  const k = await backend.aesGcm(key);
  try {
    if (mode === 'seal') return await k.seal(iv, data, aad);
    try {
      return await k.open(iv, data, aad);
    } catch (e) {
      if (e instanceof EnsealError && e.code === 'ERR_AUTH') throw new EnsealError('ERR_AUTH', 'the S3EC object failed GCM authentication (wrong key, or a modified object or metadata)');
      throw e;
    }
  } finally {
    k.dispose();
  }
}

/**
 * The AES-CTR counter block of GCM ciphertext byte offset `aligned` (a multiple of 16).
 * @param iv - the 12-byte GCM IV
 * @param aligned - byte offset into the ciphertext
 * @returns `IV || uint32_be(2 + aligned/16)`
 * @throws RangeError for an unaligned offset or one past GCM's counter space
 * @example
 * ```ts
 * s3ecCtrCounter(iv, 32); // iv || 00000004
 * ```
 */
export function s3ecCtrCounter(iv: Uint8Array, aligned: number): Bytes {
  if (iv.length !== 12) throw new RangeError('"iv" expected 12 bytes');
  if (aligned % 16 !== 0 || aligned < 0) throw new RangeError('"aligned" expected a non-negative multiple of 16');
  const block = 2 + aligned / 16;
  if (block > 0xffffffff) throw new RangeError('offset past the GCM counter space');
  const out = new Uint8Array(16);
  out.set(iv);
  new DataView(out.buffer).setUint32(12, block);
  return out;
}

/**
 * AES-256-CBC decryption with PKCS#5 unpadding (V1 content), on the backend's raw block cipher.
 * Unauthenticated: a bad padding, or a plaintext length other than the recorded one, is `ERR_AUTH`
 * with one fixed message.
 * @param backend - the backend
 * @param key - the 32-byte data key
 * @param iv - 16 bytes
 * @param ciphertext - a non-empty multiple of 16 bytes
 * @param expectedLength - the plaintext length the object records, if any: another length is
 *   the same `ERR_AUTH` as a bad padding
 * @returns the plaintext
 * @throws EnsealError `ERR_AUTH` for a length that is not a positive multiple of 16 or a bad padding
 * @example
 * ```ts
 * const plain = await s3ecCbcDecrypt(backend, dataKey, desc.iv!, body);
 * ```
 */
export async function s3ecCbcDecrypt(backend: CryptoBackend, key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, expectedLength?: number): Promise<Bytes> {
  const fail = (): EnsealError => new EnsealError('ERR_AUTH', 'the S3EC CBC content did not decrypt (wrong key, or a modified object)');
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) throw fail();
  const aes = await backend.aesBlock(key);
  let out: Bytes;
  try {
    out = await aes.decrypt(ciphertext);
  } finally {
    aes.dispose();
  }
  for (let i = 0; i < out.length; i++) out[i]! ^= i < 16 ? iv[i]! : ciphertext[i - 16]!;
  const pad = out[out.length - 1]!;
  let ok = pad >= 1 && pad <= 16 ? 1 : 0;
  for (let i = 1; i <= 16; i++) if (i <= pad && out[out.length - i] !== pad) ok = 0;
  // A recorded plaintext length is checked in the same flag: a padding that is valid but gives
  // another length must fail exactly like an invalid one (one error, one message: no second oracle).
  if (expectedLength !== undefined && out.length - pad !== expectedLength) ok = 0;
  if (ok === 0) {
    wipe(out);
    throw fail();
  }
  const plain = out.slice(0, out.length - pad);
  wipe(out);
  return plain;
}
