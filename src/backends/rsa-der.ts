/**
 * The few ASN.1 DER and PEM shapes of RSA keys that enseal handles itself (RFC 8017 Appendix A.1,
 * RFC 5280 §4.1.2.7 SubjectPublicKeyInfo, RFC 5208 PKCS#8, RFC 7468 PEM):
 *
 * ```
 * RSAPublicKey  (PKCS#1)  SEQUENCE { n INTEGER, e INTEGER }
 * RSAPrivateKey (PKCS#1)  SEQUENCE { version INTEGER, n, e, d, p, q, dP, dQ, qInv INTEGER, … }
 * SPKI                    SEQUENCE { SEQUENCE { OID 1.2.840.113549.1.1.1, NULL }, BIT STRING (0 unused bits, RSAPublicKey) }
 * PKCS#8                  SEQUENCE { version INTEGER 0, SEQUENCE { OID 1.2.840.113549.1.1.1, NULL }, OCTET STRING (RSAPrivateKey), … }
 * ```
 *
 * WebCrypto imports only SPKI, PKCS#8 and JWK, so PKCS#1 keys (`RSA PUBLIC KEY`, `RSA PRIVATE KEY`,
 * as the OSS SDKs publish them) are wrapped here; the public part of a private key is read here so
 * that it can be derived without exporting the private key. The parser reads only what it needs
 * and checks every length against the bytes left; anything else is a `TypeError` (bad key
 * material is a configuration error, not bad ciphertext).
 *
 * @module
 */
import { concat, fromBase64, type Bytes } from '../bytes.js';

/** DER of AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL } (RFC 8017 A.1). */
const RSA_ALGORITHM_ID: Bytes = Uint8Array.of(0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00);

const TAG_INTEGER = 0x02;
const TAG_BIT_STRING = 0x03;
const TAG_OCTET_STRING = 0x04;
const TAG_SEQUENCE = 0x30;

/** A PEM block: its label (`PUBLIC KEY`, `RSA PRIVATE KEY`, …) and DER contents. */
export interface PemBlock {
  readonly label: string;
  readonly der: Bytes;
}

function bad(what: string): TypeError {
  return new TypeError(`RSA key: ${what}`);
}

/**
 * Decodes the single PEM block of `text` (RFC 7468 §2; whitespace inside the base64 is ignored).
 * @returns the label and the DER bytes
 * @throws TypeError when there is not exactly one well-formed block, or it carries headers
 *   (legacy encrypted PEM)
 * @example
 * ```ts
 * const { label, der } = pemDecode(readFileSync('key.pem', 'utf8'));
 * ```
 */
export function pemDecode(text: string): PemBlock {
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g)];
  if (blocks.length !== 1) throw bad(`expected one PEM block, found ${blocks.length}`);
  const [, label, body, endLabel] = blocks[0] as unknown as [string, string, string, string];
  if (label !== endLabel) throw bad('PEM BEGIN and END labels differ');
  if (body.includes(':')) throw bad('PEM headers (legacy encrypted keys) are not supported');
  try {
    return { label, der: fromBase64(body.replace(/\s+/g, '')) };
  } catch {
    throw bad('PEM body is not valid base64');
  }
}

/** One DER element: its tag and where its contents are. */
interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

/** Reads the element at `pos` (definite lengths only, X.690 §8.1.3), bounded by `limit`. */
function readTlv(der: Uint8Array, pos: number, limit: number): Tlv {
  if (limit - pos < 2) throw bad('DER ends early');
  const tag = der[pos] as number;
  let len = der[pos + 1] as number;
  let start = pos + 2;
  if (len >= 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || limit - start < n) throw bad('DER length is malformed');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] as number);
    start += n;
  }
  if (len > limit - start) throw bad('DER element runs past its container');
  return { tag, start, end: start + len };
}

/** Reads the children of a constructed element of the expected tag. */
function children(der: Uint8Array, tlv: Tlv, tag: number, what: string): Tlv[] {
  if (tlv.tag !== tag) throw bad(`${what}: unexpected DER tag 0x${tlv.tag.toString(16)}`);
  const out: Tlv[] = [];
  for (let pos = tlv.start; pos < tlv.end; ) {
    const c = readTlv(der, pos, tlv.end);
    out.push(c);
    pos = c.end;
  }
  return out;
}

