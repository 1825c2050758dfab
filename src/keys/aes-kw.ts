/**
 * AES key wrap (RFC 3394, NIST SP 800-38F "KW") and AES key wrap with padding (RFC 5649,
 * SP 800-38F "KWP"), built on a backend's raw AES block cipher ({@link AesBlockKey}).
 *
 * ```
 * KW   input  P = P_1 … P_n, 64-bit blocks, n ≥ 2            output  C_0 … C_n (8·(n+1) bytes)
 *      A = IV = A6A6A6A6A6A6A6A6; for j = 0..5, i = 1..n:
 *        B = AES(K, A || R_i); A = MSB64(B) ⊕ t (t = n·j + i); R_i = LSB64(B)
 * KWP  AIV = A65959A6 || MLI (32-bit length of P in bytes); P is zero-padded to 8·⌈MLI/8⌉ bytes
 *      one padded block:   C = AES(K, AIV || P)      (16 bytes)
 *      otherwise:          C = KW with IV = AIV      (8·(n+1) bytes)
 * ```
 *
 * Unwrapping checks the integrity value (and for KWP the length and the zero padding) in
 * constant time over all of them, and every failure is the same `ERR_AUTH`: an attacker learns
 * nothing about which check failed. Key wrap authenticates the key but cannot bind associated
 * data; enseal's header MAC (docs/FORMAT.md §2.4) authenticates the stanza instead.
 *
 * Choices where the specifications leave room:
 * - KW of a single 64-bit block (RFC 3394 §2 mentions it; SP 800-38F §6.2 requires n ≥ 2) is
 *   refused: wrap throws `RangeError`, a 16-byte KW ciphertext fails to unwrap. Use KWP for
 *   8-byte keys.
 * - KWP of an empty input is refused (`RangeError`, RFC 5649 §4.1 requires 1..2^32 octets).
 *
 * @module
 */
import { constantTimeEqual, type Bytes, copyBytes } from '../bytes.js';
import type { AesBlockKey, CryptoBackend } from '../backends/backend.js';
import { EnsealError } from '../errors.js';

/** The default initial value of RFC 3394 §2.2.3.1. */
const KW_IV: Bytes = Uint8Array.of(0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6);
/** The constant first half of the RFC 5649 §3 alternative initial value. */
const KWP_PREFIX: Bytes = Uint8Array.of(0xa6, 0x59, 0x59, 0xa6);

const unwrapFailure = (): EnsealError => new EnsealError('ERR_AUTH', 'key unwrap failed (wrong key or modified data)');

/** A ⊕= t, with t a 64-bit big-endian step counter (t < 2^53 always holds here). */
function xorCounter(a: Uint8Array, t: number): void {
  const hi = Math.floor(t / 0x1_0000_0000);
  const lo = t >>> 0;
  for (let b = 0; b < 4; b++) {
    a[3 - b]! ^= (hi >>> (8 * b)) & 0xff;
    a[7 - b]! ^= (lo >>> (8 * b)) & 0xff;
  }
}

/** RFC 3394 §2.2.1 (index-based wrapping process) with initial value `iv`, n ≥ 2. */
async function wrapBlocks(aes: AesBlockKey, iv: Uint8Array, p: Uint8Array): Promise<Bytes> {
  const n = p.length / 8;
  const out = new Uint8Array(p.length + 8); // C_0 = A, then R_1 … R_n in place
  out.set(iv, 0);
  out.set(p, 8);
  const block = new Uint8Array(16);
  try {
    for (let j = 0; j <= 5; j++) {
      for (let i = 1; i <= n; i++) {
        block.set(out.subarray(0, 8), 0); // A
        block.set(out.subarray(8 * i, 8 * i + 8), 8); // R_i
        const b = await aes.encrypt(block);
        out.set(b.subarray(0, 8), 0);
        xorCounter(out, n * j + i);
        out.set(b.subarray(8, 16), 8 * i);
        b.fill(0);
      }
    }
  } catch (e) {
    out.fill(0);
    throw e;
  } finally {
    block.fill(0);
  }
  return out;
}

