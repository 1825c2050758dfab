/**
 * User-metadata rules shared by the adapters (contract in `./store.ts`). Metadata travels as
 * HTTP headers (`x-amz-meta-*`, `x-oss-meta-*`), so it is checked before any request:
 *
 * - names are lower-case HTTP tokens (RFC 9110 §5.6.2) without a store prefix: the SDKs present
 *   them lower-cased and unprefixed, so anything else would not round-trip;
 * - values are printable US-ASCII (0x20–0x7E) without leading or trailing white space: CR/LF
 *   would split headers, S3 and OSS do not round-trip non-ASCII, and HTTP trims white space;
 * - the total (UTF-8 bytes of every name plus value) is bounded by the store (S3: 2 KiB,
 *   OSS: 8 KiB).
 *
 * Refusals are `TypeError`s that name the offending entry, escaped with {@link escapeControl}.
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import type { ObjectMetadata } from './store.js';

/** S3's limit on user metadata (names plus values, bytes). */
export const S3_MAX_METADATA_BYTES = 2048;
/** Alibaba OSS's limit on user metadata (names plus values, bytes). */
export const OSS_MAX_METADATA_BYTES = 8192;
/** Store prefixes a metadata name must not carry. */
export const METADATA_PREFIXES: readonly string[] = ['x-amz-meta-', 'x-oss-meta-'];

const TOKEN = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const VALUE = /^[\x20-\x7e]*$/;

/**
 * Validates user metadata and returns a copy (read once: later changes by the caller do not
 * affect what is sent).
 *
 * @param metadata - `undefined` or a plain object of string values
 * @param maxBytes - the store's limit (names plus values, bytes)
 * @returns a fresh plain object (empty for `undefined`)
 * @throws TypeError when it is not a plain object, a name is not a lower-case token or carries a
 *   store prefix, a value is not a string of printable ASCII without surrounding white space,
 *   or the total exceeds `maxBytes`
 * @example
 * ```ts
 * checkMetadata({ 'client-side-encryption-key': 'AAAA' }, 2048); // copy
 * checkMetadata({ note: 'a\r\nx-evil: 1' }, 2048); // throws TypeError
 * ```
 */
export function checkMetadata(metadata: unknown, maxBytes: number): ObjectMetadata {
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new TypeError('"metadata" expected a plain object of strings');
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let total = 0;
  let count = 0;
  for (const [name, value] of Object.entries(metadata as Record<string, unknown>)) {
    if (++count > 1000) throw new TypeError('"metadata" expected at most 1000 entries');
    if (!TOKEN.test(name)) throw new TypeError(`metadata name "${escapeControl(name, 64)}" expected a lower-case HTTP token (a-z 0-9 ! # $ % & ' * + . ^ _ \` | ~ -)`);
    const prefix = METADATA_PREFIXES.find((p) => name.startsWith(p));
    if (prefix !== undefined) throw new TypeError(`metadata name "${escapeControl(name, 64)}" must not carry the store prefix "${prefix}" (give the name without it)`);
    if (typeof value !== 'string') throw new TypeError(`metadata "${name}" expected a string value, got ${typeof value}`);
    if (!VALUE.test(value)) {
      throw new TypeError(`metadata "${name}" value "${escapeControl(value, 64)}" is not a valid header value: printable US-ASCII only (no CR, LF, control or non-ASCII characters)`);
    }
    if (value.trim() !== value) throw new TypeError(`metadata "${name}" value must not begin or end with white space (HTTP trims it)`);
    total += name.length + value.length;
    out[name] = value;
  }
  if (total > maxBytes) throw new TypeError(`"metadata" is ${total} bytes (names plus values), over the store's limit of ${maxBytes}`);
  return { ...out };
}

/**
 * User metadata from response headers: the entries whose name starts with `prefix`, with the
 * prefix removed and the name lower-cased.
 *
 * @param headers - response headers (a `Headers`, or a record as Node and the SDKs give them)
 * @param prefix - `x-amz-meta-` or `x-oss-meta-`
 * @returns the metadata
 * @example
 * ```ts
 * metadataFromHeaders(new Headers({ 'x-oss-meta-a': '1' }), 'x-oss-meta-'); // { a: '1' }
 * ```
 */
export function metadataFromHeaders(headers: Headers | Readonly<Record<string, unknown>>, prefix: string): ObjectMetadata {
  const out: Record<string, string> = {};
  const entries: Iterable<[string, unknown]> = headers instanceof Headers ? headers.entries() : Object.entries(headers);
  for (const [k, v] of entries) {
    const name = k.toLowerCase();
    if (name.startsWith(prefix) && name.length > prefix.length) out[name.slice(prefix.length)] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/**
 * Lower-cases the names of metadata an SDK returned (they usually are already).
 *
 * @param metadata - the SDK's metadata object, or `undefined`/`null`
 * @returns a fresh object with lower-case names and string values
 * @example
 * ```ts
 * normaliseMetadata({ Note: 'x' }); // { note: 'x' }
 * ```
 */
export function normaliseMetadata(metadata: Readonly<Record<string, unknown>> | null | undefined): ObjectMetadata {
  const out: Record<string, string> = {};
  if (metadata === null || metadata === undefined) return out;
  for (const [k, v] of Object.entries(metadata)) out[k.toLowerCase()] = String(v);
  return out;
}
