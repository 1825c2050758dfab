/**
 * PEM encoding (RFC 7468 §2: base64 in lines of 64 characters between BEGIN and END lines)
 * straight into bytes, so a private key never exists as a JavaScript string (which could not
 * be wiped) on its way to a file.
 *
 * @module
 */
import { utf8 } from '../bytes.js';

const ALPHABET = utf8('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const PAD = 0x3d; // '='
const NEWLINE = 0x0a;
const LINE = 64;

/**
 * Encodes DER bytes as a PEM document.
 * @param label - e.g. `PRIVATE KEY` (PKCS#8) or `PUBLIC KEY` (SPKI)
 * @param der - the DER bytes (not modified)
 * @returns the PEM text as UTF-8 bytes, ending with a newline; the caller wipes them
 * @example
 * ```ts
 * pemBytes('PUBLIC KEY', spkiDer); // "-----BEGIN PUBLIC KEY-----\nMIIB…\n-----END PUBLIC KEY-----\n"
 * ```
 */
export function pemBytes(label: string, der: Uint8Array): Uint8Array {
  const head = utf8(`-----BEGIN ${label}-----\n`);
  const tail = utf8(`-----END ${label}-----\n`);
  const chars = 4 * Math.ceil(der.length / 3);
  const out = new Uint8Array(head.length + chars + Math.ceil(chars / LINE) + tail.length);
  out.set(head);
  let o = head.length;
  let column = 0;
  const put = (c: number): void => {
    out[o++] = c;
    if (++column === LINE) {
      out[o++] = NEWLINE;
      column = 0;
    }
  };
  for (let i = 0; i < der.length; i += 3) {
    const n = der.length - i;
    const b0 = der[i] as number;
    const b1 = n > 1 ? (der[i + 1] as number) : 0;
    const b2 = n > 2 ? (der[i + 2] as number) : 0;
    put(ALPHABET[b0 >> 2] as number);
    put(ALPHABET[((b0 & 3) << 4) | (b1 >> 4)] as number);
    put(n > 1 ? (ALPHABET[((b1 & 15) << 2) | (b2 >> 6)] as number) : PAD);
    put(n > 2 ? (ALPHABET[b2 & 63] as number) : PAD);
  }
  if (column !== 0) out[o++] = NEWLINE;
  out.set(tail, o);
  return out;
}