/**
 * RFC 3394 §2.2.2 (index-based unwrapping process), n ≥ 2. Returns A || R_1 … R_n; the caller
 * checks A and wipes the result on failure.
 */
async function unwrapBlocks(aes: AesBlockKey, c: Uint8Array): Promise<Bytes> {
  const n = c.length / 8 - 1;
  const out = c.slice();
  const block = new Uint8Array(16);
  try {
    for (let j = 5; j >= 0; j--) {
      for (let i = n; i >= 1; i--) {
        block.set(out.subarray(0, 8), 0);
        xorCounter(block, n * j + i); // (A ⊕ t) || R_i
        block.set(out.subarray(8 * i, 8 * i + 8), 8);
        const b = await aes.decrypt(block);
        out.set(b.subarray(0, 8), 0);
        out.set(b.subarray(8, 16), 8 * i);
        b.fill(0);
      }
    }
  } catch (e) {
    out.fill(0);
    throw e;
  } finally {
    block.fill(0);
  }
  return out;
}

async function withKek<T>(backend: CryptoBackend, kek: Uint8Array, f: (aes: AesBlockKey) => Promise<T>): Promise<T> {
  const aes = await backend.aesBlock(kek);
  try {
    return await f(aes);
  } finally {
    aes.dispose();
  }
}

/**
 * Wraps key data with RFC 3394 AES key wrap (default IV).
 *
 * @param backend - the crypto backend
 * @param kek - key-encryption key, 16, 24 or 32 bytes
 * @param keyData - the key to wrap: a multiple of 8 bytes, at least 16
 * @returns the wrapped key, 8 bytes longer than `keyData`
 * @throws RangeError for key data of another length, or a KEK that is not 16/24/32 bytes
 * @example
 * ```ts
 * const wrapped = await aesKwWrap(getBackend(), kek, dataKey); // 40 bytes for a 32-byte key
 * ```
 */
export async function aesKwWrap(backend: CryptoBackend, kek: Uint8Array, keyData: Uint8Array): Promise<Bytes> {
  if (keyData.length < 16 || keyData.length % 8 !== 0) {
    throw new RangeError(`"keyData" expected a multiple of 8 bytes, at least 16, got ${keyData.length}`);
  }
  return withKek(backend, kek, (aes) => wrapBlocks(aes, KW_IV, keyData));
}

/**
 * Unwraps an RFC 3394 wrapped key and checks its integrity value in constant time.
 *
 * @param backend - the crypto backend
 * @param kek - key-encryption key, 16, 24 or 32 bytes
 * @param wrapped - the wrapped key
 * @returns the key data, 8 bytes shorter than `wrapped`
 * @throws EnsealError `ERR_AUTH` for a wrong KEK, modified data, or a length that is not a
 *   multiple of 8 of at least 24 bytes
 * @throws RangeError for a KEK that is not 16/24/32 bytes
 * @example
 * ```ts
 * const dataKey = await aesKwUnwrap(getBackend(), kek, wrapped);
 * ```
 */
export async function aesKwUnwrap(backend: CryptoBackend, kek: Uint8Array, wrapped: Uint8Array): Promise<Bytes> {
  if (wrapped.length < 24 || wrapped.length % 8 !== 0) throw unwrapFailure();
  return withKek(backend, kek, async (aes) => {
    const out = await unwrapBlocks(aes, wrapped);
    if (!constantTimeEqual(out.subarray(0, 8), KW_IV)) {
      // RFC 3394 §2.2.3: the output is released only when A equals the initial value.
      out.fill(0);
      throw unwrapFailure();
    }
    const key = out.slice(8);
    out.fill(0);
    return key;
  });
}

/**
 * Wraps key data of any length (1 to 2^32 − 1 bytes) with RFC 5649 AES key wrap with padding.
 *
 * @param backend - the crypto backend
 * @param kek - key-encryption key, 16, 24 or 32 bytes
 * @param keyData - the key to wrap, at least 1 byte
 * @returns the wrapped key: 8·⌈len/8⌉ + 8 bytes
 * @throws RangeError for empty or over-long key data, or a KEK that is not 16/24/32 bytes
 * @example
 * ```ts
 * const wrapped = await aesKwpWrap(getBackend(), kek, dataKey); // 40 bytes for a 32-byte key
 * ```
 */
