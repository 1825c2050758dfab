/**
 * HMAC-SHA1 (RFC 2104), needed only by Alibaba Cloud's classic RPC request signature
 * (SignatureMethod HMAC-SHA1). The crypto backends offer SHA-2 only, so this uses WebCrypto
 * (`crypto.subtle`), which Node ≥ 20, Deno, Bun and browsers (secure contexts) provide.
 * HMAC-SHA1 remains a sound MAC; SHA-1's collision weakness does not apply to HMAC.
 *
 * @module
 */
import { asBufferSource, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';

/**
 * HMAC-SHA1 of `data` under `key`.
 *
 * @param key - the MAC key (not retained)
 * @param data - the message
 * @returns the 20-byte MAC
 * @throws EnsealError `ERR_UNSUPPORTED` when the runtime has no `crypto.subtle`
 * @example
 * ```ts
 * const mac = await hmacSha1(utf8('testsecret&'), utf8(stringToSign));
 * ```
 */
export async function hmacSha1(key: Uint8Array, data: Uint8Array): Promise<Bytes> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (typeof subtle?.sign !== 'function') throw new EnsealError('ERR_UNSUPPORTED', 'HMAC-SHA1 needs crypto.subtle (WebCrypto)');
  const k = await subtle.importKey('raw', asBufferSource(key), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  return new Uint8Array(await subtle.sign('HMAC', k, asBufferSource(data)));
}
