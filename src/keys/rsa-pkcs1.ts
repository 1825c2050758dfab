/**
 * RSAES-PKCS1-v1_5 decryption (RFC 8017 §7.2.2) with **implicit rejection**, as specified by
 * draft-kario-rsa-guidance ("Implementation Guidance for the PKCS #1 RSA Cryptography
 * Specification", §"Implicit rejection"), for reading legacy `rsa-pkcs1` stanzas (objects whose
 * keys were wrapped by the OSS SDKs' `RSA/NONE/PKCS1Padding`). enseal never writes PKCS#1 v1.5,
 * and `rsaKey` reads such stanzas only when the caller opts in with `legacy: true`.
 *
 * A decryption never reports bad padding. Instead of an error it returns a synthetic message
 * that is a deterministic function of the private key and the ciphertext, so a padding oracle
 * (Bleichenbacher, Marvin) learns nothing from errors, and nothing from the output either unless
 * it already knows the plaintext:
 *
 * ```
 * EM  = I2OSP(c^d mod n, k)                                     (raw RSA, backend.rsaRawDecrypt)
 * KDK = HMAC-SHA256(key = SHA-256(I2OSP(d, k)), msg = C left-padded to k bytes)
 * PRF(KDK, label, bits) = first bits/8 bytes of
 *       HMAC-SHA256(KDK, I2OSP(0, 2) || label || I2OSP(bits, 2)) || HMAC-SHA256(KDK, I2OSP(1, 2) || …) || …
 * synthetic message  = PRF(KDK, "message", 8·k)   (k bytes; the message is its last L bytes)
 * candidate lengths  = PRF(KDK, "length", 128·16) as 128 big-endian 16-bit integers, each ANDed
 *                      with the mask of the bit width of k − 10; L = the LAST candidate < k − 10
 *                      (0 if none), selected in constant time
 * EM is valid iff EM = 00 || 02 || PS || 00 || M with PS at least 8 non-zero bytes;
 * output = valid ? M : the last L bytes of the synthetic message, selected byte by byte.
 * ```
 *
 * Fixed-length mode (`expectedLength`, an enseal addition in the spirit of RFC 5246 §7.4.7.1):
 * a key provider needs exactly 32 bytes, and rejecting other lengths would bring back a (weaker)
 * oracle. With `expectedLength` set, a message of another length counts as bad padding and the
 * synthetic message has exactly that length, so the caller always gets `expectedLength` bytes.
 *
 * The candidate rule: the draft's reference implementations (tlslite-ng `RSAKey.decrypt`, by the
 * draft's author, and OpenSSL `ossl_rsa_padding_check_PKCS1_type_2`) keep the last candidate
 * below k − 10, and the draft's test vectors ("length specified by second to last value from
 * PRF") depend on it; that is what is implemented here.
 *
 * Constant time, as far as JavaScript allows: the synthetic message and length are computed for
 * every ciphertext before EM is looked at, EM is scanned whole, and selections use masks rather
 * than branches. The length of the output is not secret (a synthetic length is as likely as a
 * real one). Publicly invalid ciphertexts (empty, longer than k, or ≥ n) are rejected with
 * `ERR_AUTH` by the raw RSA step, as the draft allows.
 *
 * @module
 */
import { concat, utf8, wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend, RsaKey } from '../backends/backend.js';

const LABEL_MESSAGE = utf8('message');
const LABEL_LENGTH = utf8('length');
/** Number of 16-bit length candidates (a failure to find one has probability < 2^-128). */
const LENGTH_CANDIDATES = 128;

/** 0xffffffff when a < b, else 0; for 0 ≤ a, b < 2^31. */
const ltMask = (a: number, b: number): number => -((a - b) >>> 31) | 0;
/** 0xffffffff when the byte x is 0, else 0. */
const zeroMask = (x: number): number => -((x - 1) >>> 31) | 0;
/** a where mask is all ones, b where it is zero. */
const select = (mask: number, a: number, b: number): number => (a & mask) | (b & ~mask);

