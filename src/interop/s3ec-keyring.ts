/**
 * How S3EC objects meet enseal's key providers (docs/INTEROP.md S3EC.2). An S3EC object stores
 * one encrypted data key (EDK), its wrap algorithm and a material description (raw keyrings) or
 * KMS encryption context, and no key id. enseal's `aesKey`/`rsaKey`/`kms` providers cannot read
 * these (they unwrap enseal stanzas bound to an enseal header, and never expose their key
 * material), so the interop layer adds a second face to a provider: an {@link S3ecKeyring}.
 * The factories `s3ecAesKey`, `s3ecRsaKey` and `s3ecKmsKey` return objects that are **both** an
 * ordinary enseal `KeyProvider` (delegating to an inner `aesKey`/`rsaKey`/`kms`, for enseal
 * objects) and an `S3ecKeyring`, holding their own copy of the key material (wiped by
 * `dispose()`); no raw key is reachable through either face. One `keys` list therefore serves
 * the encrypting bucket for enseal, OSS and S3EC objects alike.
 *
 * **Selection.** A keyring claims an object when the object's wrap algorithm is one it handles
 * and, for raw (AES, RSA) keyrings configured with a `matdesc`, the object's material
 * description equals it (as maps). Claiming keyrings are tried in the caller's order; one that
 * throws (GCM or OAEP failure of another key, a KMS denial) moves on to the next; the first data
 * key returned wins. Every wrap checked here is authenticated (AES-GCM, RSA-OAEP with the pseudo
 * data key's suffix, RFC 3394's integrity value, KMS), so a wrong key throws instead of
 * returning garbage. Nothing claims → `ERR_NO_KEY` with every cause in `errors`.
 *
 * @module
 */
import { escapeControl, wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { EnsealError } from '../errors.js';
import { S3EC_CEK_COMMIT, S3EC_CEK_GCM, S3EC_MAX_MATDESC_ENTRIES, S3EC_RESERVED_CONTEXT_KEY, type S3ecObjectDescription, type S3ecWrapAlgorithm } from './s3ec-metadata.js';

/** What a keyring learns when it wraps a new object's data key. */
export interface S3ecWrapRequest {
  /** Format version being written. */
  readonly version: 2 | 3;
  /** The caller's KMS encryption context (kms keyrings only; the reserved entry is added). */
  readonly context?: Readonly<Record<string, string>>;
}

/** What a keyring produces for a new object. */
export interface S3ecWrapped {
  /** The wrap algorithm written. */
  readonly wrapAlgorithm: 'kms+context' | 'AES/GCM' | 'RSA-OAEP-SHA1';
  /** The encrypted data key. */
  readonly encryptedDataKey: Bytes;
  /** What to store as material description (raw keyrings) or encryption context (KMS, reserved entry included). */
  readonly matdesc: Readonly<Record<string, string>>;
}

/**
 * The S3EC face of a key provider. Implemented by `s3ecAesKey`, `s3ecRsaKey`, `s3ecKmsKey`.
 */
export interface S3ecKeyring {
  /** Non-secret label for errors. */
  readonly description: string;
  /**
   * Whether this keyring is for the object (public facts only: wrap algorithm, matdesc).
   * @param desc - the decoded (unauthenticated) metadata
   */
  s3ecClaim(desc: S3ecObjectDescription): boolean;
  /**
   * Unwraps the data key of an object this keyring claimed.
   * @returns the 32-byte data key (the caller wipes it)
   * @throws when it cannot (`ERR_AUTH` for a wrong key or modified EDK, KMS errors, `ERR_UNSUPPORTED`)
   */
  s3ecUnwrap(desc: S3ecObjectDescription, backend: CryptoBackend): Promise<Bytes>;
  /**
   * Wraps a new data key.
   * @param dataKey - 32 bytes (not retained)
   */
  s3ecWrap(dataKey: Uint8Array, req: S3ecWrapRequest, backend: CryptoBackend): Promise<S3ecWrapped>;
}

/**
 * True for an object with the {@link S3ecKeyring} methods.
 * @param v - anything (e.g. an entry of a bucket's `keys`)
 * @returns whether it can unwrap or wrap S3EC objects
 * @example
 * ```ts
 * const rings = keys.filter(isS3ecKeyring);
 * ```
 */
export function isS3ecKeyring(v: unknown): v is S3ecKeyring {
  const o = v as Partial<S3ecKeyring> | null;
  return typeof o === 'object' && o !== null && typeof o.s3ecClaim === 'function' && typeof o.s3ecUnwrap === 'function' && typeof o.s3ecWrap === 'function';
}

/**
 * The content-algorithm string S3EC binds into key wraps (AES/GCM AAD, RSA pseudo data key
 * suffix, the reserved KMS context entry): `AES/GCM/NoPadding` for V1/V2, `115` for V3.
 * @param version - the object's format version
 * @returns the string
 * @example
 * ```ts
 * s3ecBoundAlgorithm(3); // "115"
 * ```
 */
export function s3ecBoundAlgorithm(version: 1 | 2 | 3): string {
  return version === 3 ? S3EC_CEK_COMMIT : S3EC_CEK_GCM;
}

/**
 * Checks a material description or encryption context given as an option.
 * @param v - the option
 * @param name - its name, for messages
 * @param reservedAllowed - whether `aws:x-amz-cek-alg` may appear
 * @returns a frozen copy, or undefined
 * @throws TypeError for anything but a plain object of strings, or the reserved key; RangeError for too many entries
 * @example
 * ```ts
 * checkS3ecMap({ team: 'ops' }, 'context'); // { team: 'ops' }
 * ```
 */
export function checkS3ecMap(v: unknown, name: string, reservedAllowed = false): Readonly<Record<string, string>> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`"${name}" expected a plain object of strings`);
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length >= S3EC_MAX_MATDESC_ENTRIES) throw new RangeError(`"${name}" expected fewer than ${S3EC_MAX_MATDESC_ENTRIES} entries, got ${entries.length}`);
  for (const [k, x] of entries) {
    if (typeof x !== 'string') throw new TypeError(`"${name}.${escapeControl(k, 64)}" expected a string`);
    if (!reservedAllowed && k === S3EC_RESERVED_CONTEXT_KEY) throw new TypeError(`"${name}" must not hold the reserved key "${S3EC_RESERVED_CONTEXT_KEY}" (S3EC adds it)`);
  }
  return Object.freeze(Object.fromEntries(entries) as Record<string, string>);
}

