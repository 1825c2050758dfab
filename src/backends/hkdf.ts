/**
 * HKDF (RFC 5869) built on a backend's HMAC, so every backend shares one implementation.
 * C2SP chunked-encryption uses HKDF-Expand alone (its input key is already uniformly random),
 * which WebCrypto's HKDF cannot do; hence HMAC-based.
 *
 * @module
 */
import { concat, type Bytes } from '../bytes.js';
import { hashLength, type CryptoBackend, type HashName } from './backend.js';
import { keyedHmacOf, syncHmacOf, type KeyedHmac } from './sync.js';

/**
 * HKDF-Extract (RFC 5869 §2.2): `PRK = HMAC-Hash(salt, IKM)`; an empty salt means HashLen zeros.
 * @param b - the backend whose HMAC is used
 * @param hash - the HMAC hash
 * @param salt - the salt (may be empty)
 * @param ikm - the input keying material (not modified)
 * @returns the pseudorandom key, HashLen bytes (the caller wipes it)
 * @example
 * ```ts
 * const prk = await hkdfExtract(backend, 'SHA-256', salt, ikm);
 * ```
 */
export async function hkdfExtract(b: CryptoBackend, hash: HashName, salt: Uint8Array, ikm: Uint8Array): Promise<Bytes> {
  return b.hmac(hash, salt.length === 0 ? new Uint8Array(hashLength[hash]) : salt, ikm);
}

/**
 * HKDF-Expand (RFC 5869 §2.3): `T(i) = HMAC-Hash(PRK, T(i-1) || info || i)`, output the first
 * `length` bytes of `T(1) || T(2) || …`. Every intermediate buffer (each block T(i) and each
 * HMAC input, which holds T(i-1)) is wiped as soon as it is used, on success and on error; on
 * error the partial output is wiped too.
 * @param b - the backend whose HMAC is used
 * @param hash - the HMAC hash
 * @param prk - the pseudorandom key (not modified)
 * @param info - context and application specific information
 * @param length - output length in bytes
 * @returns the output keying material (the caller wipes it)
 * @throws RangeError when `length` exceeds 255 × HashLen (RFC 5869 §2.3)
 * @example
 * ```ts
 * const okm = await hkdfExpand(backend, 'SHA-512', dataKey, info, 76);
 * ```
 */
export async function hkdfExpand(b: CryptoBackend, hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Promise<Bytes> {
  const hl = hashLength[hash];
  if (!Number.isSafeInteger(length) || length < 0 || length > 255 * hl) {
    throw new RangeError(`"length" expected 0..${255 * hl} bytes, got ${length}`);
  }
  // A backend with a synchronous keyed HMAC (node:crypto, and SHA-2 in WASM) keys it once for
  // every block and never awaits; one with an asynchronous one (WebCrypto without WASM) imports
  // the key once instead of once per block.
  const sync = length > 0 ? syncHmacOf(b)?.(hash, prk) : undefined;
  if (sync !== undefined) {
    try {
      return hkdfExpandSync(sync, hl, info, length);
    } finally {
      sync.dispose();
    }
  }
  const out = new Uint8Array(length);
  const keyed = length > hl ? await keyedHmacOf(b)?.(hash, prk) : undefined;
  let t: Uint8Array = new Uint8Array(0);
  let input: Uint8Array | undefined;
  try {
    for (let i = 1, off = 0; off < length; i++) {
      input = concat(t, info, Uint8Array.of(i)); // T(i-1) || info || i
      t.fill(0);
      t = keyed !== undefined ? await keyed.mac(input) : await b.hmac(hash, prk, input);
      input.fill(0);
      out.set(t.subarray(0, Math.min(hl, length - off)), off);
      off += hl;
    }
    return out;
  } catch (e) {
    out.fill(0);
    throw e;
  } finally {
    input?.fill(0);
    t.fill(0);
    keyed?.dispose();
  }
}

/**
 * HKDF-Expand (RFC 5869 §2.3) with an HMAC already keyed with the PRK, synchronously: one
 * keying serves every block, and several expansions of one PRK (the header MAC key and the
 * payload keys of a message, FORMAT.md §2.4) share it. A keyed HMAC with `expand` (the SHA-2
 * module) runs the whole expansion in one step; otherwise the HMAC input `T(i-1) || info || i` is
 * one buffer reused for every block; it and every block are wiped, on success and on error (on
 * error the partial output too).
 * @param keyed - HMAC keyed with the PRK (not disposed here)
 * @param hl - HashLen of its hash, in bytes
 * @param info - context and application specific information
 * @param length - output length in bytes, at most 255 × HashLen (checked by the caller)
 * @returns the output keying material (the caller wipes it)
 * @example
 * ```ts
 * const okm = hkdfExpandSync(syncHmacOf(backend)!('SHA-512', prk), 64, info, 76);
 * ```
 */
export function hkdfExpandSync(keyed: KeyedHmac, hl: number, info: Uint8Array, length: number): Bytes {
  const whole = length > 0 ? keyed.expand?.(info, length) : undefined;
  if (whole !== undefined) return whole;
  const out = new Uint8Array(length);
  const input = new Uint8Array(hl + info.length + 1);
  input.set(info, hl);
  let t: Bytes | undefined;
  try {
    for (let i = 1, off = 0; off < length; i++, off += hl) {
      input[input.length - 1] = i;
      // T(1) = HMAC(PRK, info || 0x01): T(0) is empty.
      const next = keyed.mac(i === 1 ? input.subarray(hl) : input);
      t?.fill(0);
      t = next;
      const n = Math.min(hl, length - off);
      out.set(n === hl ? t : t.subarray(0, n), off);
      if (off + hl < length) input.set(t, 0);
    }
    return out;
  } catch (e) {
    out.fill(0);
    throw e;
  } finally {
    input.fill(0);
    t?.fill(0);
  }
}

/**
 * HKDF (RFC 5869 §2): Extract then Expand. The PRK is wiped on success and on error.
 * @param b - the backend whose HMAC is used
 * @param hash - the HMAC hash
 * @param ikm - the input keying material
 * @param salt - the salt (may be empty)
 * @param info - context and application specific information
 * @param length - output length in bytes
 * @returns the output keying material (the caller wipes it)
 * @throws RangeError when `length` exceeds 255 × HashLen
 * @example
 * ```ts
 * const okm = await hkdf(backend, 'SHA-256', ikm, salt, utf8('info'), 42);
 * ```
 */
export async function hkdf(b: CryptoBackend, hash: HashName, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Bytes> {
  const prk = await hkdfExtract(b, hash, salt, ikm);
  try {
    return await hkdfExpand(b, hash, prk, info, length);
  } finally {
    prk.fill(0);
  }
}