/**
 * The implicit-rejection pseudo-random function of draft-kario-rsa-guidance:
 * `HMAC-SHA256(KDK, I2OSP(i, 2) || label || I2OSP(bits, 2))` for i = 0, 1, …, truncated.
 *
 * @param backend - the crypto backend (HMAC-SHA-256)
 * @param kdk - the 32-byte key-derivation key
 * @param label - `"message"` or `"length"` (ASCII)
 * @param bits - output length in bits, a multiple of 8, below 2^16
 * @returns bits / 8 bytes
 * @throws RangeError for a length that is not a multiple of 8 or does not fit 16 bits
 * @example
 * ```ts
 * const lengths = await implicitRejectionPrf(getBackend('node'), kdk, utf8('length'), 2048);
 * ```
 */
export async function implicitRejectionPrf(backend: CryptoBackend, kdk: Uint8Array, label: Uint8Array, bits: number): Promise<Bytes> {
  if (!Number.isInteger(bits) || bits < 0 || bits % 8 !== 0 || bits > 0xffff) throw new RangeError(`"bits" expected a multiple of 8 below 65536, got ${bits}`);
  const out = new Uint8Array(bits / 8);
  const suffix = Uint8Array.of(bits >>> 8, bits & 0xff);
  const blocks = await Promise.all(
    Array.from({ length: Math.ceil(out.length / 32) }, (_, i) => backend.hmac('SHA-256', kdk, concat(Uint8Array.of(i >>> 8, i & 0xff), label, suffix))),
  );
  blocks.forEach((h, i) => {
    out.set(h.subarray(0, Math.min(32, out.length - 32 * i)), 32 * i);
    h.fill(0);
  });
  return out;
}

/**
 * The key-derivation key of one decryption: `HMAC-SHA256(key, C left-padded to k bytes)`.
 *
 * @param backend - the crypto backend
 * @param keyHash - `SHA-256(I2OSP(d, k))` ({@link CryptoBackend.rsaImplicitRejectionKey})
 * @param ciphertext - the RSA ciphertext, at most k bytes
 * @param k - the modulus length in bytes
 * @returns the 32-byte KDK (secret: the caller wipes it)
 * @throws RangeError when the ciphertext is longer than k bytes
 * @example
 * ```ts
 * const kdk = await implicitRejectionKdk(backend, await backend.rsaImplicitRejectionKey(key), c, 256);
 * ```
 */
export async function implicitRejectionKdk(backend: CryptoBackend, keyHash: Uint8Array, ciphertext: Uint8Array, k: number): Promise<Bytes> {
  if (ciphertext.length > k) throw new RangeError(`"ciphertext" expected at most ${k} bytes, got ${ciphertext.length}`);
  const padded = new Uint8Array(k);
  padded.set(ciphertext, k - ciphertext.length);
  return backend.hmac('SHA-256', keyHash, padded);
}

/**
 * Removes EME-PKCS1-v1_5 padding (RFC 8017 §7.2.2 step 3) with implicit rejection: returns M for
 * a well-formed `EM = 00 || 02 || PS (≥ 8 non-zero bytes) || 00 || M`, else the deterministic
 * synthetic message of draft-kario-rsa-guidance. Never throws on the contents of EM.
 *
 * @param backend - the crypto backend (HMAC-SHA-256 for the PRF)
 * @param em - the encoded message, I2OSP(m, k): k bytes, k ≥ 11
 * @param kdk - the key-derivation key of this ciphertext ({@link implicitRejectionKdk})
 * @param expectedLength - optional: treat any other message length as bad padding, and make the
 *   synthetic message this long (0..k − 11)
 * @returns M, or the synthetic message (the two cannot be told apart without the plaintext)
 * @throws RangeError for an EM shorter than 11 bytes, a KDK that is not 32 bytes, or an
 *   `expectedLength` outside 0..k − 11
 * @example
 * ```ts
 * const m = await pkcs1v15UnpadImplicit(backend, em, kdk);
 * ```
 */
