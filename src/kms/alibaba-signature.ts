/**
 * Alibaba Cloud's RPC request signature (signature method V2: SignatureMethod `HMAC-SHA1`,
 * SignatureVersion `1.0`), as in Alibaba Cloud's "Request syntax and signature method V2 for
 * RPC APIs". Checked against the published DescribeRegions example
 * (`test/vectors/alibaba-signature.json`).
 *
 * ```
 * CanonicalizedQuery = every parameter except Signature, each name and value RFC 3986
 *                      percent-encoded (space → %20, * → %2A, ~ kept), joined as name=value,
 *                      sorted by encoded name, joined by &
 * StringToSign       = HTTPMethod "&" percentEncode("/") "&" percentEncode(CanonicalizedQuery)
 * Signature          = base64(HMAC-SHA1(AccessKeySecret "&", StringToSign))
 * ```
 *
 * @module
 */
import { utf8, wipe, toBase64 } from '../bytes.js';
import { percentEncode } from './encoding.js';

import { hmacSha1 } from './hmac-sha1.js';

/** The parts of a signed Alibaba Cloud RPC request. */
export interface AlibabaSignature {
  /** The canonicalized query string (also the form body to send, before `Signature`). */
  readonly canonicalQuery: string;
  /** The string to sign. */
  readonly stringToSign: string;
  /** The base64 signature (the `Signature` parameter). */
  readonly signature: string;
}

/**
 * The canonicalized query of a parameter map (see the module comment).
 * @param params - request parameters (`Signature` is skipped)
 * @returns `name=value&…`, percent-encoded and sorted
 * @example
 * ```ts
 * canonicalizeRpcQuery({ b: 'x y', a: '1' }); // "a=1&b=x%20y"
 * ```
 */
export function canonicalizeRpcQuery(params: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(params)
    .filter(([k]) => k !== 'Signature')
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * Signs Alibaba Cloud RPC parameters.
 *
 * @param method - `GET` or `POST` (the method the request is sent with)
 * @param params - every request parameter, common ones included
 * @param accessKeySecret - the AccessKey secret (never put in errors)
 * @returns the canonical query, string to sign and signature
 * @throws TypeError for an empty secret or a non-string parameter
 * @example
 * ```ts
 * const { signature, canonicalQuery } = await signAlibabaRpc('POST', params, secret);
 * const body = `${canonicalQuery}&Signature=${percentEncode(signature)}`;
 * ```
 */
export async function signAlibabaRpc(method: 'GET' | 'POST', params: Readonly<Record<string, string>>, accessKeySecret: string): Promise<AlibabaSignature> {
  if (typeof accessKeySecret !== 'string' || accessKeySecret === '') throw new TypeError('"accessKeySecret" expected a non-empty string');
  for (const [k, v] of Object.entries(params)) if (typeof v !== 'string') throw new TypeError(`parameter "${k}" expected a string`);
  const canonicalQuery = canonicalizeRpcQuery(params);
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonicalQuery)}`;
  const key = utf8(`${accessKeySecret}&`);
  try {
    return { canonicalQuery, stringToSign, signature: toBase64(await hmacSha1(key, utf8(stringToSign))) };
  } finally {
    wipe(key);
  }
}
