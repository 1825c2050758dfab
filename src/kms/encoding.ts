/**
 * The RFC 3986 percent-encoding both AWS SigV4 and Alibaba Cloud's RPC signature use (unreserved characters `A-Z a-z 0-9 - _ . ~` stay as they
 * are, every other UTF-8 byte becomes `%XY` with uppercase hex; a space is `%20`, never `+`).
 *
 * Hex and base64 (both directions) are in `src/bytes.ts`.
 *
 * @module
 */
import { toHex, utf8 } from '../bytes.js';

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
    else out += '%' + toHex(Uint8Array.of(x)).toUpperCase();
  }
  return out;
}
