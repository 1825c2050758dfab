/**
 * The metadata an encrypting bucket stores beside each object (docs/FORMAT.md §"Object
 * storage"). Everything here is a **hint**: metadata is not authenticated, may be lost by a
 * copy, and is never used to decide anything about security. Readers take sizes and keys from
 * the authenticated object and check the hints against it.
 *
 * ```
 * enseal-format          "1"                       the object body is an enseal v1 object
 * enseal-plaintext-size  decimal                   plaintext bytes (lets headObject skip a GET)
 * enseal-header-length   decimal                   body header bytes (sizes the first ranged GET)
 * enseal-header          base64 (RFC 4648 §4)      a rewrapped header, see {@link METADATA_HEADER}
 * ```
 *
 * @module
 */
import { escapeControl, fromBase64, toBase64 } from '../bytes.js';
import { MAX_HEADER_LENGTH } from '../format/limits.js';
import type { ObjectMetadata } from './store.js';

/** Metadata names starting with this prefix are reserved for the bucket. */
export const RESERVED_PREFIX = 'enseal-';
/** Marker: the body is an enseal object of this format version. */
export const METADATA_FORMAT = 'enseal-format';
/** Marker: plaintext size in bytes (a hint). */
export const METADATA_PLAINTEXT_SIZE = 'enseal-plaintext-size';
/** Marker: length of the header at the start of the body (a hint). */
export const METADATA_HEADER_LENGTH = 'enseal-header-length';
/**
 * A header that replaces the body's after a server-side rewrap. Trusted only when its MAC
 * verifies under the data key it unwraps to, its bound part equals the body header's, and the
 * payload's key commitment then verifies.
 */
export const METADATA_HEADER = 'enseal-header';
/** The format version written in {@link METADATA_FORMAT}. */
export const FORMAT_VERSION = '1';

const TOKEN = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const HEADER_VALUE = /^[\x20-\x7e]*$/;

/** The hints read back from metadata; each is `undefined` when absent or malformed. */
export interface Marker {
  readonly format?: string;
  readonly plaintextSize?: number;
  readonly headerLength?: number;
  /** The rewrapped header bytes, decoded from base64 (not yet verified in any way). */
  readonly header?: Uint8Array;
}

/**
 * Validates user metadata for an encrypted object: lower-case token names outside the reserved
 * `enseal-` prefix, printable-ASCII values without surrounding whitespace.
 * @param md - user metadata or `undefined`
 * @returns a copy
 * @throws TypeError naming the offending entry
 * @example
 * ```ts
 * checkUserMetadata({ owner: 'ana' }); // { owner: 'ana' }
 * checkUserMetadata({ 'enseal-x': '1' }); // throws TypeError
 * ```
 */
export function checkUserMetadata(md: unknown): Record<string, string> {
  if (md === undefined) return {};
  if (typeof md !== 'object' || md === null || Array.isArray(md)) throw new TypeError('"metadata" expected a plain object of strings');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(md as Record<string, unknown>)) {
    if (!TOKEN.test(name)) throw new TypeError(`metadata name "${escapeControl(name, 64)}" expected a lower-case HTTP token`);
    if (name.startsWith(RESERVED_PREFIX)) throw new TypeError(`metadata name "${name}" uses the reserved "${RESERVED_PREFIX}" prefix`);
    if (typeof value !== 'string') throw new TypeError(`metadata "${name}" expected a string value`);
    if (!HEADER_VALUE.test(value) || value.trim() !== value) {
      throw new TypeError(`metadata "${name}" expected printable ASCII without surrounding whitespace`);
    }
    out[name] = value;
  }
  return out;
}

/**
 * The metadata written with an object: the user's entries plus the marker.
 * @param user - validated user metadata
 * @param plaintextSize - plaintext bytes, when known before the upload
 * @param headerLength - body header bytes
 * @param header - a rewrapped header to carry, if any
 * @param prefix - the reserved prefix of the names (default `enseal-`)
 * @returns the metadata map
 * @example
 * ```ts
 * withMarker({ a: '1' }, 5, 120); // { a: '1', 'enseal-format': '1', 'enseal-header-length': '120', 'enseal-plaintext-size': '5' }
 * ```
 */
export function withMarker(user: ObjectMetadata, plaintextSize: number | undefined, headerLength: number, header?: Uint8Array, prefix = RESERVED_PREFIX): ObjectMetadata {
  const md: Record<string, string> = { ...user, [`${prefix}format`]: FORMAT_VERSION, [`${prefix}header-length`]: String(headerLength) };
  if (plaintextSize !== undefined) md[`${prefix}plaintext-size`] = String(plaintextSize);
  if (header !== undefined) md[`${prefix}header`] = toBase64(header);
  return md;
}

/**
 * The user's part of stored metadata (reserved names removed).
 * @param md - stored metadata
 * @param prefix - the reserved prefix (default `enseal-`; the at-rest layer uses its own)
 * @returns the other entries
 * @example
 * ```ts
 * userMetadata({ a: '1', 'enseal-format': '1' }); // { a: '1' }
 * ```
 */
export function userMetadata(md: ObjectMetadata, prefix = RESERVED_PREFIX): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md)) if (!k.startsWith(prefix)) out[k] = v;
  return out;
}

function decimal(v: string | undefined, max: number): number | undefined {
  if (v === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n <= max ? n : undefined;
}

/**
 * Reads the marker hints; malformed entries read as absent (they are hints, never errors).
 * @param md - stored metadata
 * @param prefix - the reserved prefix of the names (default `enseal-`)
 * @returns the hints
 * @example
 * ```ts
 * readMarker({ 'enseal-header-length': '120' }).headerLength; // 120
 * ```
 */
export function readMarker(md: ObjectMetadata, prefix = RESERVED_PREFIX): Marker {
  const out: { format?: string; plaintextSize?: number; headerLength?: number; header?: Uint8Array } = {};
  const get = (name: string): string | undefined => (Object.hasOwn(md, `${prefix}${name}`) ? md[`${prefix}${name}`] : undefined);
  const format = get('format');
  if (format !== undefined) out.format = format;
  const size = decimal(get('plaintext-size'), Number.MAX_SAFE_INTEGER);
  if (size !== undefined) out.plaintextSize = size;
  const hl = decimal(get('header-length'), MAX_HEADER_LENGTH);
  if (hl !== undefined) out.headerLength = hl;
  const h = get('header');
  // Bounded before decoding: a header is at most 64 KiB.
  if (h !== undefined && h.length <= Math.ceil(MAX_HEADER_LENGTH / 3) * 4) {
    try {
      out.header = fromBase64(h);
    } catch {
      // malformed: ignored like every other hint
    }
  }
  return out;
}

/**
 * UTF-8 bytes of names plus values, as S3 and OSS count their user-metadata limits.
 * @param md - metadata (ASCII, checked)
 * @returns bytes
 * @example
 * ```ts
 * metadataBytes({ ab: 'cd' }); // 4
 * ```
 */
export function metadataBytes(md: ObjectMetadata): number {
  let n = 0;
  for (const [k, v] of Object.entries(md)) n += k.length + v.length; // ASCII only (checked)
  return n;
}