function top(der: Uint8Array, what: string): Tlv {
  const t = readTlv(der, 0, der.length);
  if (t.end !== der.length) throw bad(`${what}: trailing bytes after the DER structure`);
  return t;
}

/** The unsigned big-endian value of an INTEGER (leading zero octets removed). */
function unsignedInteger(der: Uint8Array, t: Tlv | undefined, what: string): Bytes {
  if (t === undefined || t.tag !== TAG_INTEGER || t.end === t.start) throw bad(`${what} is not an INTEGER`);
  if (((der[t.start] as number) & 0x80) !== 0) throw bad(`${what} is negative`);
  let s = t.start;
  while (s < t.end - 1 && der[s] === 0) s++;
  return der.slice(s, t.end);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** DER encoding of one element. */
function tlv(tag: number, content: Uint8Array): Bytes {
  const n = content.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return concat(Uint8Array.of(tag, ...len), content);
}

/** A DER INTEGER holding an unsigned big-endian value. */
function integer(unsigned: Uint8Array): Bytes {
  let s = 0;
  while (s < unsigned.length - 1 && unsigned[s] === 0) s++;
  const v = unsigned.subarray(s);
  return tlv(TAG_INTEGER, ((v[0] ?? 0) & 0x80) !== 0 || v.length === 0 ? concat(Uint8Array.of(0), v) : v);
}

/**
 * Wraps a PKCS#1 RSAPublicKey in a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7, RFC 8017 A.1.1).
 * @param pkcs1 - DER of an RSAPublicKey (the body of an `RSA PUBLIC KEY` PEM)
 * @returns DER of the SubjectPublicKeyInfo (a `PUBLIC KEY` PEM body)
 * @throws TypeError when `pkcs1` is not an RSAPublicKey
 * @example
 * ```ts
 * const spki = spkiFromPkcs1(pemDecode(rsaPublicKeyPem).der);
 * ```
 */
export function spkiFromPkcs1(pkcs1: Uint8Array): Bytes {
  const [n, e, ...rest] = children(pkcs1, top(pkcs1, 'RSAPublicKey'), TAG_SEQUENCE, 'RSAPublicKey');
  if (rest.length !== 0) throw bad('RSAPublicKey has extra fields');
  unsignedInteger(pkcs1, n, 'modulus');
  unsignedInteger(pkcs1, e, 'public exponent');
  return tlv(TAG_SEQUENCE, concat(RSA_ALGORITHM_ID, tlv(TAG_BIT_STRING, concat(Uint8Array.of(0), pkcs1))));
}

/**
 * Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo (RFC 5208 §5). The result holds the
 * private key: the caller wipes it.
 * @param pkcs1 - DER of an RSAPrivateKey (the body of an `RSA PRIVATE KEY` PEM)
 * @returns DER of the PrivateKeyInfo (a `PRIVATE KEY` PEM body)
 * @throws TypeError when `pkcs1` is not an RSAPrivateKey
 * @example
 * ```ts
 * const pkcs8 = pkcs8FromPkcs1(pemDecode(rsaPrivateKeyPem).der);
 * ```
 */
export function pkcs8FromPkcs1(pkcs1: Uint8Array): Bytes {
  rsaPrivateKeyFields(pkcs1);
  return tlv(TAG_SEQUENCE, concat(Uint8Array.of(TAG_INTEGER, 1, 0), RSA_ALGORITHM_ID, tlv(TAG_OCTET_STRING, pkcs1)));
}

/** The fields of a PKCS#1 RSAPrivateKey, checked to be RSA integers. */
function rsaPrivateKeyFields(pkcs1: Uint8Array): Tlv[] {
  const f = children(pkcs1, top(pkcs1, 'RSAPrivateKey'), TAG_SEQUENCE, 'RSAPrivateKey');
  if (f.length < 9) throw bad('RSAPrivateKey has too few fields');
  unsignedInteger(pkcs1, f[1], 'modulus');
  unsignedInteger(pkcs1, f[2], 'public exponent');
  return f;
}

/**
 * The PKCS#1 RSAPrivateKey inside a PKCS#8 PrivateKeyInfo.
 * @param pkcs8 - DER of a PrivateKeyInfo
 * @returns a view into `pkcs8` (not a copy)
 * @throws TypeError when `pkcs8` is not PKCS#8 or its algorithm is not rsaEncryption (an RSA-PSS
 *   key cannot decrypt)
 * @example
 * ```ts
 * const spki = spkiFromPrivatePkcs1(pkcs1FromPkcs8(pkcs8));
 * ```
 */
export function pkcs1FromPkcs8(pkcs8: Uint8Array): Uint8Array {
  const f = children(pkcs8, top(pkcs8, 'PrivateKeyInfo'), TAG_SEQUENCE, 'PrivateKeyInfo');
  const [version, alg, key] = f;
  unsignedInteger(pkcs8, version, 'PKCS#8 version');
  if (alg === undefined || !sameBytes(pkcs8.subarray(alg.start - 2, alg.end), RSA_ALGORITHM_ID)) {
    throw bad('PKCS#8 algorithm is not rsaEncryption');
  }
  if (key === undefined || key.tag !== TAG_OCTET_STRING) throw bad('PKCS#8 has no private key octets');
  return pkcs8.subarray(key.start, key.end);
}

/**
 * The SubjectPublicKeyInfo of the public part of a PKCS#1 RSAPrivateKey.
 * @param pkcs1 - DER of an RSAPrivateKey
 * @returns DER of the SubjectPublicKeyInfo of (n, e)
 * @throws TypeError when `pkcs1` is not an RSAPrivateKey
 * @example
 * ```ts
 * const spki = spkiFromPrivatePkcs1(pemDecode(rsaPrivateKeyPem).der);
 * ```
 */
export function spkiFromPrivatePkcs1(pkcs1: Uint8Array): Bytes {
  const f = rsaPrivateKeyFields(pkcs1);
  const n = unsignedInteger(pkcs1, f[1], 'modulus');
  const e = unsignedInteger(pkcs1, f[2], 'public exponent');
  return spkiFromPkcs1(tlv(TAG_SEQUENCE, concat(integer(n), integer(e))));
}

/**
 * The private exponent d of a PKCS#1 RSAPrivateKey as I2OSP(d, k) (RFC 8017 §4.1), k bytes.
 * The result is secret: the caller wipes it.
 * @param pkcs1 - DER of an RSAPrivateKey
 * @param k - the modulus length in bytes
 * @returns I2OSP(d, k)
 * @throws TypeError when `pkcs1` is not an RSAPrivateKey or d does not fit in k bytes
 * @example
 * ```ts
 * const d = privateExponent(pkcs1, 256);
 * try { use(d) } finally { d.fill(0) }
 * ```
 */
export function privateExponent(pkcs1: Uint8Array, k: number): Bytes {
  const f = rsaPrivateKeyFields(pkcs1);
  const d = unsignedInteger(pkcs1, f[3], 'private exponent');
  try {
    if (d.length > k) throw bad('private exponent is longer than the modulus');
    const out = new Uint8Array(k);
    out.set(d, k - d.length);
    return out;
  } finally {
    d.fill(0);
  }
}

/**
 * Checks that `spki` is an RSA SubjectPublicKeyInfo (rsaEncryption).
 * @param spki - DER of a SubjectPublicKeyInfo
 * @returns `spki`, unchanged
 * @throws TypeError when it is not an RSA SubjectPublicKeyInfo
 * @example
 * ```ts
 * const spki = checkSpki(pemDecode(publicKeyPem).der);
 * ```
 */
export function checkSpki(spki: Uint8Array): Uint8Array {
  const [alg, bits, ...rest] = children(spki, top(spki, 'SubjectPublicKeyInfo'), TAG_SEQUENCE, 'SubjectPublicKeyInfo');
  if (alg === undefined || !sameBytes(spki.subarray(alg.start - 2, alg.end), RSA_ALGORITHM_ID)) {
    throw bad('SubjectPublicKeyInfo algorithm is not rsaEncryption');
  }
  if (bits === undefined || bits.tag !== TAG_BIT_STRING || rest.length !== 0 || spki[bits.start] !== 0) {
    throw bad('SubjectPublicKeyInfo key is not a BIT STRING');
  }
  return spki;
}
