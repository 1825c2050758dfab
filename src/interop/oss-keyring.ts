/**
 * How OSS objects meet enseal's key providers (docs/INTEROP.md §OSS.3). An OSS object stores one
 * wrapped content key and one wrapped IV ("start"), both wrapped by the same master key with the
 * same algorithm, and no key id: the SDKs pick the master key by the material description
 * (matdesc) or take the only one they have. enseal's `rsaKey`/`kms` providers cannot do this
 * (they unwrap 32-byte data keys of enseal stanzas only, and bind the enseal header), so the
 * interop layer adds a second face to a provider: an {@link OssKeyring}. The factories
 * `ossRsaKey` and `ossKmsKey` return objects that are **both** a `KeyProvider` (delegating to an
 * inner `rsaKey`/`kms` for enseal objects) and an `OssKeyring`, so one `keys` list serves the
 * encrypting bucket for both formats.
 *
 * **Selection (as the SDKs match matdesc).** A keyring claims an object with `'match'` when it
 * was configured with a matdesc equal to the object's (as parsed maps, like the Python and Java
 * SDKs; key order and spacing do not matter), `'fallback'` when it was configured without one
 * (like the Java SDK's "last key pair" fallback), or `null` (not its wrap algorithm, a wrapped
 * value of the wrong size for its RSA modulus, or another matdesc). Matches are tried first, then
 * fallbacks, each group in the caller's order. An unwrap that throws (RSA-OAEP of another key, a
 * KMS denial) moves on to the next keyring; the first that returns wins. With PKCS#1 v1.5 a wrong
 * key does **not** throw (implicit rejection: a synthetic key, no padding oracle), so the first
 * claiming PKCS#1 keyring decides: give each RSA key a matdesc when several may apply.
 *
 * @module
 */
