/**
 * HKDF (RFC 5869) built on a backend's HMAC, so every backend shares one implementation.
 * C2SP chunked-encryption uses HKDF-Expand alone (its input key is already uniformly random),
 * which WebCrypto's HKDF cannot do; hence HMAC-based.
 *
 * @module
 */
import { concat, type Bytes } from '../bytes.js';
import { hashLength, type CryptoBackend, type HashName } from './backend.js';

/**
 * HKDF-Extract (RFC 5869 §2.2): `PRK = HMAC-Hash(salt, IKM)`; an empty salt means HashLen zeros.
 * @returns the pseudorandom key, HashLen bytes
 */
export async function hkdfExtract(b: CryptoBackend, hash: HashName, salt: Uint8Array, ikm: Uint8Array): Promise<Bytes> {
  return b.hmac(hash, salt.length === 0 ? new Uint8Array(hashLength[hash]) : salt, ikm);
}

/**
 * HKDF-Expand (RFC 5869 §2.3): `T(i) = HMAC-Hash(PRK, T(i-1) || info || i)`, output the first
 * `length` bytes of `T(1) || T(2) || …`.
 * @throws RangeError when `length` exceeds 255 × HashLen (RFC 5869 §2.3)
 */
export async function hkdfExpand(b: CryptoBackend, hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Promise<Bytes> {
  const hl = hashLength[hash];
  if (!Number.isSafeInteger(length) || length < 0 || length > 255 * hl) {
    throw new RangeError(`"length" expected 0..${255 * hl} bytes, got ${length}`);
  }
  const out = new Uint8Array(length);
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1, off = 0; off < length; i++) {
    t = await b.hmac(hash, prk, concat(t, info, Uint8Array.of(i)));
    out.set(t.subarray(0, Math.min(hl, length - off)), off);
    off += hl;
  }
  t.fill(0);
  return out;
}

/** HKDF (RFC 5869 §2): Extract then Expand. */
export async function hkdf(b: CryptoBackend, hash: HashName, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Bytes> {
  const prk = await hkdfExtract(b, hash, salt, ikm);
  try {
    return await hkdfExpand(b, hash, prk, info, length);
  } finally {
    prk.fill(0);
  }
}
