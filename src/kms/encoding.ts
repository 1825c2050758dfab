/**
 * Text encodings the KMS clients need on the wire: base64 (RFC 4648 §4), base64url without
 * padding (RFC 4648 §5), lowercase hex, and the RFC 3986 percent-encoding both AWS SigV4 and
 * Alibaba Cloud's RPC signature use (unreserved characters `A-Z a-z 0-9 - _ . ~` stay as they
 * are, every other UTF-8 byte becomes `%XY` with uppercase hex; a space is `%20`, never `+`).
 *
 * Decoding base64 reuses `fromBase64` from `src/bytes.ts` (strict, padded, standard alphabet).
 *
 * @module
 */
import { utf8 } from '../bytes.js';

const HEX = '0123456789abcdef';

/**
 * Lowercase hex of `b` (SigV4 hashes and signatures are lowercase hex).
 * @param b - bytes
 * @returns 2 × `b.length` hex digits
 * @example
 * ```ts
 * toHex(Uint8Array.of(0xab, 1)); // "ab01"
 * ```
 */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += HEX[x >>> 4]! + HEX[x & 15]!;
  return s;
}

/**
 * Standard padded base64 (RFC 4648 §4), as AWS, Alibaba and Vault expect in JSON bodies.
 * @param b - bytes
 * @returns base64 text
 * @example
 * ```ts
 * toBase64(new TextEncoder().encode('hi')); // "aGk="
 * ```
 */
export function toBase64(b: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(bin);
}

/**
 * Unpadded base64url (RFC 4648 §5).
 * @param b - bytes
 * @returns base64url text without `=`
 * @example
 * ```ts
 * toBase64Url(Uint8Array.of(0xfb, 0xff)); // "-_8"
 * ```
 */
export function toBase64Url(b: Uint8Array): string {
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * RFC 3986 percent-encoding of the UTF-8 bytes of `s`: unreserved characters are kept, every
 * other byte becomes `%XY` (uppercase hex). This is `encodeURIComponent` plus `! ' ( ) *`.
 * @param s - text (must be well-formed; callers validate)
 * @returns the encoded text
 * @example
 * ```ts
 * percentEncode('a b*~'); // "a%20b%2A~"
 * ```
 */
export function percentEncode(s: string): string {
  let out = '';
  for (const x of utf8(s)) {
    const c = String.fromCharCode(x);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else out += '%' + HEX[x >>> 4]!.toUpperCase() + HEX[x & 15]!.toUpperCase();
  }
  return out;
}