import { escapeControl, wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { EnsealError } from '../errors.js';
import { counterFromDecimal } from './oss-counter.js';
import type { OssObjectDescription, OssWrapAlgorithm } from './oss-metadata.js';

/** How a keyring claims an object: preferred, acceptable, or not at all. */
export type OssClaim = 'match' | 'fallback' | null;

/** What a keyring wraps for a new object. */
export interface OssWrapped {
  /** The algorithm used. */
  readonly wrapAlgorithm: OssWrapAlgorithm;
  /** Stored base64-encoded in `client-side-encryption-key`. */
  readonly wrappedKey: Bytes;
  /** Stored base64-encoded in `client-side-encryption-start`. */
  readonly wrappedStart: Bytes;
  /** The keyring's matdesc, written with the object. */
  readonly matdesc: Readonly<Record<string, string>> | undefined;
}

/** The raw results of unwrapping an OSS object's key and start. */
export interface OssUnwrapped {
  /** The content key (should be 32 bytes; checked by the caller). */
  readonly key: Bytes;
  /** The unwrapped start: the 16-byte IV, or the legacy decimal counter's ASCII digits. */
  readonly start: Bytes;
}

/**
 * The OSS face of a key provider. Implemented by `ossRsaKey` and `ossKmsKey`; a custom
 * implementation must follow the same contract (never throw on a PKCS#1 v1.5 padding error).
 */
export interface OssKeyring {
  /** Non-secret label for errors. */
  readonly description: string;
  /**
   * Whether this keyring is for the object.
   * @param desc - the decoded (unauthenticated) metadata
   * @param backend - the backend of the call
   */
  ossClaim(desc: OssObjectDescription, backend: CryptoBackend): Promise<OssClaim>;
  /**
   * Unwraps the content key and start of an object this keyring claimed.
   * @throws when it cannot (wrong RSA-OAEP key: `ERR_AUTH`; KMS failures; `ERR_UNSUPPORTED`)
   */
  ossUnwrap(desc: OssObjectDescription, backend: CryptoBackend): Promise<OssUnwrapped>;
  /**
   * Wraps a new content key and IV for the current format.
   * @param key - the 32-byte content key (not retained)
   * @param iv - the 16-byte IV (not retained)
   */
  ossWrap(key: Uint8Array, iv: Uint8Array, backend: CryptoBackend): Promise<OssWrapped>;
}

/**
 * True for an object with the {@link OssKeyring} methods.
 * @param v - anything (e.g. an entry of a bucket's `keys`)
 * @returns whether it can unwrap or wrap OSS objects
 * @example
 * ```ts
 * const rings = keys.filter(isOssKeyring);
 * ```
 */
export function isOssKeyring(v: unknown): v is OssKeyring {
  const o = v as Partial<OssKeyring> | null;
  return typeof o === 'object' && o !== null && typeof o.ossClaim === 'function' && typeof o.ossUnwrap === 'function' && typeof o.ossWrap === 'function';
}

/**
 * Compares two matdesc maps as the Python and Java SDKs do (same entries, any order).
 * @param a - a map or undefined
 * @param b - a map or undefined (undefined and `{}` are the same: the SDKs omit an empty matdesc)
 * @returns whether they are equal
 * @example
 * ```ts
 * sameMatdesc({ a: '1', b: '2' }, { b: '2', a: '1' }); // true
 * ```
 */
export function sameMatdesc(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const x = Object.entries(a ?? {});
  const y = b ?? {};
  if (x.length !== Object.keys(y).length) return false;
  return x.every(([k, v]) => Object.hasOwn(y, k) && y[k] === v);
}

/**
 * The claim of a keyring configured with `own` matdesc for an object with `desc.matdesc`.
 * @param own - the keyring's matdesc, or undefined (then it is a fallback for any object)
 * @param desc - the object's description
 * @returns `'match'`, `'fallback'` or `null`
 */
export function matdescClaim(own: Readonly<Record<string, string>> | undefined, desc: OssObjectDescription): OssClaim {
  if (own === undefined) return 'fallback';
  return sameMatdesc(own, desc.matdesc) ? 'match' : null;
}

/** The content key and the initial counter block of an object (the caller wipes both). */
export interface OssContentKey {
  /** The 32-byte AES-256 content key. */
  readonly key: Bytes;
  /** The 16-byte initial counter block. */
  readonly iv: Bytes;
}

const unwrapFailure = (what: string): EnsealError => new EnsealError('ERR_AUTH', `the OSS ${what} failed to unwrap (wrong key, or modified metadata)`);

/**
 * Finds a keyring among `keys` that unwraps the object's content key and IV (order and rules in
 * the module comment).
 *
 * @param keys - the caller's providers; entries that are not {@link OssKeyring}s are ignored
 * @param desc - the decoded metadata
 * @param backend - the backend of the call
 * @returns the content key and the initial counter block (the caller wipes them)
 * @throws EnsealError `ERR_NO_KEY` whose `errors` hold every keyring's cause, when none unwraps
 * @example
 * ```ts
 * const { key, iv } = await unwrapOssContentKey(opts.keys, decodeOssMetadata(info.metadata)!, backend);
 * ```
 */
export async function unwrapOssContentKey(keys: readonly unknown[], desc: OssObjectDescription, backend: CryptoBackend): Promise<OssContentKey> {
  const rings = [...keys].filter(isOssKeyring);
  const errors: unknown[] = [];
  const matches: OssKeyring[] = [];
  const fallbacks: OssKeyring[] = [];
  for (const ring of rings) {
    try {
      const claim = await ring.ossClaim(desc, backend);
      if (claim === 'match') matches.push(ring);
      else if (claim === 'fallback') fallbacks.push(ring);
    } catch (e) {
      errors.push(e);
    }
  }
  for (const ring of [...matches, ...fallbacks]) {
    let got: OssUnwrapped;
    try {
      got = await ring.ossUnwrap(desc, backend);
    } catch (e) {
      errors.push(e);
      continue;
    }
    const { key, start } = got;
    if (!(key instanceof Uint8Array) || key.length !== 32) {
      wipe(key, start);
      errors.push(unwrapFailure('content key'));
      continue;
    }
    const iv = desc.startEncoding === 'iv' ? (start instanceof Uint8Array && start.length === 16 ? start : undefined) : counterFromDecimal(start);
    if (iv === undefined) {
      wipe(key, start);
      errors.push(unwrapFailure('start (initial counter)'));
      continue;
    }
    if (iv !== start) wipe(start);
    return { key, iv };
  }
  const names = rings.map((r) => escapeControl(typeof r.description === 'string' ? r.description : 'keyring', 80)).slice(0, 8).join(', ');
  throw new EnsealError(
    'ERR_NO_KEY',
    `no key could unwrap the OSS content key (${desc.wrapAlgorithm}${desc.matdescText === undefined ? '' : `, matdesc ${escapeControl(desc.matdescText, 120)}`}): ` +
      (rings.length === 0 ? 'no OSS key given (use ossRsaKey or ossKmsKey from enseal/interop)' : `${errors.length} error(s); keys tried: ${names}`),
    { errors },
  );
}