export async function pkcs1v15UnpadImplicit(backend: CryptoBackend, em: Uint8Array, kdk: Uint8Array, expectedLength?: number): Promise<Bytes> {
  const k = em.length;
  if (k < 11 || 8 * k > 0xffff) throw new RangeError(`"em" expected 11..8191 bytes, got ${k}`);
  if (kdk.length !== 32) throw new RangeError(`"kdk" expected 32 bytes, got ${kdk.length}`);
  if (expectedLength !== undefined && (!Number.isInteger(expectedLength) || expectedLength < 0 || expectedLength > k - 11)) {
    throw new RangeError(`"expectedLength" expected 0..${k - 11}, got ${expectedLength}`);
  }
  // 1. The synthetic message and its length, computed for every input.
  const synthetic = await implicitRejectionPrf(backend, kdk, LABEL_MESSAGE, 8 * k);
  const candidates = await implicitRejectionPrf(backend, kdk, LABEL_LENGTH, LENGTH_CANDIDATES * 16);
  const maxSepOffset = k - 10; // 00 02, 8 bytes of PS: the message is at most k − 11 bytes
  let lengthMask = maxSepOffset;
  lengthMask |= lengthMask >>> 1;
  lengthMask |= lengthMask >>> 2;
  lengthMask |= lengthMask >>> 4;
  lengthMask |= lengthMask >>> 8;
  let syntheticLength = 0;
  for (let i = 0; i < 2 * LENGTH_CANDIDATES; i += 2) {
    const candidate = (((candidates[i] as number) << 8) | (candidates[i + 1] as number)) & lengthMask;
    syntheticLength = select(ltMask(candidate, maxSepOffset), candidate, syntheticLength); // the last one below wins
  }
  candidates.fill(0);
  if (expectedLength !== undefined) syntheticLength = expectedLength;
  const syntheticStart = k - syntheticLength;

  // 2. The padding check over the whole of EM, without branches on its bytes.
  let good = zeroMask(em[0] as number) & zeroMask((em[1] as number) ^ 0x02);
  let found = 0;
  let zeroIndex = 0;
  for (let i = 2; i < k; i++) {
    const isZero = zeroMask(em[i] as number);
    zeroIndex = select(~found & isZero, i, zeroIndex);
    found |= isZero;
  }
  good &= ~ltMask(zeroIndex, 10); // PS of at least 8 bytes; zeroIndex = 0 when no separator
  if (expectedLength !== undefined) good &= zeroMask((k - zeroIndex - 1) ^ expectedLength);

  // 3. Select the message start, then each byte, in constant time.
  const start = select(good, zeroIndex + 1, syntheticStart);
  const out = new Uint8Array(k - start);
  for (let i = start; i < k; i++) out[i - start] = select(good, em[i] as number, synthetic[i] as number);
  synthetic.fill(0);
  return out;
}

/**
 * RSAES-PKCS1-v1_5 decryption with implicit rejection: raw RSA, then
 * {@link pkcs1v15UnpadImplicit} under this ciphertext's KDK.
 *
 * @param backend - a backend with raw RSA (node)
 * @param key - the private key
 * @param ciphertext - 1..k bytes (shorter inputs are read as the integer they encode)
 * @param expectedLength - optional fixed message length (see {@link pkcs1v15UnpadImplicit})
 * @returns the message, or the synthetic message when the padding is wrong
 * @throws EnsealError `ERR_AUTH` for a publicly invalid ciphertext (empty, longer than k, ≥ n);
 *   `ERR_UNSUPPORTED` on a backend without raw RSA (WebCrypto)
 * @example
 * ```ts
 * const key = await backend.importRsaKey(pem, 'private');
 * const contentKey = await rsaesPkcs1v15DecryptImplicit(backend, key, wrapped);
 * ```
 */
export async function rsaesPkcs1v15DecryptImplicit(
  backend: CryptoBackend,
  key: RsaKey,
  ciphertext: Uint8Array,
  expectedLength?: number,
): Promise<Bytes> {
  const em = await backend.rsaRawDecrypt(key, ciphertext);
  let keyHash: Bytes | undefined;
  let kdk: Bytes | undefined;
  try {
    keyHash = await backend.rsaImplicitRejectionKey(key);
    kdk = await implicitRejectionKdk(backend, keyHash, ciphertext, em.length);
    return await pkcs1v15UnpadImplicit(backend, em, kdk, expectedLength);
  } finally {
    wipe(em, keyHash, kdk);
  }
}