/**
 * Whether two maps have the same entries (any order).
 * @param a - a map
 * @param b - a map
 * @returns equality as maps
 * @example
 * ```ts
 * sameS3ecMap({ a: '1', b: '2' }, { b: '2', a: '1' }); // true
 * ```
 */
export function sameS3ecMap(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const x = Object.entries(a);
  return x.length === Object.keys(b).length && x.every(([k, v]) => Object.hasOwn(b, k) && b[k] === v);
}

/** Wrap algorithms an AES keyring handles. */
export const S3EC_AES_WRAPS: ReadonlySet<S3ecWrapAlgorithm> = new Set(['AES/GCM', 'AESWrap']);
/** Wrap algorithms an RSA keyring handles. */
export const S3EC_RSA_WRAPS: ReadonlySet<S3ecWrapAlgorithm> = new Set(['RSA-OAEP-SHA1', 'RSA/ECB/OAEPWithSHA-256AndMGF1Padding']);
/** Wrap algorithms a KMS keyring handles. */
export const S3EC_KMS_WRAPS: ReadonlySet<S3ecWrapAlgorithm> = new Set(['kms+context', 'kms']);

/**
 * Finds a keyring among `keys` that unwraps the object's data key (rules in the module comment).
 *
 * @param keys - the caller's providers; entries that are not {@link S3ecKeyring}s are ignored
 * @param desc - the decoded metadata
 * @param backend - the backend of the call
 * @returns the 32-byte data key (the caller wipes it)
 * @throws EnsealError `ERR_NO_KEY` whose `errors` hold every keyring's cause, when none unwraps
 * @example
 * ```ts
 * const dataKey = await unwrapS3ecDataKey(opts.keys, desc, backend);
 * ```
 */
export async function unwrapS3ecDataKey(keys: readonly unknown[], desc: S3ecObjectDescription, backend: CryptoBackend): Promise<Bytes> {
  const rings = [...keys].filter(isS3ecKeyring);
  const errors: unknown[] = [];
  for (const ring of rings) {
    let claimed: boolean;
    try {
      claimed = ring.s3ecClaim(desc) === true;
    } catch (e) {
      errors.push(e);
      continue;
    }
    if (!claimed) continue;
    let key: Uint8Array;
    try {
      key = await ring.s3ecUnwrap(desc, backend);
    } catch (e) {
      errors.push(e);
      continue;
    }
    if (!(key instanceof Uint8Array) || key.length !== 32) {
      if (key instanceof Uint8Array) wipe(key);
      errors.push(new EnsealError('ERR_AUTH', 'an S3EC keyring returned a data key that is not 32 bytes'));
      continue;
    }
    // Our own plain copy (a keyring may return a Node Buffer, a view of a shared pool).
    const own = new Uint8Array(key);
    wipe(key);
    return own;
  }
  const names = rings.map((r) => escapeControl(typeof r.description === 'string' ? r.description : 'keyring', 80)).slice(0, 8).join(', ');
  throw new EnsealError(
    'ERR_NO_KEY',
    `no key could unwrap the S3EC data key (V${desc.version}, ${desc.wrapAlgorithm}): ` +
      (rings.length === 0 ? 'no S3EC key given (use s3ecAesKey, s3ecRsaKey or s3ecKmsKey from enseal/interop)' : `${errors.length} error(s); keys tried: ${names}`),
    { errors },
  );
}