export async function aesKwpWrap(backend: CryptoBackend, kek: Uint8Array, keyData: Uint8Array): Promise<Bytes> {
  const mli = keyData.length;
  if (mli < 1 || mli > 0xffff_ffff) throw new RangeError(`"keyData" expected 1..4294967295 bytes, got ${mli}`);
  const aiv = new Uint8Array(8); // RFC 5649 §3: A65959A6 || MLI (32-bit big-endian)
  aiv.set(KWP_PREFIX, 0);
  new DataView(aiv.buffer).setUint32(4, mli);
  const padded = new Uint8Array(Math.ceil(mli / 8) * 8); // §4.1 step 1: zero padding
  padded.set(keyData, 0);
  try {
    return await withKek(backend, kek, async (aes) => {
      if (padded.length === 8) {
        // §4.1 step 2: a single padded block is encrypted once, AES(K, AIV || P).
        const block = new Uint8Array(16);
        block.set(aiv, 0);
        block.set(padded, 8);
        try {
          return await aes.encrypt(block);
        } finally {
          block.fill(0);
        }
      }
      return wrapBlocks(aes, aiv, padded);
    });
  } finally {
    padded.fill(0);
  }
}

/**
 * Unwraps an RFC 5649 wrapped key. The alternative initial value, the length indicator and the
 * zero padding are all checked, in constant time, before anything is returned.
 *
 * @param backend - the crypto backend
 * @param kek - key-encryption key, 16, 24 or 32 bytes
 * @param wrapped - the wrapped key, a multiple of 8 bytes of at least 16
 * @returns the key data (its length is the MLI of the wrapped block)
 * @throws EnsealError `ERR_AUTH` for a wrong KEK, modified data, bad padding or bad length
 * @throws RangeError for a KEK that is not 16/24/32 bytes
 * @example
 * ```ts
 * const dataKey = await aesKwpUnwrap(getBackend(), kek, wrapped);
 * ```
 */
export async function aesKwpUnwrap(backend: CryptoBackend, kek: Uint8Array, wrapped: Uint8Array): Promise<Bytes> {
  // The longest valid input wraps 2^32 − 1 bytes (padded to 2^32); bounding it keeps the length
  // arithmetic below within 32 bits.
  if (wrapped.length < 16 || wrapped.length % 8 !== 0 || wrapped.length > 0x1_0000_0008) throw unwrapFailure();
  return withKek(backend, kek, async (aes) => {
    // §4.2 step 1: one AES decryption for a single block, else the KW unwrapping process.
    const out = wrapped.length === 16 ? await aes.decrypt(wrapped) : await unwrapBlocks(aes, wrapped);
    const n = out.length / 8 - 1; // 64-bit blocks of padded key data
    const mli = new DataView(out.buffer, out.byteOffset, 8).getUint32(4);
    // §3 checks, folded into one flag without early exits:
    //   1. MSB32(A) = A65959A6;  2. 8·(n−1) < MLI ≤ 8·n;  3. the 8·n − MLI padding bytes are zero.
    let diff = 0;
    for (let i = 0; i < 4; i++) diff |= (out[i] as number) ^ (KWP_PREFIX[i] as number);
    const padLength = 8 * n - mli; // in 0..7 when the length is valid
    diff |= padLength & ~7; // non-zero when negative or ≥ 8 (both fit in 32 bits here)
    const pad = padLength & 7;
    for (let j = 0; j < 8; j++) {
      const inPadding = -(((7 - j - pad) >>> 31) & 1) & 0xff; // 0xff when j ≥ 8 − pad
      diff |= (out[8 * n + j] as number) & inPadding;
    }
    if (diff !== 0) {
      out.fill(0);
      throw unwrapFailure();
    }
    const key = copyBytes(out.subarray(8, 8 + mli));
    out.fill(0);
    return key;
  });
}
