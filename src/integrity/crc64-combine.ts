/**
 * CRC-64/XZ of a concatenation from the CRCs of its parts: what OSS returns after a multipart
 * upload is the CRC of the whole object, and each part's upload returns that part's CRC.
 *
 * With init = xorout = all ones, crc(A ‖ B) = S_|B|(crc(A)) ⊕ crc(B), where S_n advances a
 * register over n zero bytes: multiplication by x^(8n) modulo the polynomial in the reflected
 * domain, computed by square-and-multiply (O(log n) carry-less products on BigInts).
 *
 * @module
 */

const MASK = 0xffffffffffffffffn;
/** The reflected polynomial (bit-reversed 0x42F0E1EBA9EA3693). */
const POLY = 0xc96c5795d7870f42n;
/** 1 in the reflected domain (x^0 is the top bit). */
const ONE = 1n << 63n;

/** a·b mod P in the reflected domain (bit 63 is x^0). */
function mulmod(a: bigint, b: bigint): bigint {
  let r = 0n;
  for (let i = 0; i < 64 && a !== 0n; i++) {
    if ((a & ONE) !== 0n) r ^= b;
    a = (a << 1n) & MASK;
    b = (b & 1n) !== 0n ? (b >> 1n) ^ POLY : b >> 1n; // b · x
  }
  return r;
}

/** x^(8n) mod P. */
function xPow8n(n: number): bigint {
  let result = ONE;
  let square = ONE >> 8n; // x^8
  for (let k = BigInt(n); k > 0n; k >>= 1n) {
    if ((k & 1n) !== 0n) result = mulmod(result, square);
    square = mulmod(square, square);
  }
  return result;
}

/**
 * The CRC-64/XZ of `A ‖ B` from `crc(A)`, `crc(B)` and the length of B.
 * @param crcA - CRC-64/XZ of the first part
 * @param crcB - CRC-64/XZ of the second part
 * @param lengthB - bytes in the second part
 * @returns CRC-64/XZ of the concatenation
 * @throws RangeError for a length that is not a non-negative safe integer
 * @example
 * ```ts
 * crc64Combine(crc64Of(a), crc64Of(b), b.length) === crc64Of(concat(a, b)); // true
 * ```
 */
export function crc64Combine(crcA: bigint, crcB: bigint, lengthB: number): bigint {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) throw new RangeError(`"lengthB" expected a non-negative integer, got ${lengthB}`);
  if (lengthB === 0) return crcA;
  return mulmod(crcA & MASK, xPow8n(lengthB)) ^ (crcB & MASK);
}
